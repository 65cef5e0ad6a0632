// The CPU-build behaviour of the CUDA-only parts of issue 16 (their CUDA behaviour is tested in
// test/cuda/cuda-graph.test.ts on a GPU machine): memory()'s allocator counters are zeros and the
// CUDA graph API refuses with a clear error instead of doing nothing.
import { describe, expect, it } from 'vitest';

import { buildInfo, cuda, CudaGraph, memory, zeros } from '../../lib/tensor/index.js';
import { GraphedTrainStep } from '../../bench/graphed-step.js';

const noCuda = !buildInfo().cuda || !cuda.isAvailable();

describe.skipIf(!noCuda)('without CUDA', () => {
  it('memory() reports the CUDA allocator as zeros, with and without resetPeak', () => {
    const zero = { allocatedBytes: 0, peakAllocatedBytes: 0, reservedBytes: 0, peakReservedBytes: 0 };
    expect(memory().cudaAllocator).toEqual(zero);
    const t = zeros([1024]);
    expect(memory({ resetPeak: true }).cudaAllocator).toEqual(zero);
    expect(memory().cpuBytes).toBeGreaterThanOrEqual(4096);
    t.dispose();
  });
  it('CudaGraph.capture throws without running the function', () => {
    let ran = false;
    expect(() => CudaGraph.capture(() => (ran = true))).toThrow(/cudaGraphBegin: this build of ecacface-torch has no CUDA support|no CUDA device 0/);
    expect(ran).toBe(false);
  });
});

describe('argument checks', () => {
  it('memory() and CudaGraph.capture name a bad device', () => {
    expect(() => memory({ device: -1 })).toThrow(/memory: device must be a non-negative integer, got -1/);
    expect(() => CudaGraph.capture(() => {}, { device: 1.5 })).toThrow(/CudaGraph.capture: device must be a non-negative integer/);
  });
  it('GraphedTrainStep needs at least one warm-up step', () => {
    expect(() => GraphedTrainStep.create({ inputs: [], step: () => zeros([1]), zeroGrad: () => {}, warmup: 0 })).toThrow(
      /warmup must be a positive integer, got 0/,
    );
  });
});
