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

// evaluation, inference, interop (issue 6)
export * from './eval/index.js';
export * as io from './io/index.js';
export { loadStateDict, loadSafetensors, saveSafetensors, readTorchCheckpoint, mapInsightfaceStateDict, readModelCard, writeModelCard, type ModelCard } from './io/index.js';
export { InsightfaceIResNet, iresnetSpec, inferIResNetSpec, parseIResNetSpec, type IResNetSpec } from './models/insightface-iresnet.js';
export { lineChart, lineChartSvg, svgToPng, type LineChartOptions, type LineSeries, type RenderedChart } from './plot/charts.js';
// (end eval)

// training (issue 7)
// (end train)
