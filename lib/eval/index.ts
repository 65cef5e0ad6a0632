/** The evaluation and inference layer: the verification protocol, evaluate(), models for inference, alignment. */
export * as verification from './verification.js';
export type { VerificationResult, VerificationOptions, TarAtFar } from './verification.js';
export { evaluate, embedWithFlip, calibratedThreshold, validationEntries, formatTable, setName, type SetResult, type EvaluateOptions, type EvaluableModel } from './evaluate.js';
export { loadModel, exportModel, buildNet, FaceModel, type EmbeddingNet, type EmbedOptions, type Comparison, type LoadModelOptions, type ExportCardFields } from './model.js';
export { loadModelInWorker, type WorkerFaceModel } from './worker.js';
export { loadBatch, isEncodedImage, type FaceImage, type RawFace, type InputSpec } from './images.js';
export { align, alignRaw, alignmentMatrix, templateFor, ARCFACE_TEMPLATE, type AlignedFace, type AlignOptions, type RawImage } from './align.js';
