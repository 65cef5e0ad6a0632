/**
 * The Python interpreter of the benchmarks' reference side, and what it runs.
 *
 * Every benchmark that compares against Python PyTorch takes its interpreter from, in order:
 *   1. `--python <path>` on its command line;
 *   2. the environment variable `ECF_BENCH_PYTHON`;
 *   3. the benchmark's default: Debian's `/usr/bin/python3` (python3-torch, the same libtorch 1.13.1
 *      build as the default addon) for the CPU benchmarks.
 * So one benchmark runs against Debian's torch or any wheel venv, e.g.
 *
 *   ECF_BENCH_PYTHON=$(bash scripts/torch-venv.sh 2.13.0+cpu)/bin/python \
 *     ECACFACE_NATIVE=build-torch2/Release/ecacface.node npm run bench:backbones
 *
 * Our side is whichever addon the loader picks (`ECACFACE_NATIVE` points at another build).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { buildInfo } from '../lib/index.js';

/** Debian's interpreter with python3-torch (`bash scripts/setup.sh --bench` installs it). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** The reference interpreter: `--python`, else `$ECF_BENCH_PYTHON`, else `dflt`. */
export function referencePython(dflt: string = DEBIAN_PYTHON, argv: readonly string[] = process.argv): string {
  const i = argv.indexOf('--python');
  if (i >= 0) {
    const v = argv[i + 1];
    if (v === undefined || v === '' || v.startsWith('--')) throw new Error('--python needs the path of a Python interpreter');
    return v;
  }
  const env = process.env.ECF_BENCH_PYTHON;
  return env !== undefined && env !== '' ? env : dflt;
}

/** The torch version `python` imports, or why it cannot (one line). */
export function pythonTorchVersion(python: string): { version: string } | { error: string } {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) return { error: r.error.message };
  if (r.status !== 0) return { error: (r.stderr.trim().split('\n').pop() ?? '') || `exit ${r.status}` };
  return { version: r.stdout.trim() };
}

/**
 * One line naming both sides: our addon's libtorch and the reference interpreter with its torch,
 * so that every printed table says what it compared.
 */
export function describeSides(python: string): string {
  const t = pythonTorchVersion(python);
  const ref = 'version' in t ? `torch ${t.version}` : `no torch: ${t.error}`;
  return `ours: libtorch ${buildInfo().torchVersion}; reference: ${python} (${ref})`;
}

/** What to do when the reference interpreter is missing or has no torch. */
export function referenceHint(python: string): string {
  return python === DEBIAN_PYTHON
    ? 'install it with: sudo bash scripts/setup.sh --bench (or pass --python / set ECF_BENCH_PYTHON)'
    : `check that ${python} runs and imports torch (--python / ECF_BENCH_PYTHON)`;
}

/**
 * A reference run as a line-driven server (one command line in, one answer line out), so that a
 * benchmark can alternate one measurement of ours with one of the reference's: both then see the
 * same machine load. Usually a Python script; bench:backbones also runs our own side with another
 * addon build this way. A dead or missing program answers every command with `error <why>`.
 */
export class LineServer {
  #proc: ChildProcessWithoutNullStreams | null = null;
  #lines: string[] = [];
  #waiters: ((line: string) => void)[] = [];
  #error: string | null = null;

  constructor(program: string, script: string, args: readonly string[] = [], env: Record<string, string> = {}) {
    try {
      const p = spawn(program, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1', ...env } });
      this.#proc = p;
      let buf = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          const w = this.#waiters.shift();
          if (w) w(line);
          else this.#lines.push(line);
        }
      });
      // stderr is passed through (a warning from the reference is worth seeing) and its last
      // line kept as the reason should the process die.
      let lastErr = '';
      p.stderr.setEncoding('utf8').on('data', (d: string) => {
        process.stderr.write(d);
        const l = d.trim().split('\n').pop();
        if (l) lastErr = l;
      });
      const fail = (why: string) => {
        this.#error ??= why;
        for (const w of this.#waiters.splice(0)) w(`error ${this.#error}`);
      };
      p.on('exit', (code) => fail(lastErr || `${program} exited (${code})`));
      p.on('error', (e) => fail(e.message));
      p.stdin.on('error', () => {}); // a dead child: reported through 'exit'/'error' above
    } catch (e) {
      this.#error = (e as Error).message;
    }
  }

  /** Sends one command; resolves with its answer line (`error …` when the server is gone). */
  async ask(cmd: string): Promise<string> {
    if (this.#proc === null || this.#error !== null) return `error ${this.#error}`;
    const r = new Promise<string>((res) => {
      const l = this.#lines.shift();
      if (l !== undefined) res(l);
      else this.#waiters.push(res);
    });
    this.#proc.stdin.write(`${cmd}\n`);
    return r;
  }

  close(): void {
    this.#proc?.stdin.end('quit\n');
  }
}
