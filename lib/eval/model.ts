/**
 * Inference for Node services: a trained backbone with its model card.
 *
 * - {@link loadModel}: our export (a folder with `model.json` + `model.safetensors`, the card file,
 *   or a `.safetensors` whose metadata carries the card), or a PyTorch `torch.save` state dict of
 *   the CurricularFace/face.evoLVe IR layout together with its spec;
 * - {@link FaceModel.embed}: images → L2-normalised embeddings, batched; decoding runs on the
 *   addon's thread and overlaps the forward pass of the previous batch;
 * - {@link FaceModel.compare}: cosine similarity and a same/different verdict at the card's
 *   calibrated threshold;
 * - {@link exportModel}: weights + card, loadable by `load_state_dict` in PyTorch (same names).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { buildBackbone, type Backbone, type BackboneSpec } from '../models/index.js';
import { cat } from '../tensor/creation.js';
import { functional as F } from '../tensor/index.js';
import type { Device } from '../tensor/device.js';
import { noGrad } from '../tensor/runtime.js';
import { scope } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { DEFAULT_INPUT, MAX_CARD_BYTES, parseModelCard, readModelCard, writeModelCard, type ModelCard } from '../io/model-card.js';
import { extractStateDict, readTorchCheckpoint } from '../io/pytorch.js';
import { detectLayout, toOurNames } from '../io/layouts.js';
import { InsightfaceIResNet, inferIResNetSpec, parseIResNetSpec, type IResNetSpec } from '../models/insightface-iresnet.js';
import { loadSafetensors, readSafetensorsHeader, saveSafetensors, type SafetensorsHeader } from '../io/safetensors.js';
import { confinedPath } from '../io/confined-path.js';
import { assertRegularFile } from '../io/regular-file.js';
import { checkCardAgainstWeights } from './card-check.js';
import { loadBatch, type FaceImage } from './images.js';
import { FaceDetector, alignEach, faceProblems, type BatchOptions, type DetectOptions } from '../detect/detect.js';
import type { Photo } from '../detect/photos.js';
import type { AlignedFace } from './align.js';

/** A network that maps [N, 3, S, S] images to [N, E] embeddings: one of our backbones, or insightface's iresnet layout. */
export type EmbeddingNet = Backbone | InsightfaceIResNet;

/** Builds the network of a model card spec (our IR/MobileFaceNet specs, or `block: 'iresnet'`). */
export function buildNet(spec: unknown): EmbeddingNet {
  if (spec !== null && typeof spec === 'object' && (spec as { block?: unknown }).block === 'iresnet') return new InsightfaceIResNet(parseIResNetSpec(spec));
  return buildBackbone(spec);
}

/** Options of {@link FaceModel.embed}. */
export interface EmbedOptions {
  /** Images per forward pass (default 64). */
  batchSize?: number;
  /** Sum with the mirrored image's embedding before normalising (default: the card's `flipTTA`). */
  flip?: boolean;
  /** Decoder threads (default 2). */
  threads?: number;
  /** Called after each batch with the number of images done. */
  onProgress?: (done: number, total: number) => void;
  /**
   * The images are photos: find the face in each (MTCNN, the largest unless `select` says otherwise)
   * and align it to the model's input first. `true` or detection options; photos without a face throw.
   */
  detect?: boolean | (DetectOptions & BatchOptions);
  /**
   * Called for each image the decoder read despite damage, with its message (e.g. a truncated
   * JPEG, whose missing rows are decoded grey); the image is embedded as decoded.
   */
  onWarning?: (message: string) => void;
}

/** What {@link FaceModel.compare} returns. */
export interface Comparison {
  /** Cosine similarity of the two normalised embeddings. */
  cosine: number;
  /** Squared L2 distance of the normalised embeddings (= 2 − 2·cosine). */
  distance: number;
  /** distance < threshold.distance (the protocol's strict rule). */
  same: boolean;
  /** The squared-L2 threshold used. */
  threshold: number;
}

/** A backbone in eval mode with its model card. Dispose it to free the weights. */
export class FaceModel {
  #detector: FaceDetector | undefined;

  constructor(
    readonly backbone: EmbeddingNet,
    readonly card: ModelCard,
    readonly device: Device = 'cpu',
  ) {
    backbone.eval();
  }

