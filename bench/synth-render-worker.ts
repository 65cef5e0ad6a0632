/**
 * Worker of bench/gpu-stability.ts: renders identities [from, to) of the synthetic generator
 * (lib/data/synth.ts) at full size into a shared uint8 buffer, `perIdentity` images each, HWC RGB,
 * image (i·perIdentity + k) at offset (i·perIdentity + k)·size²·3.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { identitySeed, makeIdentity, renderFace, renderTemplate } from '../lib/data/synth.js';

interface Job {
  buffer: SharedArrayBuffer;
  seed: number;
  from: number;
  to: number;
  perIdentity: number;
  size: number;
}

const job = workerData as Job;
const out = new Uint8Array(job.buffer);
const px = job.size * job.size * 3;
for (let i = job.from; i < job.to; i++) {
  const template = renderTemplate(makeIdentity(identitySeed(job.seed, 'train', i)), Math.round(job.size * 1.25));
  for (let k = 0; k < job.perIdentity; k++) {
    out.set(renderFace(job.seed, 'train', i, k, job.size, { template }), (i * job.perIdentity + k) * px);
  }
}
parentPort!.postMessage('done');
