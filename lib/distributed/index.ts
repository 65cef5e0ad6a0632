/**
 * Distributed training on libtorch's c10d: process groups (Gloo, NCCL), data parallelism, the
 * sharded margin head, and the launch environment. See docs/distributed.md.
 */
export { readLaunchEnv, type LaunchEnv } from './env.js';
export { ProcessGroup, availableBackends, type ProcessGroupOptions, type ReduceOp } from './group.js';
export { SetupMismatchError, type Fingerprint } from './agree.js';
export { init, type InitOptions, type Distributed } from './init.js';
export { allGatherWithGrad } from './autograd.js';
export { DataParallel, broadcastState, type DataParallelOptions } from './data-parallel.js';
export { ShardedMarginHead, shardRange, type ShardedHeadOptions, type ShardableHeadOptions } from './sharded-head.js';