  get embeddingSize(): number {
    return this.card.embeddingSize;
  }

  /**
   * Raw (un-normalised) embeddings [N, E] of normalised input images [N, 3, S, S] on the model's
   * device, optionally plus those of the mirrored images. Synchronous; no gradient.
   */
  forward(x: Tensor, flip: boolean): Tensor {
    return noGrad(() =>
      scope(() => {
        const e = this.backbone.forward(x);
        return flip ? e.add(this.backbone.forward(x.flip(3))) : e;
      }),
    );
  }

  /**
   * L2-normalised embeddings of face images (file paths, JPEG/PNG bytes, or aligned 112×112 RGB
   * faces), one Float32Array per image, in order.
   */
  async embed(images: FaceImage | readonly FaceImage[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const list = Array.isArray(images) ? (images as readonly FaceImage[]) : [images as FaceImage];
    const t = await this.embedTensor(list, options);
    try {
      const flat = t.toTypedArray() as Float32Array;
      const E = this.embeddingSize;
      return list.map((_, i) => flat.slice(i * E, (i + 1) * E));
    } finally {
      t.dispose();
    }
  }

  /** Same as {@link embed} as one CPU float32 tensor [N, E] (the caller disposes it). */
  async embedTensor(images: readonly FaceImage[], options: EmbedOptions = {}): Promise<Tensor> {
    const rows = await this.embedRaw(images, { ...options, normalise: true });
    return rows;
  }

  /**
   * @internal Embeddings of all images as a CPU float32 [N, E] tensor: raw or L2-normalised, with
   * or without the flip sum. The next batch is decoded while the current one runs forward.
   */
  async embedRaw(images: readonly FaceImage[], options: EmbedOptions & { normalise: boolean; flipOnly?: boolean }): Promise<Tensor> {
    const bs = options.batchSize ?? 64;
    if (!Number.isInteger(bs) || bs < 1) throw new RangeError(`embed: batchSize must be a positive integer, got ${bs}`);
    if (images.length === 0) throw new RangeError('embed: no images given');
    if (options.detect) {
      this.#detector ??= new FaceDetector({ device: this.device });
      const photos = images as readonly Photo[];
      const found = await alignEach(this.#detector, photos, { ...(options.detect === true ? {} : options.detect), size: this.card.input.size });
      for (const f of found) if ('warning' in f && f.warning !== undefined) options.onWarning?.(f.warning);
      const problems = faceProblems(found, photos);
      if (problems) throw new Error(`detect: ${problems}`);
      images = found.map((f) => (f as { faces: AlignedFace[] }).faces[0]!);
    }
    const flip = options.flip ?? this.card.flipTTA;
    const input = { size: this.card.input.size, colorOrder: this.card.input.colorOrder, mean: this.card.input.mean, std: this.card.input.std };
    const load = (start: number): Promise<Tensor> =>
      loadBatch(images.slice(start, start + bs), input, { device: this.device, threads: options.threads, onWarning: options.onWarning });
    const outs: Tensor[] = [];
    let next: Promise<Tensor> | undefined;
    let ok = false;
    try {
      next = load(0);
      for (let start = 0; start < images.length; start += bs) {
        const x = await next!;
        next = start + bs < images.length ? load(start + bs) : undefined;
        next?.catch(() => undefined); // surfaced when awaited
        try {
          outs.push(
            scope(() => {
              const e = options.flipOnly ? noGrad(() => this.backbone.forward(x.flip(3))) : this.forward(x, flip);
              const n = options.normalise ? F.normalize(e, { p: 2, dim: 1, eps: 1e-12 }) : e;
              return n.to({ device: 'cpu', dtype: 'float32' });
            }),
          );
        } finally {
          x.dispose();
        }
        options.onProgress?.(Math.min(start + bs, images.length), images.length);
      }
      const result = outs.length === 1 ? outs[0]! : scope(() => cat(outs, 0));
      ok = true;
      return result;
    } finally {
      // a batch decoded ahead for a loop that failed
      next?.then((t) => t.dispose(), () => undefined);
      if (!ok || outs.length > 1) for (const o of outs) o.dispose();
    }
  }

  /**
   * Compares two faces (images, or embeddings from {@link embed}): cosine similarity and the
   * same/different verdict at the card's calibrated threshold (or `options.threshold`, a squared
   * L2 distance in [0, 4]).
   */
  async compare(a: FaceImage | Float32Array, b: FaceImage | Float32Array, options: EmbedOptions & { threshold?: number } = {}): Promise<Comparison> {
    const thr = options.threshold ?? this.card.threshold?.distance;
    if (thr === undefined) {
      throw new Error(`compare: the model card has no calibrated threshold; evaluate the model on a verification set (ecacface eval) or pass { threshold }`);
    }
    const need = [a, b].filter((x) => !(x instanceof Float32Array)) as FaceImage[];
    const embs = need.length ? await this.embed(need, options) : [];
    let k = 0;
    const ea = a instanceof Float32Array ? unit(a) : embs[k++]!;
    const eb = b instanceof Float32Array ? unit(b) : embs[k++]!;
    if (ea.length !== eb.length) throw new RangeError(`compare: embeddings have ${ea.length} and ${eb.length} values`);
    let dot = 0;
    let dist = 0;
    for (let i = 0; i < ea.length; i++) {
      dot += ea[i]! * eb[i]!;
      dist += (ea[i]! - eb[i]!) ** 2;
    }
    return { cosine: dot, distance: dist, same: dist < thr, threshold: thr };
  }

  /** Frees the weights (and the face detector, if `detect` loaded it). */
  dispose(): void {
    this.#detector?.dispose();
    this.backbone.dispose();
  }
}

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  n = Math.sqrt(n);
  return n === 0 ? v : v.map((x) => x / n);
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Device for the weights and the forward pass (default 'cpu'). */
  device?: Device;
  /**
   * For PyTorch checkpoints (.pt/.pth) of the CurricularFace/face.evoLVe layout: the backbone spec
   * they were trained with. insightface iresnet checkpoints need none (read from the shapes).
   */
  spec?: BackboneSpec | IResNetSpec;
}

const CARD_META = 'ecacface.card';

const shapesOf = (h: SafetensorsHeader): Map<string, number[]> => new Map([...h.tensors].map(([k, e]) => [k, e.shape]));

function resolveFiles(path: string): { card?: string; weights: string } {
  const p = resolve(path);
  if (!existsSync(p)) throw new Error(`loadModel: '${path}' does not exist`);
  if (statSync(p).isDirectory()) {
    const own = join(p, 'model.json');
    if (existsSync(own)) return { card: own, weights: '' };
    // a training run directory: its best model, else its last
    for (const sub of ['model-best', 'model-last']) {
      const card = join(p, sub, 'model.json');
      if (existsSync(card)) return { card, weights: '' };
    }
    throw new Error(
      `loadModel: folder '${path}' has no model.json (an exported model) and is no training run directory with model-best/ or model-last/`,
    );
  }
  assertRegularFile(p, 'loadModel: model file');
  if (extname(p) === '.json') return { card: p, weights: '' };
  return { weights: p };
}

/**
 * Loads a model for inference, in eval mode.
 * @param path a folder with `model.json` + weights (`exportModel`, a training run's `model-best/`),
 *   a training run directory (its `model-best/`, else `model-last/`), a model card `.json`, a `.safetensors` whose metadata
 *   carries the card, or a PyTorch `.pt`/`.pth` state dict (CurricularFace IR layout: pass
 *   `options.spec`; insightface iresnet: none needed).
 */
export function loadModel(path: string, options: LoadModelOptions = {}): FaceModel {
  const files = resolveFiles(path);
  let card: ModelCard;
  let weights: string;
  let sd: Map<string, Tensor>;
  if (files.card) {
    card = readModelCard(files.card);
    weights = confinedPath(dirname(files.card), card.weights, files.card, 'weights file');
    checkCardAgainstWeights(card, shapesOf(readSafetensorsHeader(weights)), files.card);
    sd = loadSafetensors(weights).tensors;
  } else if (files.weights.endsWith('.safetensors')) {
    weights = files.weights;
    const header = readSafetensorsHeader(weights);
    const meta = header.metadata[CARD_META];
    if (meta === undefined) {
      throw new Error(`loadModel: '${path}' carries no model card in its metadata ('${CARD_META}'); load it with its model.json, or build the backbone yourself and use loadStateDict`);
    }
    if (meta.length > MAX_CARD_BYTES) throw new Error(`loadModel: '${path}': the model card in its metadata is ${meta.length} characters, more than the ${MAX_CARD_BYTES} allowed`);
    let json: unknown;
    try {
      json = JSON.parse(meta);
    } catch (e) {
      throw new Error(`loadModel: '${path}': the model card in its metadata is not valid JSON (${(e as Error).message})`);
    }
    card = parseModelCard(json, `${path} (metadata)`);
    checkCardAgainstWeights(card, shapesOf(header), `${path} (metadata)`);
    sd = loadSafetensors(weights).tensors;
  } else {
    weights = files.weights;
    const raw = extractStateDict(readTorchCheckpoint(weights), weights);
    let spec: BackboneSpec | IResNetSpec;
    if (detectLayout(raw.keys()) === 'insightface') {
      // insightface iresnet: loads 1:1 into its own layout (see docs/interop.md)
      sd = raw;
      spec = options.spec ?? inferIResNetSpec(new Map([...raw].map(([k, t]) => [k, t.shape])), basename(weights, extname(weights)));
    } else {
      if (!options.spec) {
        for (const t of raw.values()) t.dispose();
        throw new Error(`loadModel: '${path}' is a PyTorch checkpoint; pass { spec } (the backbone spec it was trained with, e.g. models.backboneSpec({ arch: 'ir50' }))`);
      }
      sd = toOurNames(raw, weights);
      spec = options.spec;
    }
    card = cardForSpec(spec, basename(weights), `PyTorch checkpoint ${weights}`);
  }
  let backbone: EmbeddingNet | undefined;
  try {
    backbone = buildNet(card.spec);
    backbone.loadStateDict(sd);
    if (options.device && options.device !== 'cpu') backbone.to(options.device);
  } catch (e) {
    backbone?.dispose();
    throw new Error(`loadModel: ${weights}: ${(e as Error).message}`);
  } finally {
    for (const t of sd.values()) t.dispose();
  }
  return new FaceModel(backbone, card, options.device ?? 'cpu');
}

/** Options of {@link exportModel}: card fields to set. */
export type ExportCardFields = Partial<Pick<ModelCard, 'threshold' | 'validation' | 'source' | 'flipTTA' | 'input'>> & { arch?: string };

/**
 * The model card of a backbone known only by its spec (an imported checkpoint, or a backbone in
 * memory): the paper's input normalisation, flip TTA, no threshold or validation yet.
 */
export function cardForSpec(spec: BackboneSpec | IResNetSpec, weights: string, source?: string): ModelCard {
  return parseModelCard({
    format: 'ecacface-model-card',
    version: 1,
    arch: spec.name,
    attention: spec.attention,
    embeddingSize: spec.head.embeddingSize,
    spec,
    input: { ...DEFAULT_INPUT, size: spec.inputSize },
    flipTTA: true,
    validation: [],
    weights,
    ...(source === undefined ? {} : { source }),
  });
}

/**
 * Writes `<dir>/model.safetensors` (the state dict with the reference PyTorch names; the card is
 * also embedded in its metadata) and `<dir>/model.json` (the model card). Returns the card.
 */
export function exportModel(backbone: EmbeddingNet, dir: string, fields: ExportCardFields = {}): ModelCard {
  mkdirSync(dir, { recursive: true });
  const spec = backbone.spec;
  const card = parseModelCard({
    format: 'ecacface-model-card',
    version: 1,
    arch: fields.arch ?? spec.name,
    attention: spec.attention,
    embeddingSize: spec.head.embeddingSize,
    spec,
    input: fields.input ?? { ...DEFAULT_INPUT, size: spec.inputSize },
    flipTTA: fields.flipTTA ?? true,
    threshold: fields.threshold,
    validation: fields.validation ?? [],
    weights: 'model.safetensors',
    source: fields.source,
    createdAt: new Date().toISOString(),
    library: 'ecacface-torch',
  });
  saveSafetensors(join(dir, 'model.safetensors'), backbone, { format: 'pt', [CARD_META]: JSON.stringify(card), spec: JSON.stringify(spec) });
  writeModelCard(join(dir, 'model.json'), card);
  return card;
}
