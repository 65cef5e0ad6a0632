// Collectives of a 2+-rank group against values each rank can compute for itself.
import { init } from '../../../dist/lib/distributed/index.js';
import { tensor } from '../../../dist/lib/tensor/index.js';

const { group, rank, worldSize } = await init({ timeoutMs: 20000 });
const W = worldSize;
const out = { rank, worldSize };
const a = tensor([rank + 1, 10 * (rank + 1), -rank], { dtype: 'float64' });
await group.allReduce(a, 'sum');
out.sum = a.toArray();
const b = tensor([rank, -rank], { dtype: 'float32' });
await group.allReduce(b, 'max');
out.max = b.toArray();
const c = tensor([rank + 1], { dtype: 'float64' });
await group.allReduce(c, 'avg');
out.avg = c.toArray();
// two dtypes packed
const d1 = tensor([[rank, rank], [1, 1]], { dtype: 'float32' });
const d2 = tensor([rank * 3], { dtype: 'int64' });
await group.allReduce([d1, d2], 'sum');
out.packed = [d1.toArray(), d2.toArray()];
const g = await group.allGather(tensor([rank, rank * rank], { dtype: 'float64' }));
out.gather = g.map((t) => t.toArray());
const e = tensor([rank === 1 ? 42 : rank, 7 + rank], { dtype: 'float64' });
await group.broadcast(e, 1 % W);
out.bcast = e.toArray();
const s = tensor([rank + 0.5], { dtype: 'float64' });
group.allReduceSync(s, 'min');
out.syncMin = s.toArray();
await group.barrier();
group.destroy();
console.log(JSON.stringify(out));
