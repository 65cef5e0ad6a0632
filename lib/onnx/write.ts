/**
 * `writeOnnx`: a backbone and its model card as an ONNX model file that ONNX Runtime runs as it
 * is: the graph is generated from the module tree built from the backbone spec (emit.ts), the
 * weights are the state dict under its own names, and the card's fields are the file's
 * `metadata_props`. `exportOnnx` (lib/eval/onnx-export.ts) is the public entry: it also takes a
 * loaded model or a model folder / training run.
 *
 * The graph is the eval-mode forward: input `input` [batch, C, S, S] (normalised images, float32),
 * output `embedding` [batch, E] (raw, not L2-normalised; flip TTA and normalisation are the
 * caller's, as in `FaceModel.embed`). Weights over the protobuf limit go to ONNX external data.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ModelCard } from '../io/model-card.js';
import type { Backbone } from '../models/backbone.js';
import type { InsightfaceIResNet } from '../models/insightface-iresnet.js';
import { packageRoot } from '../native-load.js';
import { ATTENTION_EMITTERS } from './attention.js';
import { BACKBONE_EMITTERS } from './backbones.js';
import { emitModule } from './emit.js';
import { checkOpset, DEFAULT_OPSET, irVersionFor, OnnxGraph } from './graph.js';
import { LAYER_EMITTERS } from './layers.js';
import { cardToMetadata } from './metadata.js';
import { DataLocation, DataType, encodeModel, type ModelProto, type TensorProto, type ValueInfoProto } from './proto.js';
import { checkInt, checkNumber } from '../check.js';

/** Protobuf cannot encode a message of 2 GiB or more. */
const PROTOBUF_LIMIT = 2 ** 31;
/** Default {@link OnnxExportOptions.externalDataThreshold}: the protobuf limit less room for the graph. */
export const DEFAULT_EXTERNAL_DATA_THRESHOLD = PROTOBUF_LIMIT - 2 ** 24;
/** Tensors smaller than this stay in the model file even when the weights go to external data (as ONNX's own tools do). */
const EXTERNAL_MIN_BYTES = 1024;
/** Offsets in the external data file are multiples of this, so ONNX Runtime can map the tensors in place. */
const EXTERNAL_ALIGN = 4096;

/** A network the exporter writes: one of our backbones, or insightface's iresnet layout. */
export type OnnxExportable = Backbone | InsightfaceIResNet;

/** Options of {@link writeOnnx} (and of `exportOnnx`). */
export interface OnnxWriteOptions {
  /** ONNX opset of the default domain: 17 unless set (7 to 21 export; docs/interop.md). */
  opset?: number;
  /** `'dynamic'` (default): the batch axis is the symbolic `batch`; a number fixes it. */
  batch?: number | 'dynamic';
  /**
   * Bytes of weights above which the weights go to ONNX external data, `<file>.data` beside the
   * model (each tensor of 1 KiB or more; smaller ones stay inline). Default: 2 GiB less 16 MiB,
   * under the 2 GiB that protobuf can encode. 0 always writes external data.
   */
  externalDataThreshold?: number;
}

/** What `exportOnnx` (and {@link writeOnnx}) wrote. */
export interface OnnxExportResult {
  /** The model file. */
  path: string;
  /** The external data file, or null when the weights are in the model file. */
  dataPath: string | null;
  opset: number;
  irVersion: number;
  /** Graph nodes and weight tensors. */
  nodes: number;
  weights: number;
  /** Bytes written (model file + external data). */
  bytes: number;
  /** The model card in the file's metadata. */
  card: ModelCard;
}

const EMITTERS = [...LAYER_EMITTERS, ...ATTENTION_EMITTERS, ...BACKBONE_EMITTERS];

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function tensorType(dims: (number | string)[], elemType: number = DataType.FLOAT): ValueInfoProto['type'] {
  return { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } };
}

/** The graph of `net` on `opset`, with the batch axis `batch`. */
function buildGraph(net: OnnxExportable, opset: number): { g: OnnxGraph; input: string; output: string; inputShape: number[]; embeddingSize: number } {
  const spec = net.spec;
  const g = new OnnxGraph(opset);
  const input = g.reserve('input');
  const inputShape = [1, spec.inputChannels, spec.inputSize, spec.inputSize];
  const out = emitModule(g, net, { name: input, shape: inputShape }, EMITTERS);
  const e = spec.head.embeddingSize;
  if (out.shape.length !== 2 || out.shape[1] !== e) throw new Error(`ONNX export: the graph ends in [${out.shape.join(', ')}], not [N, ${e}]`);
  const last = g.nodes.find((n) => n.output[0] === out.name);
  if (!last) throw new Error('ONNX export: the graph output is not computed by any node');
  last.output[0] = g.reserve('embedding');
  return { g, input, output: 'embedding', inputShape, embeddingSize: e };
}

function docString(card: ModelCard): string {
  const i = card.input;
  return (
    `${card.arch} face embedding network (attention: ${card.attention}), exported by ecacface-torch. ` +
    `Input 'input': float32 [batch, ${i.channels}, ${i.size}, ${i.size}], ${i.colorOrder}, x = (pixel / 255 - mean) / std with mean ${JSON.stringify(i.mean)}, std ${JSON.stringify(i.std)}. ` +
    `Output 'embedding': float32 [batch, ${card.embeddingSize}], not normalised: L2-normalise it` +
    (card.flipTTA ? ', after adding the embedding of the horizontally mirrored image (flip TTA),' : '') +
    ` and compare by cosine similarity` +
    (card.threshold ? ` (same person when cosine > ${card.threshold.cosine.toFixed(4)}, calibrated on ${card.threshold.source}).` : '.') +
    ' The model card is in metadata_props.'
  );
}

