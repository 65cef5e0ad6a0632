// Joins the group with init() and, when FINGERPRINT is set (JSON), compares it with agree(); with
// ABANDON set, this rank abandons instead (as a rank whose setup failed). Prints as JSON whether it
// worked, the error's name and message, and the progress lines it got.
import { availableBackends, init } from '../../../dist/lib/distributed/index.js';

availableBackends(); // loads the addon: the time below is the joining's
const progress = [];
const t0 = Date.now();
try {
  const { group } = await init({ onProgress: (m) => progress.push(m) });
  if (process.env.ABANDON) await group.abandon(new Error(process.env.ABANDON));
  else if (process.env.FINGERPRINT) await group.agree(JSON.parse(process.env.FINGERPRINT), 'test setups');
  console.log(JSON.stringify({ ok: true, progress, ms: Date.now() - t0 }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, name: err.name, message: err.message, progress, ms: Date.now() - t0 }));
}
process.exit(0);
