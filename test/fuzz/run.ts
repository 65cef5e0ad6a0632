/**
 * The fuzz runner: `npm run fuzz -- [--cases N] [--targets a,b] [--seed S] [--jobs J]
 * [--per-case-ms T] [--mem-mb M] [--batch B]`.
 *
 * Children (worker.ts) run the cases seed..seed+N−1 of every target, B cases per child (several
 * targets share a child: starting one loads libtorch). A child that dies (abort, signal, V8 out of memory),
 * spends more than T ms on one case, or exceeds M MiB of RSS is killed; the case it was running
 * is blamed, re-run alone in a fresh child to confirm, and reported with its seed; the batch then
 * continues after it. A case that ends in something other than a value or a named Error
 * (worker.ts `classify`) is reported too. Exit status 1 when anything was reported.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS } from './targets.js';

export interface FuzzOptions {
  cases: number;
  targets: string[];
  seed: number;
  jobs: number;
  perCaseMs: number;
  memMb: number;
  batch: number;
}

export interface FuzzFailure {
  target: string;
  seed: number;
  reason: string;
  /** Whether the case failed again when re-run alone. */
  alone?: string;
}

export interface FuzzReport {
  cases: number;
  values: number;
  errors: Record<string, number>;
  failures: FuzzFailure[];
  slowestMs: number;
  seconds: number;
}

/** A span of cases of one target. */
interface Span {
  target: string;
  first: number;
  count: number;
}

interface ChildResult {
  /** Cases finished. */
  done: number;
  failures: FuzzFailure[];
  values: number;
  errors: Record<string, number>;
  slowestMs: number;
  /** The case running when the child stopped early (or the one it would have run next). */
  died?: { target: string; seed: number; reason: string };
}

