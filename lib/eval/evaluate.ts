/**
 * `evaluate(model, binFiles)`: the verification protocol (docs/evaluation.md) on
 * insightface `.bin` pair sets: decode every image (natively, off the JS thread), embed the image
 * and its mirror in eval mode, then {@link verification.evaluate} on the raw embeddings with the
 * flip sum, L2 normalisation, 10 folds, TAR@FAR and ROC.
 */
import { basename, extname } from 'node:path';
import { readBin } from '../data/bin.js';
import { cat } from '../tensor/creation.js';
import type { Device } from '../tensor/device.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { thresholdFromDistance, type ModelCard } from '../io/model-card.js';
import { loadBatch, type FaceImage } from './images.js';
import { cardForSpec, FaceModel, type EmbeddingNet } from './model.js';
import { evaluate as verify, type VerificationResult } from './verification.js';
import { formatFixed } from './numpy-compat.js';
import { checkInt } from '../check.js';

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Images per forward pass (default 64). */
  batchSize?: number;
  /** Number of folds (default 10). */
  folds?: number;
  /** Decoder threads (default 2). */
  threads?: number;
  /** Progress callback per batch: set name, images done, images in the set. */
  onProgress?: (set: string, done: number, total: number) => void;
}

/** The result of one verification set. */
export interface SetResult {
  /** Set name (the file name without `.bin`, e.g. "lfw", "cfp_fp"). */
  name: string;
  path: string;
  /** Number of pairs. */
  pairs: number;
  result: VerificationResult;
  /** Seconds spent on the set (embedding and the folds). */
  seconds: number;
}

/** A backbone for evaluation: a {@link FaceModel} or a bare backbone (e.g. during training). */
export type EvaluableModel = FaceModel | EmbeddingNet;

/** `m` itself, or a bare backbone as a model with the default card of its spec. */
function asFaceModel(m: EvaluableModel): FaceModel {
  if (m instanceof FaceModel) return m;
  // a bare backbone runs where its weights are (e.g. on the GPU during training)
  const device = (m.parameters()[0]?.device ?? 'cpu') as Device;
  const card = cardForSpec(m.spec, '(in memory)');
  return new FaceModel(m, card, device);
}

/**
 * Raw embeddings of images and of their mirrors, CPU float32 [N, E] each, batched; the next batch
 * is decoded while the current one runs forward.
 */
export async function embedWithFlip(model: FaceModel, images: readonly FaceImage[], options: EvaluateOptions & { label?: string } = {}): Promise<{ plain: Tensor; flipped: Tensor }> {
  const bs = checkInt('evaluate: batchSize', options.batchSize ?? 64, 1);
  const input = { size: model.card.input.size, colorOrder: model.card.input.colorOrder, mean: model.card.input.mean, std: model.card.input.std };
  const load = (s: number): Promise<Tensor> => loadBatch(images.slice(s, s + bs), input, { device: model.device, threads: options.threads });
  const plain: Tensor[] = [];
  const flipped: Tensor[] = [];
  let next: Promise<Tensor> | undefined;
  try {
    next = load(0);
    for (let s = 0; s < images.length; s += bs) {
      const x = await next!;
      next = s + bs < images.length ? load(s + bs) : undefined;
      next?.catch(() => undefined);
      try {
        for (const [which, into] of [['plain', plain], ['flipped', flipped]] as const) {
          const e = await model.forwardAsync(x, which);
          try {
            into.push(scope(() => e.to({ device: 'cpu', dtype: 'float32', copy: true })));
          } finally {
            e.dispose();
          }
        }
      } finally {
        x.dispose();
      }
      options.onProgress?.(options.label ?? '', Math.min(s + bs, images.length), images.length);
    }
    return scope(() => ({ plain: cat(plain, 0), flipped: cat(flipped, 0) }));
  } finally {
    next?.then((t) => t.dispose(), () => undefined); // decoded ahead for a loop that failed
    for (const t of [...plain, ...flipped]) t.dispose();
  }
}

/**
 * The verification protocol on images in pair order (2·i, 2·i + 1 is pair i): embeddings of the
 * images and their mirrors, then {@link verify} with the flip sum over `folds` folds. The caller
 * chooses the backbone's mode (eval for a real measurement).
 */
