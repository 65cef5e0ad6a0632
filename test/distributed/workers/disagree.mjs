// Ranks that issue different collectives (argv[2] names the case). Each attempt's error (or null)
// is printed as JSON, then a last allreduce the ranks agree on; the process must never abort.
import { allGatherWithGrad, DataParallel, init } from '../../../dist/lib/distributed/index.js';
import { randn, tensor, zeros } from '../../../dist/lib/tensor/index.js';
import { Linear } from '../../../dist/lib/nn/index.js';

const { group, rank } = await init({ timeoutMs: 20000 });
const mode = process.argv[2];
const n = rank === 0 ? 256 : 512;
const out = { rank, errors: [] };
const attempt = async (what, fn) => {
  try {
    await fn();
    out.errors.push(null);
  } catch (err) {
    out.errors.push(`${what}: ${err.message}`);
  }
};
if (mode === 'sizes') {
  await attempt('allReduce', () => group.allReduce(zeros([n]), 'sum'));
  await attempt('allReduceSync', () => group.allReduceSync(zeros([n]), 'sum'));
  await attempt('allGather', () => group.allGather(zeros([n])));
  await attempt('broadcast', () => group.broadcast(zeros([n]), 0));
  await attempt('allGatherWithGrad', () => allGatherWithGrad(group, zeros([n / 64, 64])));
  await attempt('dtype', () => group.allReduce(zeros([4], { dtype: rank === 0 ? 'float32' : 'float64' }), 'sum'));
  await attempt('op', () => group.allReduce(zeros([4]), rank === 0 ? 'sum' : 'max'));
  await attempt('root', () => group.broadcast(zeros([4]), rank));
} else if (mode === 'skip') {
  // rank 1 skips a collective: rank 0's meets rank 1's next one, and the ranks stay out of step
  if (rank === 0) await attempt('extra', () => group.allReduce(zeros([4]), 'sum'));
  await attempt('next', () => group.allReduce(zeros([8]), 'sum'));
} else if (mode === 'models') {
  // DataParallel over models of different widths: the gradient buckets differ
  const m = new Linear(8, rank === 0 ? 4 : 6);
  await attempt('broadcast of the parameters', () => DataParallel.create([m], group));
}
// the ranks still agree on this one (unless out of step)
const t = tensor([rank + 1], { dtype: 'float64' });
await attempt('after', () => group.allReduce(t, 'sum'));
out.after = t.toArray();
console.log(JSON.stringify(out));
process.exit(0);
