/** The tensor layer: `Tensor`, creation functions, functional ops, scopes and runtime controls. */
export { Tensor, TO_ARRAY_MAX_ELEMENTS, type TensorOrScalar, type NestedArray } from './tensor.js';
export { type DType, DTYPES, dtypeSize, isFloatingDtype } from './dtype.js';
export { type Device } from './device.js';
export * from './creation.js';
export { scope, keep, persist } from './scope.js';
export {
  manualSeed,
  getRngState,
  setRngState,
  setNumThreads,
  getNumThreads,
  maxThreads,
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
  type MemoryReport,
  type MemoryOptions,
  type CudaAllocatorReport,
} from './runtime.js';
export { CudaGraph } from './cuda-graph.js';
export * as functional from './functional.js';
