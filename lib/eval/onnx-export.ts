/**
 * `exportOnnx`: a backbone, a loaded model, or anything `loadModel` reads (a training run, a model
 * folder, a PyTorch checkpoint) as an ONNX model file with its model card in `metadata_props` —
 * the ONNX counterpart of `exportModel`. The graph and the file are lib/onnx/'s (write.ts).
 */
import { parseModelCard, type ModelCard } from '../io/model-card.js';
import type { IResNetSpec } from '../models/insightface-iresnet.js';
import type { BackboneSpec } from '../models/spec.js';
import { checkOutputPath, checkWriteOptions, writeOnnx, type OnnxExportResult, type OnnxWriteOptions } from '../onnx/write.js';
import { cardForNet, FaceModel, loadModel, type EmbeddingNet, type ExportCardFields } from './model.js';

/** Options of {@link exportOnnx}. */
export interface OnnxExportOptions extends OnnxWriteOptions {
  /** Model card fields to set (threshold, source, …), as for `exportModel`. */
  card?: ExportCardFields;
  /** For a PyTorch checkpoint as the source: its backbone spec (as `loadModel`'s `spec`). */
  spec?: BackboneSpec | IResNetSpec;
}

const withFields = (card: ModelCard, fields: ExportCardFields = {}): ModelCard => parseModelCard({ ...card, ...fields }, 'exportOnnx: the model card');

/**
 * Writes an ONNX model of a backbone to `path` (docs/interop.md, "Export to ONNX").
 * @param model a backbone (`models.backbone(…)`, one from a training run), a model from
 *   `loadModel`, or anything `loadModel` reads (a training run, a model folder, a card, a
 *   `.safetensors`, a `.pt` with `options.spec`)
 * @example
 * exportOnnx('runs/demo-…', 'face.onnx');               // the run's best model
 * exportOnnx(models.backbone({ arch: 'ir50', attention: 'esca' }), 'ir50-esca.onnx', { opset: 13 });
 */
export function exportOnnx(model: FaceModel | EmbeddingNet | string, path: string, options: OnnxExportOptions = {}): OnnxExportResult {
  checkWriteOptions(options);
  checkOutputPath(path);
  if (typeof model === 'string') {
    if (model.toLowerCase().endsWith('.onnx')) throw new Error(`exportOnnx: '${model}' is an ONNX model already`);
    const loaded = loadModel(model, options.spec ? { spec: options.spec } : {});
    try {
      return writeOnnx(loaded.backbone, withFields(loaded.card, options.card), path, options);
    } finally {
      loaded.dispose();
    }
  }
  if (model instanceof FaceModel) {
    if (model.runtime === 'onnxruntime') throw new Error(`exportOnnx: the model '${model.card.weights}' is an ONNX model already`);
    return writeOnnx(model.backbone, withFields(model.card, options.card), path, options);
  }
  return writeOnnx(model, cardForNet(model, path, options.card ?? {}), path, options);
}
