/**
 * CUDA tests of the native ESCA/ECA kernels, node:test; run by scripts/gpu-check.sh on a GPU
 * machine, skipped where CUDA is unavailable. Contiguous input runs the NCHW kernels
 * (native/kernels/esca.cu), channels_last input the NHWC ones (native/kernels/esca_nhwc.cu).
 *
 * Reference: the composed ATen ops on the CPU in float64, on the very same (rounded) inputs.
 * Tolerance (max |err| / max |ref|): float32 1e-5, float16/bfloat16 1e-2.
 * ECF_POISON_OUTPUTS makes the native op fill every buffer it allocates (outputs, gradients,
 * saved statistics, workspace) with NaN before the kernels run, so unwritten elements show.
 * ECF_ESCA_NO_COPY makes it fail instead of copying its input or output gradient to another
 * layout: the channels_last cases run with it, so they prove the NHWC kernels read the caller's
 * tensors as they are.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { eca, ecaComposed, esca, escaComposed } from '../../lib/ops/esca.js';
import { cuda, manualSeed, memory, randn, scope, type DType, type Tensor } from '../../lib/tensor/index.js';
import { withEnv } from '../helpers/env.js';

const skip = !cuda.isAvailable() && 'CUDA not available';

type Shape = [number, number, number, number];
type Op = 'esca' | 'eca';

function kOf(c: number): number {
  const t = Math.trunc(Math.abs(Math.log2(c) / 2 + 0.5));
  return t % 2 === 1 ? t : t + 1;
}

function relErr(a: Tensor, b: Tensor): number {
  const d = a.cpu().double();
  const r = b.cpu().double();
  if (d.isnan().any().item()) return Number.NaN;
  return d.sub(r).abs().max().item() / Math.max(r.abs().max().item(), 1e-300);
}

/** Runs fn with ECF_ESCA_NO_COPY set: the op then refuses to copy its input or output gradient. */
function noCopy<R>(fn: () => R): R {
  return withEnv('ECF_ESCA_NO_COPY', '1', fn);
}

/**
 * Output and gradients of one implementation. `cl`: x in channels_last; `goCl`: the output
 * gradient too (else contiguous, which the op converts).
 */
function run(op: Op, fused: boolean, x: Tensor, wca: Tensor, wsa: Tensor, go: Tensor, cl = false, goCl = cl): Tensor[] {
  const xl = x.detach();
  const xi = (cl ? xl.contiguous('channelsLast') : xl.contiguous()).detach();
  xi.requiresGrad = true;
  const wc = wca.detach();
  wc.requiresGrad = true;
  const ws = wsa.detach();
  ws.requiresGrad = true;
  const out = op === 'esca' ? (fused ? esca : escaComposed)(xi, wc, ws) : (fused ? eca : ecaComposed)(xi, wc);
  out.backward(goCl ? go.contiguous('channelsLast') : go);
  const r = [out.detach(), xi.grad!, wc.grad!];
  if (op === 'esca') r.push(ws.grad!);
  return r;
}

function check(op: Op, shape: Shape, dtype: DType, tol: number, cl = false, goCl = cl): void {
  scope(() => {
    const c = shape[1];
    // Inputs drawn in float32 on the CPU, rounded to `dtype`; the reference sees the rounded values.
    const x = randn(shape).to(dtype);
    const wca = randn([1, 1, kOf(c)]).to(dtype);
    const wsa = randn([1, 2 * c, 3, 3]).mul(1 / Math.sqrt(2 * c)).to(dtype);
    const go = randn(shape).to(dtype);
    const fused = (): Tensor[] => run(op, true, x.cuda(), wca.cuda(), wsa.cuda(), go.cuda(), cl, goCl);
    const got = cl && goCl ? noCopy(fused) : fused();
    const ref = run(op, false, x.double(), wca.double(), wsa.double(), go.double());
    const names = ['out', 'dx', 'dcaWeight', 'dsaWeight'];
    got.forEach((t, i) => {
      assert.equal(t.device, 'cuda:0', names[i]);
      assert.equal(t.dtype, dtype, names[i]);
      if (i === 0 || i === 1) assert.equal(t.isContiguous(cl ? 'channelsLast' : 'contiguous'), true, names[i]);
      const e = relErr(t, ref[i]!);
      const layout = cl ? ` channels_last${goCl ? '' : ' (contiguous output gradient)'}` : '';
      assert.ok(e <= tol, `${op} ${dtype} [${shape}]${layout} ${names[i]}: relative error ${e} > ${tol}`);
    });
  });
}

const SHAPES: Shape[] = [
  [1, 12, 7, 7],
  [3, 20, 5, 9],
  [2, 64, 56, 56],
  [2, 128, 28, 28],
  [4, 256, 14, 14],
  [8, 512, 7, 7],
  [2, 33, 3, 17], // C one past a chunk of 32
  [1, 100, 1, 1],
  [5, 3, 2, 9],
];

// More shapes from a fixed LCG.
let seed = 11;
function next(lo: number, hi: number): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return lo + (seed % (hi - lo + 1));
}
for (let i = 0; i < 6; i++) SHAPES.push([next(1, 4), next(1, 80), next(1, 20), next(1, 20)]);

