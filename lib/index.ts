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
// (end data)

// evaluation, inference, interop (issue 6)
// (end eval)

// training (issue 7)
// (end train)
