import { describe, expect, it } from 'vitest';
import { formatValidation, progressReporter } from '../../lib/train/progress.js';

function fakeStream(): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const stream = { isTTY: false, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => out };
}

describe('progress reporter', () => {
  it('writes plain lines with loss, LR, t, positive cosine, hard fraction, images/s and data wait off a TTY', () => {
    const f = fakeStream();
    const r = progressReporter({ stream: f.stream });
    r.onProgress({ kind: 'start', runDir: '/runs/x', totalSteps: 100, startStep: 0, resumed: false, numImages: 4000, numClasses: 200 });
    r.onProgress({
      kind: 'step', step: 10, totalSteps: 100, epoch: 0, epochs: 4, batchesPerEpoch: 25,
      loss: 12.34567, lr: 0.1, t: 0.0123, positiveCosine: 0.25, hardFraction: 0.975, imagesPerSec: 88.8, dataWait: 0.012,
    });
    r.onProgress({ kind: 'validation', step: 25, epoch: 1, results: [{ name: 'lfw', accuracy: 0.9783, std: 0.0071 }] });
    r.onProgress({ kind: 'checkpoint', step: 26, epoch: 1, path: '/runs/x/checkpoint.safetensors', reason: 'interrupt' });
    r.stop();
    const lines = f.text().trim().split('\n');
    expect(lines[0]).toBe('training in /runs/x: 4000 images, 200 identities, steps 0/100');
    expect(lines[1]).toBe('step 10/100 epoch 1/4  loss 12.3457  lr 0.100  t 0.0123  cos+ 0.250  hard 97.50%  88.8 img/s  data-wait 1.2%');
    expect(lines[2]).toBe('validation at step 25: lfw 97.83±0.71');
    expect(lines[3]).toBe('checkpoint (interrupt) at step 26: /runs/x/checkpoint.safetensors');
  });

  it('shows a dash for statistics a head does not have', () => {
    const f = fakeStream();
    const r = progressReporter({ stream: f.stream });
    r.onProgress({
      kind: 'step', step: 1, totalSteps: 2, epoch: 0, epochs: 1, batchesPerEpoch: 2,
      loss: 1, lr: 0.1, t: NaN, positiveCosine: 0.1, hardFraction: NaN, imagesPerSec: 1, dataWait: 0,
    });
    expect(f.text()).toMatch(/t –  cos\+ 0\.100  hard –  1\.0 img\/s/);
    expect(formatValidation([])).toBe('');
  });
});
