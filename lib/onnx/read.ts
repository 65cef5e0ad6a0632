/**
 * Reading an ONNX file's header for `loadModel`: its graph input and output (names, shapes), the
 * opset and the model card in `metadata_props`. A file from elsewhere (insightface's recognition
 * models, say) has no card: one is made from its shapes with the paper's input normalisation,
 * which is insightface's too ((pixel − 127.5) / 127.5, RGB).
 */
import { basename, extname } from 'node:path';
import { DEFAULT_INPUT, parseModelCard, type ModelCard } from '../io/model-card.js';
import { readRegularFile } from '../io/regular-file.js';
import { cardFromMetadata } from './metadata.js';
import { decodeModel, type ValueInfoProto } from './proto.js';

/** A graph input or output: its name and shape (a number per fixed axis, a name or null per free one). */
export interface OnnxValueInfo {
  name: string;
  shape: (number | string | null)[];
}

/** What {@link readOnnxModel} finds in a file. */
export interface OnnxModelInfo {
  input: OnnxValueInfo;
  output: OnnxValueInfo;
  /** The default-domain opset it imports. */
  opset: number | null;
  irVersion: number;
  producer: string;
  /** The card of the metadata, or one made from the shapes (`fromMetadata` false). */
  card: ModelCard;
  fromMetadata: boolean;
}

function valueInfo(v: ValueInfoProto): OnnxValueInfo {
  const dims = v.type?.tensor_type?.shape?.dim ?? [];
  return { name: v.name, shape: dims.map((d) => (d.dim_value !== undefined ? d.dim_value : d.dim_param ?? null)) };
}

const fmt = (v: OnnxValueInfo): string => `'${v.name}' [${v.shape.map((d) => d ?? '?').join(', ')}]`;

/** Reads the header of an ONNX model file (the whole protobuf is decoded; external weights are not read). */
export function readOnnxModel(path: string): OnnxModelInfo {
  const bytes = readRegularFile(path, 'ONNX model');
  let model;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new Error(`${path} is not an ONNX model (protobuf: ${(e as Error).message})`);
  }
  const graph = model.graph;
  if (!graph || !model.ir_version) throw new Error(`${path} is not an ONNX model (no graph or IR version)`);
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  // up to IR version 3 the initializers are graph inputs too
  const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name));
  const outputs = graph.output ?? [];
  if (inputs.length !== 1 || outputs.length < 1) {
    throw new Error(`${path}: a face embedding model has one input and an output; this graph has ${inputs.length} inputs and ${outputs.length} outputs`);
  }
  const input = valueInfo(inputs[0]!);
  const output = valueInfo(outputs[0]!);
  const opset = (model.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? null;
  const file = basename(path);
  const own = cardFromMetadata(model.metadata_props ?? [], file, path);
  const card = own ?? foreignCard(path, input, output);
  const [, c, h, w] = input.shape;
  if (input.shape.length !== 4 || c !== card.input.channels || h !== card.input.size || w !== card.input.size) {
    throw new Error(`${path}: input ${fmt(input)} does not match the card's ${card.input.channels}×${card.input.size}×${card.input.size} images`);
  }
  if (output.shape.length !== 2 || (typeof output.shape[1] === 'number' && output.shape[1] !== card.embeddingSize)) {
    throw new Error(`${path}: output ${fmt(output)} is not [N, ${card.embeddingSize}] as the card says`);
  }
  return { input, output, opset, irVersion: model.ir_version, producer: model.producer_name ?? '', card, fromMetadata: own !== null };
}

/** A card for a file without one: sizes from the shapes, the paper's (= insightface's) input normalisation. */
function foreignCard(path: string, input: OnnxValueInfo, output: OnnxValueInfo): ModelCard {
  const [, c, h, w] = input.shape;
  const e = output.shape[1];
  if (input.shape.length !== 4 || typeof c !== 'number' || typeof h !== 'number' || h !== w) {
    throw new Error(`${path}: input ${fmt(input)} is not a batch of square images [N, C, S, S] with fixed C and S`);
  }
  if (output.shape.length !== 2 || typeof e !== 'number') throw new Error(`${path}: output ${fmt(output)} is not embeddings [N, E] with a fixed E`);
  if (c !== 3) throw new Error(`${path}: input ${fmt(input)} has ${c} channels; a model without a model card is read as RGB (3 channels)`);
  const name = basename(path, extname(path));
  return parseModelCard(
    {
      format: 'ecacface-model-card',
      version: 1,
      arch: name,
      attention: 'unknown',
      embeddingSize: e,
      spec: {},
      input: { ...DEFAULT_INPUT, size: h },
      flipTTA: true,
      validation: [],
      weights: basename(path),
      source: `ONNX file without a model card (${path}); input normalisation assumed (pixel/255 − 0.5)/0.5, RGB`,
    },
    path,
  );
}
