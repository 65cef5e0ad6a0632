// ESCA on channels_last activations runs its NHWC kernels on the caller's tensors: no copy of the
// input or of the output gradient (native/ops/esca.cc). ECF_ESCA_NO_COPY=1 turns such a copy into
// an error naming the tensor, which these tests use on CPU (float32: no dtype conversion either)
// and test/cuda/autocast-esca.test.ts uses on CUDA for a bf16 training step.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { backbone } from '../../lib/models/index.js';
import { esca } from '../../lib/ops/esca.js';
import { manualSeed, randn, scope, type Tensor } from '../../lib/tensor/index.js';
import { SGD } from '../../lib/train/sgd.js';
import { layoutOf as layout, recordEscaLayouts } from '../helpers/esca-layouts.js';

describe('ESCA keeps channels_last without copies (ECF_ESCA_NO_COPY)', () => {
  beforeEach(() => {
    process.env.ECF_ESCA_NO_COPY = '1';
  });
  afterEach(() => {
    delete process.env.ECF_ESCA_NO_COPY;
  });

  function weights(c: number): [Tensor, Tensor] {
    const wca = randn([1, 1, 3]).requiresGrad_(true);
    const wsa = randn([1, 2 * c, 3, 3]).mul(0.1).detach().requiresGrad_(true);
    return [wca, wsa];
  }

  it('runs on a channels_last input and gradient as they are; output and input gradient stay channels_last', () =>
    scope(() => {
      const x = randn([2, 12, 5, 7]).contiguous('channelsLast').requiresGrad_(true);
      const [wca, wsa] = weights(12);
      const out = esca(x, wca, wsa);
      expect(layout(out)).toBe('channels_last');
      out.backward(randn([2, 12, 5, 7]).contiguous('channelsLast'));
      expect(layout(x.grad!)).toBe('channels_last');
    }));

  it('fails naming the tensor when it would have to copy (contiguous gradient, strided input)', () =>
    scope(() => {
      const x = randn([2, 12, 5, 7]).contiguous('channelsLast').requiresGrad_(true);
      const [wca, wsa] = weights(12);
      const out = esca(x, wca, wsa);
      expect(() => out.backward(randn([2, 12, 5, 7]))).toThrow(
        /esca: the output gradient \(Float, sizes \[2, 12, 5, 7\], strides \[420, 35, 7, 1\]\) was copied to run the NHWC CPU kernels/,
      );
      const strided = randn([2, 12, 5, 14]).slice(3, 0, 14, 2); // every other column
      expect(() => esca(strided, wca, wsa)).toThrow(/esca: the input .* was copied to run the NCHW CPU kernels/);
    }));

  it('a channels_last training step of MobileFaceNet + ESCA copies no ESCA input or gradient', () => {
    manualSeed(6);
    const m = backbone({ arch: 'mobilefacenet', attention: 'esca' });
    m.train();
    const seen = recordEscaLayouts(m);
    const opt = new SGD(m.parameters(), { lr: 0.01, momentum: 0.9 });
    scope(() => {
      const x = randn([2, 3, 112, 112]).contiguous('channelsLast');
      m.forward(x).square().mean().backward(); // any copy inside ESCA throws here
      opt.step();
    });
    expect(seen).toHaveLength(15);
    for (const line of seen) expect(line).toMatch(/: float32 channels_last in, float32 channels_last out$/);
    opt.dispose();
    m.dispose();
  });
});