// What the NHWC kernels split differently: channels above one shared-memory chunk of 512 (with
// and without 16-byte packs), C a multiple of the pack width, odd H and W spanning several row
// bands of the pool backward, tall and narrow images, more samples than the 8 slices of the
// weight-gradient sum.
const NHWC_SHAPES: Shape[] = [
  [1, 520, 3, 4],
  [2, 513, 2, 3],
  [3, 24, 11, 6],
  [1, 40, 17, 15],
  [2, 2, 33, 7],
  [1, 48, 56, 3],
  [2, 16, 13, 1],
  [11, 6, 3, 4],
  [12, 64, 14, 14],
];

const TOL: [DType, number][] = [
  ['float32', 1e-5],
  ['float16', 1e-2],
  ['bfloat16', 1e-2],
];

describe('ESCA/ECA CUDA kernels vs the CPU float64 reference', { skip }, () => {
  process.env.ECF_POISON_OUTPUTS = '1';
  manualSeed(2024);
  for (const op of ['esca', 'eca'] as const) {
    for (const [dtype, tol] of TOL) {
      test(`${op} ${dtype}`, () => {
        for (const s of SHAPES) check(op, s, dtype, tol);
      });
      test(`${op} ${dtype} channels_last (NHWC kernels, no copies)`, () => {
        for (const s of [...SHAPES, ...NHWC_SHAPES]) check(op, s, dtype, tol, true);
      });
      test(`${op} ${dtype} channels_last input, contiguous output gradient`, () => {
        for (const s of [SHAPES[1]!, NHWC_SHAPES[3]!]) check(op, s, dtype, tol, true, false);
      });
    }
  }
  test('float64 on CUDA is refused with a clear error', () => {
    scope(() => {
      const x = randn([2, 8, 4, 4], { dtype: 'float64', device: 'cuda' });
      const w = randn([1, 1, 3], { dtype: 'float64', device: 'cuda' });
      assert.throws(() => eca(x, w), /eca: CUDA kernels take float32, float16 or bfloat16 input, got Double/);
    });
  });
  test('weights on another device are refused', () => {
    scope(() => {
      const x = randn([2, 8, 4, 4], { device: 'cuda' });
      assert.throws(() => eca(x, randn([1, 1, 3])), /eca: channel-attention weight is on cpu but the input is on cuda:0/);
    });
  });
  test('results are deterministic (no atomics), in both layouts', () => {
    scope(() => {
      const x = randn([4, 96, 14, 14], { device: 'cuda' });
      const wca = randn([1, 1, 5], { device: 'cuda' });
      const wsa = randn([1, 192, 3, 3], { device: 'cuda' }).mul(0.07);
      const go = randn([4, 96, 14, 14], { device: 'cuda' });
      for (const cl of [false, true]) {
        const a = run('esca', true, x, wca, wsa, go, cl);
        const b = run('esca', true, x, wca, wsa, go, cl);
        a.forEach((t, i) => assert.equal(t.sub(b[i]!).abs().max().item(), 0, `channels_last ${cl}, tensor ${i}`));
      }
    });
  });
  test('channels_last bfloat16: no copy of the input or the gradient (allocator peaks), outputs channels_last', () => {
    scope(() => {
      // 2 MiB exactly: the caching allocator rounds a large block it does not split up to 2 MiB
      const shape: Shape = [8, 128, 32, 32];
      const bytes = 8 * 128 * 32 * 32 * 2;
      const x = randn(shape, { device: 'cuda' }).to('bfloat16').contiguous('channelsLast');
      x.requiresGrad = true;
      const wca = randn([1, 1, 5], { device: 'cuda' }).to('bfloat16');
      const wsa = randn([1, 256, 3, 3], { device: 'cuda' }).mul(0.06).to('bfloat16');
      const go = randn(shape, { device: 'cuda' }).to('bfloat16').contiguous('channelsLast');
      // Besides the output (or dx) the kernels allocate ≈ 0.14× / 0.1× of x in float32 workspace;
      // converting x (and go) to NCHW and back would add one to three more x-sized tensors.
      const peakOf = (fn: () => Tensor): [Tensor, number] => {
        cuda.synchronize();
        const before = memory({ resetPeak: true }).cudaAllocator.allocatedBytes;
        const t = fn();
        cuda.synchronize();
        return [t, memory().cudaAllocator.peakAllocatedBytes - before];
      };
      const [out, fwd] = peakOf(() => esca(x, wca, wsa));
      assert.ok(out.isContiguous('channelsLast'), 'output not channels_last');
      assert.ok(fwd < 1.5 * bytes, `forward allocated ${fwd} bytes at its peak, more than 1.5× the input's ${bytes}`);
      const [dx, bwd] = peakOf(() => {
        out.backward(go);
        return x.grad!;
      });
      assert.ok(dx.isContiguous('channelsLast'), 'input gradient not channels_last');
      assert.ok(bwd < 1.5 * bytes, `backward allocated ${bwd} bytes at its peak, more than 1.5× the input's ${bytes}`);
    });
  });
});