// the compiled worker (dist/test/fuzz), also when this file runs from source under vitest
const here = fileURLToPath(import.meta.url);
const worker = here.endsWith('.ts') ? join(dirname(here), '../../dist/test/fuzz/worker.js') : join(dirname(here), 'worker.js');

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs spans of cases in one child process. */
function runChild(spans: Span[], o: FuzzOptions): Promise<ChildResult> {
  return new Promise((resolveChild) => {
    const res: ChildResult = { done: 0, failures: [], values: 0, errors: {}, slowestMs: 0 };
    const argv = spans.flatMap((s) => [s.target, String(s.first), String(s.count)]);
    const total = spans.reduce((a, s) => a + s.count, 0);
    if (!existsSync(worker)) throw new Error(`fuzz: ${worker} is missing: build with 'npx tsc -p tsconfig.json' (npm test does)`);
    const child = spawn(process.execPath, [`--max-old-space-size=${o.memMb}`, worker, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let current: { target: string; seed: number } | undefined;
    let last: { target: string; seed: number } | undefined;
    let killedFor: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stderr = '';
    const kill = (why: string): void => {
      if (killedFor) return;
      killedFor = why;
      child.kill('SIGKILL');
    };
    // loading libtorch and making a target's seeds get their own, longer allowance
    const arm = (ms: number, why: string): void => {
      clearTimeout(timer);
      timer = setTimeout(() => kill(why), ms);
    };
    arm(120_000, 'did not start within 120 s');
    const memPoll = setInterval(() => {
      const mb = rssMb(child.pid!);
      if (mb > o.memMb + 512) kill(`RSS ${mb.toFixed(0)} MiB over the ${o.memMb + 512} MiB ceiling`);
    }, 100);
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const lineText = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let m: { t: string; target: string; seed: number; outcome?: string; name?: string; message?: string; ms?: number };
        try {
          m = JSON.parse(lineText);
        } catch {
          continue;
        }
        if (m.t === 'start') {
          current = { target: m.target, seed: m.seed };
          arm(o.perCaseMs, `no result within ${o.perCaseMs} ms`);
        } else if (m.t === 'end') {
          arm(120_000, 'the next target did not start within 120 s');
          last = current;
          current = undefined;
          res.done++;
          res.slowestMs = Math.max(res.slowestMs, m.ms ?? 0);
          if (m.outcome === 'value') res.values++;
          else if (m.outcome === 'error') res.errors[m.name!] = (res.errors[m.name!] ?? 0) + 1;
          else res.failures.push({ target: m.target, seed: m.seed, reason: `${m.name}: ${m.message}` });
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr = (stderr + d).slice(-2000);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearInterval(memPoll);
      if (res.done !== total || code !== 0) {
        const reason = killedFor ?? `child ended (${signal ?? `exit ${code}`})${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
        res.died = { ...(current ?? nextCase(spans, last)), reason };
      }
      resolveChild(res);
    });
  });
}

/** The case after `last` in `spans` (the first when none ran). */
function nextCase(spans: Span[], last: { target: string; seed: number } | undefined): { target: string; seed: number } {
  if (!last) return { target: spans[0]!.target, seed: spans[0]!.first };
  const i = spans.findIndex((s) => s.target === last.target && last.seed >= s.first && last.seed < s.first + s.count);
  const s = spans[i]!;
  if (last.seed + 1 < s.first + s.count) return { target: s.target, seed: last.seed + 1 };
  const n = spans[i + 1] ?? s;
  return { target: n.target, seed: n.first };
}

/** The spans left after case (target, seed). */
function after(spans: Span[], target: string, seed: number): Span[] {
  const i = spans.findIndex((s) => s.target === target && seed >= s.first && seed < s.first + s.count);
  if (i < 0) return [];
  const s = spans[i]!;
  const rest = s.first + s.count - (seed + 1);
  return [...(rest > 0 ? [{ target, first: seed + 1, count: rest }] : []), ...spans.slice(i + 1)];
}

/** Runs the fuzz cases; see the module comment. */
export async function fuzz(o: FuzzOptions, log: (s: string) => void = () => {}): Promise<FuzzReport> {
  const t0 = Date.now();
  const report: FuzzReport = { cases: 0, values: 0, errors: {}, failures: [], slowestMs: 0, seconds: 0 };
  // every target's cases, cut into child-sized batches of `batch` cases (spans may mix targets)
  const batches: Span[][] = [];
  let cur: Span[] = [];
  let size = 0;
  for (const target of o.targets) {
    let first = o.seed;
    let left = o.cases;
    while (left > 0) {
      const n = Math.min(left, o.batch - size);
      cur.push({ target, first, count: n });
      size += n;
      first += n;
      left -= n;
      if (size === o.batch) {
        batches.push(cur);
        cur = [];
        size = 0;
      }
    }
  }
  if (cur.length) batches.push(cur);
  const merge = (r: ChildResult): void => {
    report.values += r.values;
    report.cases += r.done;
    report.slowestMs = Math.max(report.slowestMs, r.slowestMs);
    for (const [k, v] of Object.entries(r.errors)) report.errors[k] = (report.errors[k] ?? 0) + v;
    report.failures.push(...r.failures);
  };
  const runBatch = async (spans: Span[]): Promise<void> => {
    while (spans.length) {
      const r = await runChild(spans, o);
      merge(r);
      if (!r.died) return;
      const { target, seed, reason } = r.died;
      // blame the case, confirm it alone (unless it already ran alone), go on after it
      const single = spans.length === 1 && spans[0]!.count === 1;
      const alone = single ? undefined : await runChild([{ target, first: seed, count: 1 }], o);
      if (alone && !alone.died) merge(alone);
      report.cases += alone?.died || single ? 1 : 0;
      report.failures.push({ target, seed, reason, ...(alone ? { alone: alone.died ? `fails alone too: ${alone.died.reason}` : 'passes alone (state left by earlier cases in its child?)' } : {}) });
      log(`fuzz: ${target} case ${seed}: ${reason}`);
      spans = after(spans, target, seed);
    }
  };
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, o.jobs) }, async () => {
    while (next < batches.length) {
      const b = batches[next++]!;
      await runBatch(b);
      log(`fuzz: ${b.map((s) => `${s.target} ${s.first}..${s.first + s.count - 1}`).join(', ')} done`);
    }
  });
  await Promise.all(lanes);
  report.seconds = (Date.now() - t0) / 1000;
  return report;
}

function parseArgs(argv: string[]): FuzzOptions {
  const o: FuzzOptions = { cases: 200, targets: TARGETS.map((t) => t.name), seed: 1, jobs: 2, perCaseMs: 10_000, memMb: 1024, batch: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = argv[++i];
    if (v === undefined) throw new Error(`fuzz: ${k} needs a value`);
    const num = (): number => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`fuzz: ${k} must be a non-negative integer, got '${v}'`);
      return n;
    };
    if (k === '--cases') o.cases = num();
    else if (k === '--seed') o.seed = num();
    else if (k === '--jobs') o.jobs = num();
    else if (k === '--per-case-ms') o.perCaseMs = num();
    else if (k === '--mem-mb') o.memMb = num();
    else if (k === '--batch') o.batch = Math.max(1, num());
    else if (k === '--targets') {
      o.targets = v.split(',');
      for (const t of o.targets) if (!TARGETS.some((x) => x.name === t)) throw new Error(`fuzz: unknown target '${t}' (one of ${TARGETS.map((x) => x.name).join(', ')})`);
    } else throw new Error(`fuzz: unknown option ${k}`);
  }
  return o;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const o = parseArgs(process.argv.slice(2));
  const r = await fuzz(o, (s) => process.stderr.write(s + '\n'));
  console.log(JSON.stringify({ ...r, failures: r.failures.length }, null, 1));
  for (const f of r.failures) {
    console.log(`FAIL ${f.target} seed ${f.seed}: ${f.reason}${f.alone ? ` (${f.alone})` : ''}\n  reproduce: node dist/test/fuzz/worker.js ${f.target} ${f.seed} 1`);
  }
  process.exitCode = r.failures.length ? 1 : 0;
}
