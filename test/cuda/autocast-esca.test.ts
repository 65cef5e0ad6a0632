/**
 * CUDA tests of mixed-precision training with ESCA (node:test; skipped without CUDA). Found on an
 * H200 (bench/RESULTS.md, run 1): under bf16 autocast the convolution before ESCA makes a bfloat16
 * input while the ESCA weights stay float32, and the op refused the mix. Now the weights are cast
 * (differentiably); a backbone + ESCA step under autocast must run, keep float32 weight gradients,
 * and stay close to the float32 step; the training benchmark's channels_last input too. And a
 * channels_last bf16 training step runs every ESCA on the activations as they come: the NHWC
 * kernels, no layout copy of the input or of the output gradient (ECF_ESCA_NO_COPY turns any
 * such copy into an error).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backbone } from '../../lib/models/index.js';
import { autocast, cuda, manualSeed, randn, scope, type Tensor } from '../../lib/tensor/index.js';
import { SGD } from '../../lib/train/sgd.js';
import { withEnv } from '../helpers/env.js';
import { recordEscaLayouts } from '../helpers/esca-layouts.js';

const skip = !cuda.isAvailable() && 'CUDA not available';

for (const [arch, dtype] of [['mobilefacenet', 'bfloat16'], ['ir18', 'bfloat16'], ['ir18', 'float16']] as const) {
  test(`${arch} + ESCA under ${dtype} autocast: forward+backward, float32 gradients close to the float32 step`, { skip }, () => {
    manualSeed(5);
    const m = backbone({ arch, attention: 'esca' }).to('cuda');
    m.eval(); // BN running statistics and dropout out of the comparison
    const x = scope(() => randn([8, 3, 112, 112], { device: 'cuda' }).contiguous('channelsLast'));
    const grads = (amp: boolean): Map<string, Tensor> =>
      scope(() => {
        m.zeroGrad();
        const y = amp ? autocast(dtype, () => m.forward(x)) : m.forward(x);
        if (amp) assert.notEqual(y.dtype, 'float32', 'autocast did not lower the backbone');
        y.float().square().mean().backward();
        const out = new Map<string, Tensor>();
        for (const [n, p] of m.namedParameters()) {
          assert.ok(p.grad !== null, `${n}: no gradient`);
          assert.equal(p.grad.dtype, 'float32', `${n}: gradient dtype`);
          if (/\.(ca|sa)\.conv\.weight$/.test(n)) out.set(n, p.grad.clone());
        }
        return out;
      });
    const lo = grads(true);
    const hi = grads(false);
    assert.ok(lo.size > 0, 'no ESCA parameters found');
    for (const [n, g] of lo) {
      const ref = hi.get(n)!;
      const err = g.sub(ref).abs().max().item() / Math.max(ref.abs().max().item(), 1e-12);
      assert.ok(Number.isFinite(err) && err < 0.25, `${n}: ${dtype} gradient relative error ${err}`);
    }
    for (const t of [...lo.values(), ...hi.values(), x]) t.dispose();
    m.dispose();
  });
}

for (const arch of ['ir18', 'mobilefacenet'] as const) {
  test(`${arch} + ESCA, channels_last, bf16 autocast: a training step copies no ESCA input or gradient`, { skip }, () => {
    manualSeed(6);
    const m = backbone({ arch, attention: 'esca' }).to('cuda');
    m.train();
    const seen = recordEscaLayouts(m); // what every ESCA block receives and returns
    const opt = new SGD(m.parameters(), { lr: 0.01, momentum: 0.9 });
    withEnv('ECF_ESCA_NO_COPY', '1', () =>
      scope(() => {
        m.zeroGrad();
        const x = randn([8, 3, 112, 112], { device: 'cuda' }).contiguous('channelsLast');
        const y = autocast('bfloat16', () => m.forward(x));
        y.float().square().mean().backward(); // any copy inside ESCA throws here
        opt.step();
        cuda.synchronize();
      }),
    );
    assert.equal(seen.length, arch === 'ir18' ? 8 : 15, seen.join('\n'));
    // H = W = 1 would make both layouts one; every ESCA here is at 7×7 or larger
    for (const line of seen) assert.match(line, /: bfloat16 channels_last in, bfloat16 channels_last out$/);
    for (const [n, p] of m.namedParameters()) {
      if (!/\.(ca|sa)\.conv\.weight$/.test(n)) continue;
      assert.ok(p.grad !== null, `${n}: no gradient`);
      const g = p.grad;
      assert.ok(Number.isFinite(scope(() => g.abs().sum().item())), `${n}: gradient not finite`);
    }
    opt.dispose();
    m.dispose();
  });
}
