// Fault injection: argv[2] = 'die' (rank 1 exits before the allreduce) or 'stall' (rank 1 stays
// alive but never joins it). Rank 0 reports the error it got and how long it took.
import { init } from '../../../dist/lib/distributed/index.js';
import { tensor } from '../../../dist/lib/tensor/index.js';

const mode = process.argv[2];
const timeoutMs = Number(process.argv[3] ?? 4000);
const { group, rank } = await init({ timeoutMs, rendezvousTimeoutMs: 120000 });
const t = tensor([1, 2, 3], { dtype: 'float32' });
await group.allReduce(t, 'sum'); // everyone healthy once
if (rank === 1) {
  if (mode === 'die') process.kill(process.pid, 'SIGKILL');
  // stall: stay alive (heartbeat running) for longer than the timeout, then leave quietly
  await new Promise((r) => setTimeout(r, timeoutMs + 3000));
  process.exit(0);
}
const t0 = Date.now();
try {
  await group.allReduce(t, 'sum');
  console.log(JSON.stringify({ rank, ok: true }));
} catch (err) {
  console.log(JSON.stringify({ rank, ok: false, message: err.message, ms: Date.now() - t0 }));
}
process.exit(0);