/** Throws a RangeError naming the first bad option. */
export function checkWriteOptions(options: OnnxWriteOptions): void {
  checkOpset(options.opset ?? DEFAULT_OPSET);
  const batch = options.batch ?? 'dynamic';
  if (batch !== 'dynamic') checkInt("exportOnnx: batch ('dynamic' or a number)", batch, 1);
  checkNumber('exportOnnx: externalDataThreshold (bytes)', options.externalDataThreshold ?? DEFAULT_EXTERNAL_DATA_THRESHOLD, { min: 0 });
}

/** Throws unless `path` can be written: its folder exists and it is no folder itself. */
export function checkOutputPath(path: string): void {
  if (!existsSync(dirname(path) || '.')) throw new Error(`exportOnnx: the folder of '${path}' does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new Error(`exportOnnx: '${path}' is a folder`);
}

/**
 * Writes `net` (eval-mode semantics, whatever its mode) with `card` in its metadata as an ONNX
 * model file at `path`; the card's `weights` is set to the file's name.
 */
export function writeOnnx(net: OnnxExportable, card: ModelCard, path: string, options: OnnxWriteOptions = {}): OnnxExportResult {
  checkWriteOptions(options);
  checkOutputPath(path);
  const opset = options.opset ?? DEFAULT_OPSET;
  const batch = options.batch ?? 'dynamic';
  const threshold = options.externalDataThreshold ?? DEFAULT_EXTERNAL_DATA_THRESHOLD;
  const file = basename(path);
  const { g, input, output, inputShape, embeddingSize } = buildGraph(net, opset);
  if (card.embeddingSize !== embeddingSize) throw new Error(`exportOnnx: the card says ${card.embeddingSize}-d embeddings, the network computes ${embeddingSize}`);
  card = { ...card, weights: file };
  const irVersion = irVersionFor(opset);
  const bytesOf = (dims: number[]): number => 4 * dims.reduce((a, b) => a * b, 1);
  const external = g.weights.reduce((s, w) => s + bytesOf(w.dims), 0) > threshold;
  const dataFile = `${file}.data`;
  const dataPath = join(dirname(path), dataFile);
  const tmp = `${path}.${process.pid}.tmp`;
  const dataTmp = `${dataPath}.${process.pid}.tmp`;
  let written = 0;
  try {
    const initializers: TensorProto[] = [...g.constants];
    let fd: number | null = external ? openSync(dataTmp, 'w') : null;
    try {
      for (const w of g.weights) {
        const values = w.read();
        const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
        if (fd === null || raw.byteLength < EXTERNAL_MIN_BYTES) {
          initializers.push({ name: w.name, dims: w.dims, data_type: DataType.FLOAT, raw_data: raw });
          continue;
        }
        const offset = Math.ceil(written / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
        if (offset > written) writeSync(fd, new Uint8Array(offset - written), 0, offset - written, written);
        writeSync(fd, raw, 0, raw.byteLength, offset);
        written = offset + raw.byteLength;
        initializers.push({
          name: w.name,
          dims: w.dims,
          data_type: DataType.FLOAT,
          data_location: DataLocation.EXTERNAL,
          external_data: [
            { key: 'location', value: dataFile },
            { key: 'offset', value: String(offset) },
            { key: 'length', value: String(raw.byteLength) },
          ],
        });
      }
    } finally {
      if (fd !== null) closeSync(fd);
      fd = null;
    }
    const batchDim = batch === 'dynamic' ? 'batch' : batch;
    const inputs: ValueInfoProto[] = [{ name: input, type: tensorType([batchDim, ...inputShape.slice(1)]), doc_string: 'normalised face images (see the model doc string)' }];
    // up to IR version 3 every initializer is also a graph input
    if (irVersion < 4) for (const t of initializers) inputs.push({ name: t.name, type: tensorType(t.dims, t.data_type) });
    const proto: ModelProto = {
      ir_version: irVersion,
      opset_import: [{ domain: '', version: opset }],
      producer_name: 'ecacface-torch',
      producer_version: packageVersion(),
      domain: 'ecacface',
      model_version: 1,
      doc_string: docString(card),
      graph: {
        name: card.arch,
        node: g.nodes,
        initializer: initializers,
        input: inputs,
        output: [{ name: output, type: tensorType([batchDim, embeddingSize]), doc_string: 'raw embeddings (L2-normalise before comparing)' }],
      },
      metadata_props: cardToMetadata(card),
    };
    const bytes = encodeModel(proto);
    if (bytes.byteLength >= PROTOBUF_LIMIT) {
      throw new Error(`exportOnnx: the model file would be ${bytes.byteLength} bytes, over protobuf's 2 GiB; lower externalDataThreshold to put the weights in external data`);
    }
    const out = openSync(tmp, 'w');
    try {
      writeSync(out, bytes);
    } finally {
      closeSync(out);
    }
    if (external) renameSync(dataTmp, dataPath);
    renameSync(tmp, path);
    return {
      path,
      dataPath: external ? dataPath : null,
      opset,
      irVersion,
      nodes: g.nodes.length,
      weights: g.weights.length,
      bytes: bytes.byteLength + (external ? written : 0),
      card,
    };
  } catch (e) {
    rmSync(tmp, { force: true });
    rmSync(dataTmp, { force: true });
    throw e;
  }
}
