// `train()` as one rank: argv[2] the config file, argv[3] JSON of fields to override, argv[4] a run
// to resume (optional). Prints as JSON the summary's step count, the progress messages, and the
// head's kernel and its momentum buffer as the run starts (after a resume: what was restored);
// exits 0 also after a stop request.
import { readFileSync } from 'node:fs';
import { train } from '../../../dist/lib/train/train.js';

const config = { ...JSON.parse(readFileSync(process.argv[2], 'utf8')), ...JSON.parse(process.argv[3] ?? '{}') };
const messages = [];
let head = null;
const atStart = {
  onStart(ctx) {
    const kernel = ctx.head.parameters()[0];
    const i = ctx.optimizer.paramGroups.flatMap((g) => g.params).indexOf(kernel);
    head = { kernel: kernel.toArray(), momentum: ctx.optimizer.stateDict().momentumBuffers[i]?.toArray() ?? null };
  },
};
const s = await train(config, {
  ...(process.argv[4] ? { resume: process.argv[4] } : {}),
  hooks: [atStart],
  onProgress: (e) => e.kind === 'message' && messages.push(e.text),
});
console.log(JSON.stringify({ steps: s.steps, interrupted: s.interrupted, messages, head }));
