/**
 * ecacface-torch: face recognition with ECACFace (ESCA attention + CurricularFace) on libtorch.
 *
 * The public API is everything exported here, and nothing else: each name has one home (a
 * top-level name or a member of one namespace), is listed in docs/api.md, and the list is pinned
 * by test/api/exports.test.ts. Other modules are internal and may change in any release.
 */

// tensors: creation, autograd and runtime controls; `functional` holds the ops
export {
  Tensor,
  type TensorOrScalar,
  type NestedArray,
  type DType,
  type Device,
  type TensorOptions,
  type MemoryReport,
  type MemoryOptions,
  type CudaAllocatorReport,
  DTYPES,
  tensor,
  zeros,
  ones,
  full,
  empty,
  rand,
  randn,
  randint,
  randperm,
  arange,
  linspace,
  eye,
  zerosLike,
  onesLike,
  fullLike,
  randLike,
  randnLike,
  cat,
  stack,
  where,
  scope,
  keep,
  manualSeed,
  getRngState,
  setRngState,
  setNumThreads,
  getNumThreads,
  noGrad,
  enableGrad,
  isGradEnabled,
  autocast,
  autocastState,
  type AutocastDtype,
  memory,
  buildInfo,
  type BuildInfo,
  cuda,
  functional,
} from './tensor/index.js';

// layers and modules, backbones, classification heads (the margin losses)
export * as nn from './nn/index.js';
export * as models from './models/index.js';
export * as heads from './heads/index.js';

// datasets, codecs, the batch loader, packing
export * as data from './data/index.js';
export { generateSynthDataset, type SynthOptions, type SynthDataset } from './data/synth-files.js';

// file formats: safetensors, PyTorch checkpoints, model cards, TensorBoard event files
export * as io from './io/index.js';

// face detection: photos → faces → aligned crops
export {
  FaceDetector,
  detect,
  alignPhotos,
  selectFaces,
  loadPhoto,
  drawFaces,
  type Face,
  type BatchOptions,
  type DetectOptions,
  type DetectedFace,
  type FaceDetectorOptions,
  type FaceSelection,
  type PhotoFaces,
  type Photo,
  type MtcnnOptions,
  type MtcnnNets,
  type RgbImage,
} from './detect/index.js';

// evaluation and inference: the verification protocol, models for inference, alignment
export * from './eval/index.js';
export { exportOnnx, type OnnxExportOptions } from './eval/onnx-export.js';
export type { OnnxExportResult } from './onnx/write.js';
export { attentionMaps, type FaceAttention, type StageAttention } from './eval/attention.js';

// training
export { train, type TrainResult } from './train/train.js';
export {
  runTraining,
  trainStep,
  DivergenceError,
  type StepParts,
  type StepResult,
} from './train/trainer.js';
export type { TrainOptions, TrainSummary } from './train/run.js';
export {
  trainConfigSchema,
  validateConfig,
  readConfigFile,
  ConfigError,
  type TrainConfig,
  type TrainConfigInput,
} from './train/config.js';
export { preset, presetNames, type PresetConfig } from './train/presets.js';
export { SGD, type ParamGroupInput, type SGDOptions, type SGDState } from './train/sgd.js';
export { GradScaler, type GradScalerOptions, type GradScalerState } from './train/grad-scaler.js';
export { MultiStepSchedule, type ScheduleOptions } from './train/schedule.js';
export type { TrainHooks, TrainContext, SaveKind } from './train/hooks.js';
export type { BatchSource, TrainBatch, SourcePosition, ValidationResult, Validator, TrainComponents, ProgressEvent } from './train/types.js';
export { RunExistsError } from './train/run-dir.js';
export { readMetrics, type MetricRecord, type TrainRecord, type ValRecord, type LrRecord, type ReadMetricsOptions } from './train/metrics.js';
export { progressReporter, type ProgressReporter } from './train/progress.js';
export { GateStatsCollector, formatGateStats, type BlockGateStats, type GateSummary } from './train/gate-stats.js';
export { TensorBoardLogger } from './train/tensorboard.js';

// several processes: process groups, data parallelism, the sharded margin head
export * as distributed from './distributed/index.js';

// charts: training curves, ROC, attention pictures
export { plotRun, type RunPlots } from './train/plots.js';
export { lineChart, lineChartSvg, type LineChartOptions, type LineSeries, type RenderedChart } from './plot/charts.js';
export { renderAttention, type AttentionPictureOptions } from './plot/attention.js';
