/** The evaluation and inference layer: the verification protocol, evaluate(), models for inference, alignment. */
export * as verification from './verification.js';
export { evaluate, calibratedThreshold, validationEntries, formatTable, type SetResult, type EvaluateOptions, type EvaluableModel } from './evaluate.js';
export { loadModel, exportModel, FaceModel, type EmbeddingNet, type EmbedOptions, type Comparison, type LoadModelOptions, type ExportCardFields } from './model.js';
export { loadModelInWorker, type WorkerFaceModel } from './worker.js';
export type { FaceImage, RawFace, InputSpec } from './images.js';
export { align, alignRaw, alignmentMatrix, templateFor, ARCFACE_TEMPLATE, type AlignedFace, type AlignOptions, type RawImage } from '../data/align.js';
