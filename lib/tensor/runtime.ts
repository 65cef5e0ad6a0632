/** Process-level controls: seeds, threads, grad mode, autocast, CUDA queries and memory accounting. */
import { availableParallelism } from 'node:os';
import { checkInt } from '../check.js';
import { native } from '../native.js';
import { dtypeCode, dtypeName } from './dtype.js';
import { wrap, handleOf, Tensor } from './tensor.js';

/** Seeds libtorch's CPU (and CUDA) generators. */
export function manualSeed(seed: number): void {
  native.manualSeed(checkInt('manualSeed: seed', seed, 0));
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
  checkInt(what, threads, 1);
  const max = maxThreads();
  if (threads > max) throw new RangeError(`${what} must be at most ${max} on this machine (4 × its ${availableParallelism()} cores, at least 8), got ${threads}`);
  return threads;
}

/** Sets libtorch's intra-op thread count (defaults to the machine's cores at load); 1..{@link maxThreads}. */
export function setNumThreads(threads: number): void {
  native.setNumThreads(checkThreads(threads, 'setNumThreads: threads'));
}
/** libtorch's intra-op thread count. */
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
/** Whether gradients are tracked here (false inside `noGrad`). */
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

/** The reduced precisions CUDA autocast runs in. */
export type AutocastDtype = 'float16' | 'bfloat16';

/**
 * Runs `fn` under CUDA autocast (mixed precision, like `torch.autocast('cuda', dtype)`): inside
 * it, the ops autocast lists (convolutions, matmuls, linear layers) run on CUDA tensors in
 * `dtype`, and the ops that need range (reductions, losses, normalisations) in float32. CPU ops
 * are unaffected. The setting is per thread; the one before is restored when `fn` returns or
 * throws, so calls nest. `fn` must be synchronous.
 * @example
 * const emb = autocast('bfloat16', () => backbone.forward(images));
 */
export function autocast<R>(dtype: AutocastDtype, fn: () => R): R {
  if (dtype !== 'float16' && dtype !== 'bfloat16') {
    throw new TypeError(`autocast: dtype must be 'float16' or 'bfloat16', got ${JSON.stringify(dtype)}`);
  }
  const wasEnabled = native.isAutocastEnabled();
  const before = native.autocastDtype();
  native.setAutocast(true, dtypeCode(dtype));
  try {
    const r = fn();
    if (r instanceof Promise) {
      throw new TypeError('autocast: fn must be synchronous (autocast is per thread and would leak into other work)');
    }
    return r;
  } finally {
    native.setAutocast(wasEnabled, before);
  }
}

/** Whether CUDA autocast is on in this thread, and its dtype. */
export function autocastState(): { enabled: boolean; dtype: AutocastDtype } {
  return { enabled: native.isAutocastEnabled(), dtype: dtypeName(native.autocastDtype()) as AutocastDtype };
}

/** The CUDA caching allocator of one device, for the whole process (all threads). */
export interface CudaAllocatorReport {
  /** Bytes of live CUDA tensors now. */
  allocatedBytes: number;
  /** The most `allocatedBytes` has been since the last reset (the high-water mark of a step or phase). */
  peakAllocatedBytes: number;
  /** Bytes the allocator holds from the driver now (live tensors plus its cache). */
  reservedBytes: number;
  /** The most `reservedBytes` has been since the last reset. */
  peakReservedBytes: number;
}

/**
 * Live tensors of this thread and the bytes of the distinct storages behind them, and the CUDA
 * caching allocator's counters of one device (`cudaAllocator`; all zeros in a build without CUDA
 * or on a machine without a GPU — a CPU build tracks no peak).
 */
export interface MemoryReport {
  tensors: number;
  bytes: number;
  cpuBytes: number;
  cudaBytes: number;
  /** Tensors created since the addon was loaded in this thread. */
  created: number;
  cudaAllocator: CudaAllocatorReport;
}

/** Options of {@link memory}. */
export interface MemoryOptions {
  /** CUDA device whose allocator is read (default 0). */
  device?: number;
  /**
   * After reading, restart the allocator's peaks from the current values, so that the next
   * report's peaks cover only what ran in between (one step, one phase). Default false.
   */
  resetPeak?: boolean;
}

/**
 * Memory now. For a per-step high-water mark on CUDA: `memory({ resetPeak: true })` before the
 * step, then `memory().cudaAllocator.peakAllocatedBytes` after it.
 */
export function memory(options: MemoryOptions = {}): MemoryReport {
  const device = checkInt('memory: device', options.device ?? 0, 0);
  return { ...native.memory(), cudaAllocator: native.cudaMemoryStats(device, options.resetPeak ?? false) };
}

/** What the addon was built against, and what its libtorch uses here. */
export interface BuildInfo {
  /** libtorch version the addon was compiled against (e.g. "1.13.1", "2.13.0"). */
  torchVersion: string;
  /** Whether this is a CUDA build. */
  cuda: boolean;
  /** libtorch's parallel settings (`at::get_parallel_info()`). */
  parallel: string;
  /**
   * Whether convolutions may run through NNPACK: libtorch has it and this CPU can run it. Where
   * libtorch 2.x has NNPACK but the CPU cannot run it, the addon turns it off when it loads, so
   * libtorch never tries it (and never logs "Could not initialize NNPACK!").
   */
  nnpack: boolean;
  /**
   * The C library's heap policy for tensor memory: "glibc, fixed thresholds (…)" where the addon
   * fixed glibc's malloc thresholds when it loaded (freed tensor memory stays in the heap for the
   * next step instead of being faulted in again), or "system default" (another C library, or
   * `ECACFACE_MALLOC=system`, `GLIBC_TUNABLES=glibc.malloc.…` or `MALLOC_*_` variables set).
   */
  cpuMalloc: string;
}

/** What the addon was built against. */
export function buildInfo(): BuildInfo {
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
