/**
 * ecacface-torch: face recognition with ECACFace (ESCA attention + CurricularFace) on libtorch.
 *
 * The public API is everything exported here; other modules are internal.
 */
export {
  Tensor,
  type TensorOrScalar,
  type NestedArray,
  type DType,
  type Device,
  type TensorOptions,
  type MemoryReport,
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
  type AutocastDtype,
  memory,
  buildInfo,
  cuda,
  functional,
} from './tensor/index.js';

// nn modules and backbones (issue 3)
export * as nn from './nn/index.js';
export * as models from './models/index.js';
// (end nn/models)

// heads (issue 4)
export * as heads from './heads/index.js';
// (end heads)

// data (issue 5)
export * as data from './data/index.js';
// (end data)

// face detection: photos → faces → aligned crops (issue 14)
export {
  FaceDetector,
  detect,
  alignPhotos,
  selectFaces,
  loadPhoto,
  drawFaces,
  type Face,
  type DetectOptions,
  type DetectedFace,
  type FaceDetectorOptions,
  type FaceSelection,
  type PhotoFaces,
  type Photo,
} from './detect/index.js';
export * as detection from './detect/index.js';
// (end detect)

// evaluation, inference, interop (issue 6)
export * from './eval/index.js';
export * as io from './io/index.js';
export { loadStateDict, loadSafetensors, saveSafetensors, readTorchCheckpoint, mapInsightfaceStateDict, readModelCard, writeModelCard, type ModelCard } from './io/index.js';
export { InsightfaceIResNet, iresnetSpec, inferIResNetSpec, parseIResNetSpec, type IResNetSpec } from './models/insightface-iresnet.js';
export { lineChart, lineChartSvg, svgToPng, type LineChartOptions, type LineSeries, type RenderedChart } from './plot/charts.js';
// (end eval)

// training (issue 7)
export { train, type TrainResult } from './train/train.js';
export {
  runTraining,
  trainStep,
  DivergenceError,
  runDirOf,
  type StepParts,
  type StepResult,
  type TrainComponents,
  type TrainOptions,
  type TrainSummary,
  type ProgressEvent,
} from './train/trainer.js';
export {
  trainConfigSchema,
  validateConfig,
  readConfigFile,
  applyOverrides,
  mergeConfig,
  ConfigError,
  type TrainConfig,
  type TrainConfigInput,
} from './train/config.js';
export { preset, presetNames, PRESET_RECIPES, PRESET_METHODS, type PresetConfig } from './train/presets.js';
export { SGD, type ParamGroupInput, type SGDOptions, type SGDState } from './train/sgd.js';
export { GradScaler, type GradScalerOptions, type GradScalerState } from './train/grad-scaler.js';
export type { TrainHooks, TrainContext, SaveKind } from './train/hooks.js';
export { MultiStepSchedule, type ScheduleOptions } from './train/schedule.js';
export { readMetrics, type MetricRecord, type TrainRecord, type ValRecord, type LrRecord } from './train/metrics.js';
export { plotRun } from './train/plots.js';
export { progressReporter, type ProgressReporter } from './train/progress.js';
export { GateStatsCollector, formatGateStats, type BlockGateStats, type GateSummary } from './train/gate-stats.js';
export { TensorBoardLogger } from './train/tensorboard.js';
export { RunExistsError } from './train/run-dir.js';
export { EventFileWriter } from './io/tfevents.js';
export { attentionMaps, type FaceAttention, type StageAttention } from './eval/attention.js';
export { renderAttention } from './plot/attention.js';
export { exportBackbone } from './train/export.js';
export { generateSynthDataset, type SynthOptions, type SynthDataset } from './data/synth-files.js';
export { renderFace, makeIdentity, renderTemplate } from './data/synth.js';
export type { BatchSource, TrainBatch, SourcePosition, ValidationResult, Validator } from './train/types.js';
// (end train)
