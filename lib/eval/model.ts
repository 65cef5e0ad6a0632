/**
 * Inference for Node services: a trained backbone with its model card.
 *
 * - {@link loadModel}: our export (a folder with `model.json` + `model.safetensors`, the card file,
 *   or a `.safetensors` whose metadata carries the card), or a PyTorch `torch.save` state dict of
 *   the CurricularFace/face.evoLVe IR layout together with its spec, or an ONNX model (`.onnx`, run by
 *   ONNX Runtime: lib/onnx/runtime.ts);
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
import type { AlignedFace } from '../data/align.js';
import { checkInt } from '../check.js';
import { OnnxNet } from '../onnx/runtime.js';
import { readOnnxModel } from '../onnx/read.js';

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

/**
 * A face embedding network with its model card: a libtorch backbone in eval mode, or an ONNX model
 * run by ONNX Runtime (`loadModel('model.onnx')`); `embed` and `compare` work the same for both.
 * Dispose it to free the weights.
 */
export class FaceModel {
  #detector: FaceDetector | undefined;
  readonly #net: EmbeddingNet | OnnxNet;

  constructor(
    net: EmbeddingNet | OnnxNet,
    readonly card: ModelCard,
    readonly device: Device = 'cpu',
  ) {
    this.#net = net;
    if (!(net instanceof OnnxNet)) net.eval();
  }

  /** The libtorch backbone. A model loaded from an ONNX file has none (it runs in ONNX Runtime): this throws. */
  get backbone(): EmbeddingNet {
    if (this.#net instanceof OnnxNet) {
      throw new Error(`${this.#net.path} is an ONNX model run by ONNX Runtime: it has no libtorch backbone (load the model folder or training run it was exported from for that)`);
    }
    return this.#net;
  }

  /** What runs the network: libtorch (a backbone) or ONNX Runtime (an ONNX model file). */
  get runtime(): 'libtorch' | 'onnxruntime' {
    return this.#net instanceof OnnxNet ? 'onnxruntime' : 'libtorch';
  }

  get embeddingSize(): number {
    return this.card.embeddingSize;
  }

  /**
   * Raw (un-normalised) embeddings [N, E] of normalised input images [N, 3, S, S] on the model's
   * device, optionally plus those of the mirrored images. Synchronous; no gradient. libtorch
   * backbones only: {@link forwardAsync} runs either kind.
   */
  forward(x: Tensor, flip: boolean): Tensor {
    const net = this.backbone;
    return noGrad(() =>
      scope(() => {
        const e = net.forward(x);
        return flip ? e.add(net.forward(x.flip(3))) : e;
      }),
    );
  }

  /**
   * Raw embeddings [N, E] of normalised images [N, 3, S, S] (`'plain'`), of their mirrors
   * (`'flipped'`) or the sum of both (`'sum'`): on the model's device for a libtorch backbone,
   * CPU float32 for ONNX Runtime. The caller disposes the result.
   */
  async forwardAsync(x: Tensor, which: 'plain' | 'flipped' | 'sum' = 'plain'): Promise<Tensor> {
    const net = this.#net;
    if (!(net instanceof OnnxNet)) {
      return noGrad(() =>
        scope(() => {
          if (which === 'flipped') return net.forward(x.flip(3));
          const e = net.forward(x);
          return which === 'sum' ? e.add(net.forward(x.flip(3))) : e;
        }),
      );
    }
    if (which === 'plain') return net.run(x);
    const mirrored = scope(() => x.flip(3));
    let f: Tensor;
    try {
      f = await net.run(mirrored);
    } finally {
      mirrored.dispose();
    }
    if (which === 'flipped') return f;
    try {
      const e = await net.run(x);
      try {
        return scope(() => e.add(f));
      } finally {
        e.dispose();
      }
    } finally {
      f.dispose();
    }
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
    const bs = checkInt('embed: batchSize', options.batchSize ?? 64, 1);
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
          const e = await this.forwardAsync(x, options.flipOnly ? 'flipped' : flip ? 'sum' : 'plain');
          try {
            outs.push(
              scope(() => {
                const n = options.normalise ? F.normalize(e, { p: 2, dim: 1, eps: 1e-12 }) : e;
                return n.to({ device: 'cpu', dtype: 'float32', copy: n === e });
              }),
            );
          } finally {
            e.dispose();
          }
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

  /** Frees the weights or the ONNX Runtime session (and the face detector, if `detect` loaded it). */
  dispose(): void {
    this.#detector?.dispose();
    this.#net.dispose();
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
  /**
   * For ONNX models (`.onnx`): ONNX Runtime session options (`executionProviders`,
   * `intraOpNumThreads`, …), passed to `InferenceSession.create` as they are.
   */
  onnxSessionOptions?: Record<string, unknown>;
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
 *   carries the card, a PyTorch `.pt`/`.pth` state dict (CurricularFace IR layout: pass
 *   `options.spec`; insightface iresnet: none needed), or an ONNX model `.onnx` (`exportOnnx`, or a
 *   face embedding model from elsewhere), run by onnxruntime-node (an optional peer dependency).
 */
export function loadModel(path: string, options: LoadModelOptions = {}): FaceModel {
  const files = resolveFiles(path);
  if (files.weights && extname(files.weights).toLowerCase() === '.onnx') return loadOnnx(files.weights, options);
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

/** An ONNX model file, run by ONNX Runtime on the CPU (or the execution providers of `onnxSessionOptions`). */
function loadOnnx(path: string, options: LoadModelOptions): FaceModel {
  if (options.device && options.device !== 'cpu') {
    throw new Error(`loadModel: '${path}' is an ONNX model, run by ONNX Runtime: choose its execution providers with { onnxSessionOptions: { executionProviders: [...] } }, not device '${options.device}'`);
  }
  if (options.spec) throw new Error(`loadModel: '${path}' is an ONNX model: its graph is the network, pass no spec`);
  const info = readOnnxModel(path);
  const batch = typeof info.input.shape[0] === 'number' ? info.input.shape[0] : null;
  const net = new OnnxNet(path, info.input.name, info.output.name, batch, { sessionOptions: options.onnxSessionOptions });
  return new FaceModel(net, info.card, 'cpu');
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
  const card = cardForNet(backbone, 'model.safetensors', fields);
  saveSafetensors(join(dir, 'model.safetensors'), backbone, { format: 'pt', [CARD_META]: JSON.stringify(card), spec: JSON.stringify(backbone.spec) });
  writeModelCard(join(dir, 'model.json'), card);
  return card;
}

/** The model card of a backbone with its weights in `weights`: its spec, the paper's input normalisation and flip TTA unless `fields` say otherwise. */
export function cardForNet(backbone: EmbeddingNet, weights: string, fields: ExportCardFields = {}): ModelCard {
  const spec = backbone.spec;
  return parseModelCard({
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
    weights,
    source: fields.source,
    createdAt: new Date().toISOString(),
    library: 'ecacface-torch',
  });
}