export async function verifyImages(
  model: EvaluableModel,
  images: readonly FaceImage[],
  issame: readonly boolean[],
  options: EvaluateOptions & { label?: string } = {},
): Promise<VerificationResult> {
  const emb = await embedWithFlip(asFaceModel(model), images, options);
  try {
    return verify(emb.plain, issame, { folds: options.folds ?? 10, flippedEmbeddings: emb.flipped });
  } finally {
    emb.plain.dispose();
    emb.flipped.dispose();
  }
}

/** The set name of a `.bin` path ("/data/cfp_fp.bin" → "cfp_fp"). */
export function setName(path: string): string {
  return basename(path, extname(path));
}

/**
 * Runs the verification protocol on each `.bin` set. The backbone is put in eval mode for the
 * run and returned to its previous mode after.
 * @example
 * const model = loadModel('runs/ecacface-ir50');
 * for (const r of await evaluate(model, ['lfw.bin', 'cfp_fp.bin'])) console.log(r.name, r.result.accuracy);
 */
export async function evaluate(model: EvaluableModel, binFiles: string | readonly string[], options: EvaluateOptions = {}): Promise<SetResult[]> {
  const files = typeof binFiles === 'string' ? [binFiles] : [...binFiles];
  if (files.length === 0) throw new RangeError('evaluate: no .bin files given');
  // the mode is read before wrapping: a FaceModel puts its backbone in eval mode when it is made
  const wasTraining = model instanceof FaceModel ? model.runtime === 'libtorch' && model.backbone.training : model.training;
  const fm = asFaceModel(model);
  // a libtorch backbone runs in eval mode here and goes back to its mode after (ONNX graphs are eval-mode)
  const net = fm.runtime === 'onnxruntime' ? null : fm.backbone;
  net?.eval();
  const out: SetResult[] = [];
  try {
    for (const path of files) {
      const name = setName(path);
      const set = readBin(path);
      const t0 = performance.now();
      try {
        const result = await verifyImages(fm, set.images, set.issame, { ...options, label: name });
        out.push({ name, path, pairs: set.issame.length, result, seconds: (performance.now() - t0) / 1000 });
      } catch (e) {
        throw new Error(`evaluate: ${path}: ${(e as Error).message}`);
      }
    }
  } finally {
    if (wasTraining) net?.train();
  }
  return out;
}

/**
 * The threshold to store in a model card: the mean best fold threshold of the set named
 * `preferred` (default "lfw") when present, else of the first set.
 */
export function calibratedThreshold(results: readonly SetResult[], preferred = 'lfw'): NonNullable<ModelCard['threshold']> {
  if (results.length === 0) throw new RangeError('calibratedThreshold: no results');
  const r = results.find((x) => x.name === preferred) ?? results[0]!;
  return thresholdFromDistance(r.result.bestThreshold, r.name);
}

/** Model card validation entries from evaluation results. */
export function validationEntries(results: readonly SetResult[]): ModelCard['validation'] {
  return results.map((r) => ({
    set: r.name,
    accuracy: r.result.accuracy,
    std: r.result.std,
    pairs: r.pairs,
    threshold: r.result.bestThreshold,
    tarAtFar1e3: r.result.tar.far1e3.tar,
  }));
}

/**
 * A plain-text table like the paper's Table 7: one row per set with accuracy ± std in percent
 * (2 decimals), insightface's `Accuracy-Flip` line (5 decimals), the mean threshold, TAR@FAR=1e-3
 * and XNorm; a last row with the mean accuracy over the sets.
 */
export function formatTable(results: readonly SetResult[]): string {
  const head = ['set', 'pairs', 'accuracy (%)', 'Accuracy-Flip', 'threshold', 'TAR@FAR=1e-3', 'XNorm'];
  const rows = results.map((r) => [
    r.name,
    String(r.pairs),
    `${formatFixed(r.result.accuracy * 100, 2)} ± ${formatFixed(r.result.std * 100, 2)}`,
    `${formatFixed(r.result.accuracy, 5)}+-${formatFixed(r.result.std, 5)}`,
    formatFixed(r.result.bestThreshold, 3),
    formatFixed(r.result.tar.far1e3.tar * 100, 2),
    formatFixed(r.result.xnorm, 3),
  ]);
  if (results.length > 1) {
    const mean = results.reduce((a, r) => a + r.result.accuracy, 0) / results.length;
    rows.push(['mean', '', formatFixed(mean * 100, 2), '', '', '', '']);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
