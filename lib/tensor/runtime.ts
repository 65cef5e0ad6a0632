/** Process-level controls: seeds, threads, grad mode, CUDA queries and memory accounting. */
import { availableParallelism } from 'node:os';
import { native } from '../native.js';
import { wrap, handleOf, Tensor } from './tensor.js';

/** Seeds libtorch's CPU (and CUDA) generators. */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0) throw new TypeError(`manualSeed: seed must be a non-negative integer, got ${seed}`);
  native.manualSeed(seed);
}

/** The CPU generator's state (a uint8 tensor), to save in a checkpoint. */
export function getRngState(): Tensor {
  return wrap(native.getRngState());
}
/** Restores a state returned by {@link getRngState}. */
export function setRngState(state: Tensor): void {
  native.setRngState(handleOf(state, 'state'));
}

/**
 * The most threads any thread-count setting accepts on this machine: 4 × its cores (at least 8,
 * at most 1024). More threads than that only oversubscribe the cores; 10,000 OpenMP threads
 * never finish a matmul, and 10^9 make OpenMP abort the process.
 */
export function maxThreads(): number {
  return Math.min(1024, Math.max(8, 4 * availableParallelism()));
}

/** Throws unless `threads` is an integer in 1..{@link maxThreads}; `what` names the setting. */
export function checkThreads(threads: number, what: string): number {
  if (!Number.isInteger(threads) || threads < 1) throw new TypeError(`${what} must be a positive integer, got ${threads}`);
  const max = maxThreads();
  if (threads > max) throw new RangeError(`${what} must be at most ${max} on this machine (4 × its ${availableParallelism()} cores, at least 8), got ${threads}`);
  return threads;
}

/** Sets libtorch's intra-op thread count (defaults to the machine's cores at load); 1..{@link maxThreads}. */
export function setNumThreads(threads: number): void {
  native.setNumThreads(checkThreads(threads, 'setNumThreads: threads'));
}
export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Runs `fn` with gradient tracking off (like `torch.no_grad()`); restores the mode after. */
export function noGrad<R>(fn: () => R): R {
  return withGradMode(false, fn);
}
/** Runs `fn` with gradient tracking on. */
export function enableGrad<R>(fn: () => R): R {
  return withGradMode(true, fn);
}
export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

function withGradMode<R>(enabled: boolean, fn: () => R): R {
  const prev = native.isGradEnabled();
  native.setGradEnabled(enabled);
  try {
    const r = fn();
    if (r instanceof Promise) {
      throw new TypeError('noGrad/enableGrad: fn must be synchronous (grad mode is per thread and would leak into other work)');
    }
    return r;
  } finally {
    native.setGradEnabled(prev);
  }
}

/** Live tensors of this thread and the bytes of the distinct storages behind them. */
export interface MemoryReport {
  tensors: number;
  bytes: number;
  cpuBytes: number;
  cudaBytes: number;
  /** Tensors created since the addon was loaded in this thread. */
  created: number;
}
export function memory(): MemoryReport {
  return native.memory();
}

/** What the addon was built against. */
export function buildInfo(): { torchVersion: string; cuda: boolean; parallel: string } {
  return native.buildInfo();
}

/** CUDA queries. */
export const cuda = {
  /** True when this build has CUDA and a GPU is visible. */
  isAvailable(): boolean {
    return native.cudaIsAvailable();
  },
  deviceCount(): number {
    return native.cudaDeviceCount();
  },
  /** Waits for all queued GPU work. */
  synchronize(): void {
    native.cudaSynchronize();
  },
  deviceName(index = 0): string {
    return native.cudaDeviceName(index);
  },
  /**
   * cuDNN autotuning (PyTorch's `torch.backends.cudnn.benchmark`): with fixed input shapes, the
   * first step of each shape times the convolution algorithms and later steps use the fastest.
   * Sets it when `enable` is given; returns the setting before. Process-wide.
   */
  cudnnBenchmark(enable?: boolean): boolean {
    return enable === undefined ? native.cudnnBenchmark() : native.cudnnBenchmark(enable);
  },
  /** Returns the unused blocks of libtorch's CUDA caching allocator to the driver (no-op without CUDA). */
  emptyCache(): void {
    native.cudaEmptyCache();
  },
};
