// Mixed precision in the ESCA/ECA ops: a float16/bfloat16 input (what CUDA autocast makes of the
// convolution before the block) with float32 weights — found on the GPU, where IR + ESCA training
// under bf16 autocast failed with "channel-attention weight dtype Float differs from the input
// dtype BFloat16". The weights are cast to the input's dtype; gradients reach the float32 weights.
// Checked against the float32 op (float64 error measure) and the explicit cast.
import { describe, expect, it } from 'vitest';

import { ESCA } from '../../lib/nn/attention/esca.js';
import { channelAttentionGate, eca, esca, spatialAttentionMap } from '../../lib/ops/esca.js';
import { manualSeed, memory, randn, scope, type Tensor } from '../../lib/tensor/index.js';

function relErr(a: Tensor, b: Tensor): number {
  const den = b.double().abs().max().item();
  return a.double().sub(b.double()).abs().max().item() / Math.max(den, 1e-300);
}

describe('float16/bfloat16 input with float32 weights', () => {
  manualSeed(11);
  for (const dtype of ['bfloat16', 'float16'] as const) {
    it(`esca, ${dtype}: output in ${dtype}, float32 weight gradients equal the explicit cast's`, () =>
      scope(() => {
        const x = randn([2, 12, 6, 6]);
        const wca = randn([1, 1, 3]).requiresGrad_(true);
        const wsa = randn([1, 24, 3, 3]).mul(0.2).requiresGrad_(true);
        const xl = x.to(dtype);
        const y = esca(xl, wca, wsa);
        expect(y.dtype).toBe(dtype);
        const g = randn([2, 12, 6, 6]);
        y.backward(g.to(dtype));
        expect(wca.grad!.dtype).toBe('float32');
        expect(wsa.grad!.dtype).toBe('float32');
        // the same with the cast written out by hand
        const wca2 = wca.detach().requiresGrad_(true);
        const wsa2 = wsa.detach().requiresGrad_(true);
        const y2 = esca(xl, wca2.to(dtype), wsa2.to(dtype));
        y2.backward(g.to(dtype));
        expect(relErr(y, y2)).toBe(0);
        expect(relErr(wca.grad!, wca2.grad!)).toBe(0);
        expect(relErr(wsa.grad!, wsa2.grad!)).toBe(0);
        // and near the float32 op
        const wca3 = wca.detach().requiresGrad_(true);
        const wsa3 = wsa.detach().requiresGrad_(true);
        const y3 = esca(x, wca3, wsa3);
        y3.backward(g);
        expect(relErr(y, y3)).toBeLessThan(2e-2);
        expect(relErr(wca.grad!, wca3.grad!)).toBeLessThan(5e-2);
        expect(relErr(wsa.grad!, wsa3.grad!)).toBeLessThan(5e-2);
      }));
  }
  it('eca, bfloat16: output in bfloat16, gradient to the float32 weight', () =>
    scope(() => {
      const x = randn([3, 16, 4, 4]);
      const w = randn([1, 1, 3]).requiresGrad_(true);
      const y = eca(x.to('bfloat16'), w);
      expect(y.dtype).toBe('bfloat16');
      y.float().sum().backward();
      const w3 = w.detach().requiresGrad_(true);
      eca(x, w3).sum().backward();
      expect(relErr(w.grad!, w3.grad!)).toBeLessThan(5e-2);
    }));
  it('the casts leave no tensor behind', () => {
    const x = randn([2, 8, 4, 4]).to('bfloat16');
    const wca = randn([1, 1, 3]);
    const wsa = randn([1, 16, 3, 3]);
    const before = memory().tensors;
    esca(x, wca, wsa).dispose();
    eca(x, wca).dispose();
    expect(memory().tensors).toBe(before);
    for (const t of [x, wca, wsa]) t.dispose();
  });
  it("ESCA.gates (gate statistics, attention maps) on a bfloat16 input: the explicit cast's gates", () =>
    scope(() => {
      const m = new ESCA(8);
      const x = randn([2, 8, 4, 4]).to('bfloat16');
      const g = m.gates(x);
      expect([g.channel.dtype, g.spatial.dtype]).toEqual(['bfloat16', 'bfloat16']);
      const channel = channelAttentionGate(x, m.ca.conv.weight.to('bfloat16'));
      const y = x.mul(channel.view(2, 8, 1, 1));
      expect(relErr(g.channel, channel)).toBe(0);
      expect(relErr(g.spatial, spatialAttentionMap(y, m.sa.conv.weight.to('bfloat16')))).toBe(0);
    }));
  it('other dtype mismatches still fail with the native message', () => {
    const x = randn([2, 8, 4, 4]);
    expect(() => esca(x, randn([1, 1, 3]).double(), randn([1, 16, 3, 3]))).toThrow(/channel-attention weight dtype Double differs from the input dtype Float/);
    expect(() => esca(x.to('bfloat16'), randn([1, 1, 3]).double(), randn([1, 16, 3, 3]))).toThrow(/differs from the input dtype BFloat16/);
  });
});
