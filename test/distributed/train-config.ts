/** The run config the distributed training tests share (launch-train, torchrun). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSynthDataset } from '../../lib/data/synth-files.js';

/** A MobileFaceNet+ESCA small enough to train in seconds at 32×32. */
const tinySpec = {
  block: 'mobilefacenet',
  name: 'tiny-mobilefacenet-esca',
  inputChannels: 3,
  inputSize: 32,
  stem: { channels: 8, stride: 2 },
  stages: [
    { name: 'conv_23', channels: 8, hidden: 16, blocks: 1, stride: 2, residual: false },
    { name: 'conv_34', channels: 16, hidden: 32, blocks: 1, stride: 2, residual: false },
  ],
  head: { channels: 32, embeddingSize: 16 },
  attention: 'esca',
  init: 'kaiming',
};

/**
 * A synthetic RecordIO set under `root` and a run config (root/run.json, run name 'dist'): tiny
 * backbone, sharded CurricularFace head, batch 4 × gradAccumSteps 2, 2 steps of one epoch.
 */
export async function writeTrainConfig(root: string): Promise<string> {
  const d = await generateSynthDataset({ seed: 11, identities: 6, imagesPerIdentity: 8, valIdentities: 6, valPairs: 40, imageSize: 32, cacheDir: join(root, 'cache') });
  const config = join(root, 'run.json');
  writeFileSync(
    config,
    JSON.stringify({
      backbone: 'mobilefacenet',
      backboneSpec: tinySpec,
      imageSize: 32,
      embeddingSize: 16,
      head: { type: 'curricularface', options: {} },
      data: { train: { type: 'recordio', path: d.rec }, val: [d.bins[0]!.path], workers: 0 },
      batchSize: 4,
      gradAccumSteps: 2,
      epochs: 1,
      stepsPerEpoch: 2,
      milestones: [],
      lr: 0.05,
      logEvery: 1,
      threads: 1,
      outDir: root,
      name: 'dist',
      distributed: { shardedHead: true, timeoutMs: 60000 },
    }),
  );
  return config;
}
