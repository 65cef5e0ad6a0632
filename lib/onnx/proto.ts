/**
 * The ONNX protobuf schema, as much of it as a model file of ours uses, encoded and decoded by
 * protobufjs (docs/decisions/onnx.md says why this library and why a hand-written subset).
 *
 * Message and field names and numbers are those of ONNX's `onnx.proto` (IR version 10), so a
 * file written here is read by every ONNX tool; unknown fields of files written elsewhere
 * (functions, training info, sparse initializers, …) are skipped by the decoder. The TypeScript
 * interfaces describe the plain objects that `fromObject`/`toObject` exchange with the reflection
 * types: int64 values are plain numbers (every one we write fits in 2^53).
 */
import protobuf from 'protobufjs';

/** TensorProto.DataType values used here. */
export const DataType = Object.freeze({ FLOAT: 1, INT64: 7 } as const);
/** AttributeProto.AttributeType values used here. */
export const AttributeType = Object.freeze({ FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const);
/** TensorProto.DataLocation. */
export const DataLocation = Object.freeze({ DEFAULT: 0, EXTERNAL: 1 } as const);

export interface StringStringEntryProto {
  key: string;
  value: string;
}
export interface TensorProto {
  dims: number[];
  data_type: number;
  name: string;
  raw_data?: Uint8Array;
  external_data?: StringStringEntryProto[];
  data_location?: number;
  doc_string?: string;
}
export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}
export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  domain?: string;
  attribute?: AttributeProto[];
  doc_string?: string;
}
export interface DimensionProto {
  dim_value?: number;
  dim_param?: string;
}
export interface TypeProto {
  tensor_type: { elem_type: number; shape?: { dim: DimensionProto[] } };
}
export interface ValueInfoProto {
  name: string;
  type: TypeProto;
  doc_string?: string;
}
export interface GraphProto {
  node: NodeProto[];
  name: string;
  initializer: TensorProto[];
  doc_string?: string;
  input: ValueInfoProto[];
  output: ValueInfoProto[];
}
export interface OperatorSetIdProto {
  domain: string;
  version: number;
}
export interface ModelProto {
  ir_version: number;
  opset_import: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph: GraphProto;
  metadata_props?: StringStringEntryProto[];
}

const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const one = (type: string, id: number) => ({ type, id });

/** The reflection root: `onnx.ModelProto` and the messages it holds (field numbers of onnx.proto). */
const root = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: one('string', 1), value: one('string', 2) } },
        OperatorSetIdProto: { fields: { domain: one('string', 1), version: one('int64', 2) } },
        TensorProto: {
          fields: {
            dims: repeated('int64', 1),
            data_type: one('int32', 2),
            float_data: repeated('float', 4),
            int32_data: repeated('int32', 5),
            int64_data: repeated('int64', 7),
            name: one('string', 8),
            raw_data: one('bytes', 9),
            double_data: repeated('double', 10),
            doc_string: one('string', 12),
            external_data: repeated('StringStringEntryProto', 13),
            data_location: one('int32', 14),
          },
        },
        AttributeProto: {
          fields: {
            name: one('string', 1),
            f: one('float', 2),
            i: one('int64', 3),
            s: one('bytes', 4),
            t: one('TensorProto', 5),
            floats: repeated('float', 7),
            ints: repeated('int64', 8),
            strings: repeated('bytes', 9),
            doc_string: one('string', 13),
            type: one('int32', 20),
          },
        },
        NodeProto: {
          fields: {
            input: repeated('string', 1),
            output: repeated('string', 2),
            name: one('string', 3),
            op_type: one('string', 4),
            attribute: repeated('AttributeProto', 5),
            doc_string: one('string', 6),
            domain: one('string', 7),
          },
        },
        TensorShapeProto: {
          fields: { dim: repeated('Dimension', 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
              fields: { dim_value: one('int64', 1), dim_param: one('string', 2), denotation: one('string', 3) },
            },
          },
        },
        TypeProto: {
          fields: { tensor_type: one('TensorTypeProto', 1), denotation: one('string', 6) },
        },
        // TypeProto.Tensor in onnx.proto; a nested message there, a sibling here (same wire format)
        TensorTypeProto: { fields: { elem_type: one('int32', 1), shape: one('TensorShapeProto', 2) } },
        ValueInfoProto: { fields: { name: one('string', 1), type: one('TypeProto', 2), doc_string: one('string', 3) } },
        GraphProto: {
          fields: {
            node: repeated('NodeProto', 1),
            name: one('string', 2),
            initializer: repeated('TensorProto', 5),
            doc_string: one('string', 10),
            input: repeated('ValueInfoProto', 11),
            output: repeated('ValueInfoProto', 12),
            value_info: repeated('ValueInfoProto', 13),
          },
        },
        ModelProto: {
          fields: {
            ir_version: one('int64', 1),
            producer_name: one('string', 2),
            producer_version: one('string', 3),
            domain: one('string', 4),
            model_version: one('int64', 5),
            doc_string: one('string', 6),
            graph: one('GraphProto', 7),
            opset_import: repeated('OperatorSetIdProto', 8),
            metadata_props: repeated('StringStringEntryProto', 14),
          },
        },
      },
    },
  },
});

const ModelType = root.lookupType('onnx.ModelProto');

/** A ModelProto as protobuf bytes (throws naming the field when a value does not fit the schema). */
export function encodeModel(model: ModelProto): Uint8Array {
  const problem = ModelType.verify(model);
  if (problem) throw new Error(`ONNX model does not fit the schema: ${problem}`);
  return ModelType.encode(ModelType.fromObject(model)).finish();
}

/** Decodes protobuf bytes as a ModelProto (int64 values as numbers, bytes as Uint8Array views). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const msg = ModelType.decode(bytes);
  return ModelType.toObject(msg, { longs: Number, defaults: false, arrays: true }) as ModelProto;
}
