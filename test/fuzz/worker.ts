/**
 * One fuzz child: `node dist/test/fuzz/worker.js <target> <firstSeed> <count> [<target> <first> <count> …]`
 * runs the cases firstSeed..firstSeed+count−1 of each listed target and writes one JSON line per
 * event to stdout: `{"t":"start","target","seed"}` before a case and
 * `{"t":"end","target","seed","outcome","name","message","ms","rssMB"}` after it. The parent
 * (run.ts) kills a child that overruns a case or its memory ceiling and blames the case that
 * started last. `node dist/test/fuzz/worker.js <target> <seed> 1` reproduces one case.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mutate } from './mutate.js';
import { freshDir, TARGETS } from './targets.js';

/**
 * The engine's own error classes: thrown as such (not subclassed), they mean the parser itself
 * failed (a property of undefined, a stack overflow, an invalid array length), not that it refused
 * the input. Parsers refuse bad bytes with their own classes (ZipError, PickleError, …) or Error.
 */
const ENGINE_ERRORS: readonly Function[] = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError];

/**
 * 'error' (the input refused by a parser's Error) or 'bug': a non-Error, an engine error class
 * (see {@link ENGINE_ERRORS}), or an Error carrying a Node.js or libtorch code (`ERR_…`, e.g.
 * ERR_BUFFER_OUT_OF_BOUNDS, ERR_TORCH_INDEX, ERR_OUT_OF_MEMORY) other than ERR_NATIVE (the addon's
 * own refusals). Decided by class and code, never by message text.
 */
export function classify(e: unknown): { outcome: 'error' | 'bug'; name: string; message: string } {
  if (!(e instanceof Error)) return { outcome: 'bug', name: typeof e, message: `threw a non-Error: ${String(e).slice(0, 200)}` };
  const code = (e as NodeJS.ErrnoException).code;
  const internal = ENGINE_ERRORS.includes(e.constructor) || (typeof code === 'string' && code.startsWith('ERR_') && code !== 'ERR_NATIVE');
  return { outcome: internal ? 'bug' : 'error', name: e.name, message: e.message.slice(0, 300) };
}

/** The bytes of case `seed` of a target given its seed inputs. */
export function caseInput(seeds: readonly Uint8Array[], seed: number, text: boolean): { bytes: Buffer; ops: string[]; from: number } {
  const from = seed % seeds.length;
  return { ...mutate(seeds[from]!, seed, seeds, text), from };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length === 0 || args.length % 3 !== 0) throw new Error('usage: worker.js <target> <firstSeed> <count> [<target> <firstSeed> <count> …]');
  const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
  const out = (o: object): void => void process.stdout.write(JSON.stringify(o) + '\n');
  for (let a = 0; a < args.length; a += 3) {
    const [name, first, count] = args.slice(a, a + 3) as [string, string, string];
    const target = TARGETS.find((t) => t.name === name);
    if (!target) throw new Error(`unknown fuzz target '${name}' (one of ${TARGETS.map((t) => t.name).join(', ')})`);
    const scratchRoot = mkdtempSync(join(tmpdir(), `ecf-fuzz-${name}-`));
    const seeds = await target.seeds(repo, freshDir(join(scratchRoot, 'seeds')));
    out({ t: 'ready', target: name, seeds: seeds.length });
    const start = Number(first);
    for (let seed = start; seed < start + Number(count); seed++) {
      const input = caseInput(seeds, seed, target.text ?? false);
      out({ t: 'start', target: name, seed, ops: input.ops });
      process.env.ECF_FUZZ_CASE = `${name} ${seed}`;
      const t0 = performance.now();
      let r: ReturnType<typeof classify> | { outcome: 'value'; name: string; message: string };
      try {
        await target.run(input.bytes, freshDir(join(scratchRoot, 'case')));
        r = { outcome: 'value', name: '', message: '' };
      } catch (e) {
        r = classify(e);
      }
      out({ t: 'end', target: name, seed, ...r, ms: Math.round(performance.now() - t0), rssMB: Math.round(process.memoryUsage().rss / 1048576) });
    }
    rmSync(scratchRoot, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((e) => {
    process.stderr.write(`fuzz worker: ${(e as Error).stack ?? e}\n`);
    process.exit(2);
  });
}
