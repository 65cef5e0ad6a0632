/** The run config the distributed training tests share (launch-train, torchrun). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSynthDataset } from '../../lib/data/synth-files.js';
import { tinyEscaSpec } from '../train/tiny.js';

/**
 * A synthetic RecordIO set under `root` and a run config (root/run.json, run name 'dist'): the
 * tiny MobileFaceNet+ESCA of test/train, sharded CurricularFace head, batch 4 × gradAccumSteps 2,
 * 2 steps of one epoch.
 */
export async function writeTrainConfig(root: string): Promise<string> {
  const d = await generateSynthDataset({ seed: 11, identities: 6, imagesPerIdentity: 8, valIdentities: 6, valPairs: 40, imageSize: 32, cacheDir: join(root, 'cache') });
  const config = join(root, 'run.json');
  writeFileSync(
    config,
    JSON.stringify({
      backbone: 'mobilefacenet',
      backboneSpec: tinyEscaSpec,
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
