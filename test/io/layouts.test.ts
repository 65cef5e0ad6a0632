import { describe, expect, it } from 'vitest';
import { zeros, type Tensor } from '../../lib/tensor/index.js';
import { detectLayout, mapInsightfaceStateDict, toOurNames } from '../../lib/io/layouts.js';

/** insightface iresnet state-dict names for blocks per stage `units` (values: tiny tensors). */
function iresnetKeys(units: number[]): string[] {
  const bn = (p: string): string[] => ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((s) => `${p}.${s}`);
  const keys = ['conv1.weight', ...bn('bn1'), 'prelu.weight'];
  units.forEach((n, s) => {
    for (let j = 0; j < n; j++) {
      const p = `layer${s + 1}.${j}`;
      keys.push(...bn(`${p}.bn1`), `${p}.conv1.weight`, ...bn(`${p}.bn2`), `${p}.prelu.weight`, `${p}.conv2.weight`, ...bn(`${p}.bn3`));
      if (j === 0) keys.push(`${p}.downsample.0.weight`, ...bn(`${p}.downsample.1`));
    }
  });
  keys.push(...bn('bn2'), 'fc.weight', 'fc.bias', ...bn('features'));
  return keys;
}

describe('state-dict layouts', () => {
  it('maps insightface iresnet names to the CurricularFace layout and lists what has no counterpart', () => {
    const keys = iresnetKeys([2, 1, 3, 1]);
    const sd = new Map<string, Tensor>(keys.map((k) => [k, zeros([1])]));
    expect(detectLayout(sd.keys())).toBe('insightface');
    const m = mapInsightfaceStateDict(sd);
    expect(m.blocks).toEqual([2, 1, 3, 1]);
    const mk = [...m.mapped.keys()];
    expect(mk).toContain('input_layer.0.weight');
    expect(mk).toContain('input_layer.1.running_var');
    expect(mk).toContain('input_layer.2.weight');
    expect(mk).toContain('body.0.res_layer.0.weight'); // layer1.0.bn1
    expect(mk).toContain('body.1.res_layer.1.weight'); // layer1.1.conv1
    expect(mk).toContain('body.2.res_layer.2.weight'); // layer2.0.prelu
    expect(mk).toContain('body.2.shortcut_layer.0.weight'); // layer2.0.downsample.0
    expect(mk).toContain('body.5.res_layer.3.weight'); // layer3.2.conv2
    expect(mk).toContain('body.6.res_layer.4.num_batches_tracked'); // layer4.0.bn3
    expect(mk).toContain('output_layer.0.weight'); // bn2
    expect(mk).toContain('output_layer.3.bias'); // fc
    expect(mk).toContain('output_layer.4.running_mean'); // features
    expect(mk).not.toContain('output_layer.4.weight');
    expect(m.unmapped).toContain('layer1.0.downsample.0.weight');
    expect(m.unmapped).toContain('layer3.1.bn2.weight');
    expect(m.unmapped).toContain('features.bias');
    expect(m.unmapped.filter((k) => /\.bn2\.weight$/.test(k))).toHaveLength(7);
    expect(m.problems.join('\n')).toMatch(/7 blocks have bn2/);
    expect(m.problems.join('\n')).toMatch(/layer1.0 has a 1×1 conv \+ BN downsample/);
    expect(m.mapped.size + m.unmapped.length).toBe(keys.length);
    expect(() => toOurNames(sd, 'glint360k_r50.pth')).toThrow(/glint360k_r50.pth: an insightface iresnet checkpoint \(blocks per stage 2\/1\/3\/1\) does not map 1:1/);
    for (const t of sd.values()) t.dispose();
  });

  it('CurricularFace names pass through unchanged', () => {
    const sd = new Map<string, Tensor>([
      ['input_layer.0.weight', zeros([1])],
      ['body.0.res_layer.1.weight', zeros([1])],
    ]);
    expect(detectLayout(sd.keys())).toBe('curricularface');
    expect(toOurNames(sd)).toBe(sd);
    for (const t of sd.values()) t.dispose();
  });
});
