/**
 * The `heads` namespace: classification heads that turn embeddings into a training loss
 * (docs/heads.md). `heads.create({ type, numClasses, ... })` builds one by name.
 */
export { create, HEAD_TYPES, type HeadType, type CreateHeadOptions, type HeadByType } from './create.js';
export { Head, type HeadOutput, type HeadStats, type HeadForwardOptions, type HeadBaseOptions } from './head.js';
export { MarginHead, type MarginHeadOptions } from './margin-head.js';
export { SoftmaxHead, type SoftmaxOptions } from './softmax.js';
export { CosFaceHead, type CosFaceOptions } from './cosface.js';
export { ArcFaceHead, type ArcFaceOptions } from './arcface.js';
export { MvArcFaceHead, type MvArcFaceOptions } from './mv-arcface.js';
export { CurricularFaceHead, type CurricularFaceOptions } from './curricularface.js';
export { MagFaceHead, type MagFaceOptions } from './magface.js';
export {
  marginLoss,
  type MarginLossOptions,
  type MarginLossResult,
  type MarginStats,
  type MarginTarget,
  type MarginNegative,
} from '../ops/margin.js';
