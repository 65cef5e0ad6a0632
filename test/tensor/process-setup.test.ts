/**
 * What the addon sets for the whole process when it loads (native/core/process_setup.cc), checked
 * in fresh child processes so that nothing else ran before: NNPACK is never tried where it cannot
 * run (no log line per convolution), and glibc's heap keeps freed tensor memory for the next step
 * instead of handing it back and faulting it in again (issue 27). Never timings.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildInfo } from '../../lib/index.js';

const entry = fileURLToPath(new URL('../../dist/lib/index.js', import.meta.url));

/** Runs an ES module body in a fresh node process; returns its last stdout line as JSON and its stderr. */
function child<T>(body: string, env: Record<string, string> = {}): { result: T; stderr: string } {
  const script = `const m = await import(${JSON.stringify(entry)});\n${body}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return { result: JSON.parse(r.stdout.trim().split('\n').pop()!) as T, stderr: r.stderr };
}

describe('NNPACK', () => {
  it('convolutions that reach NNPACK’s check print no "Could not initialize NNPACK" line', () => {
    // 1×1 convolutions at one thread and batch < 16 are not taken by oneDNN, so libtorch 2.x asks
    // NNPACK for them; where NNPACK cannot start it logged one line per convolution before the
    // addon switched it off. Batch 16 reaches NNPACK's own path where it is usable.
    const { result, stderr } = child<{ nnpack: boolean; sum: number }>(`
      m.setNumThreads(1);
      let sum = 0;
      for (const [n, k] of [[8, 1], [8, 3], [16, 1], [16, 3]]) {
        m.scope(() => {
          const x = m.randn([n, 8, 12, 12]);
          const w = m.randn([8, 8, k, k]).requiresGrad_();
          for (let i = 0; i < 3; i++) {
            const y = m.functional.conv2d(x, w, null, { padding: (k - 1) / 2 });
            y.sum().backward();
            sum += y.shape[0];
          }
        });
      }
      console.log(JSON.stringify({ nnpack: m.buildInfo().nnpack, sum }));`);
    expect(stderr).not.toMatch(/NNPACK/);
    expect(result.sum).toBe(3 * (8 + 8 + 16 + 16));
    expect(typeof result.nnpack).toBe('boolean');
  });
});

const glibc = typeof (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime === 'string';

describe.skipIf(!glibc)('CPU heap (glibc)', () => {
  // Whether a given step faults its memory in again depends on glibc's whole allocation history
  // (what else sits at the top of the heap), so no small fixed workload shows the difference
  // reliably: bench:backbones prints the minor faults per step instead (flt/step), and
  // docs/decisions/performance.md has the measurements. What is checked here is the policy and
  // that every way a user can choose their own is honoured.
  const policy = (env: Record<string, string> = {}) => child<string>('console.log(JSON.stringify(m.buildInfo().cpuMalloc));', env).result;

  it('fixes glibc’s thresholds when the addon loads', () => {
    expect(buildInfo().cpuMalloc).toBe('glibc, fixed thresholds (mmap 32 MiB, trim 1 GiB)');
  });

  it('leaves malloc alone where the user chose: ECACFACE_MALLOC=system, GLIBC_TUNABLES, MALLOC_*_', () => {
    expect(policy({ ECACFACE_MALLOC: 'system' })).toBe('system default');
    expect(policy({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1048576' })).toBe('system default');
    expect(policy({ MALLOC_TOP_PAD_: '1048576' })).toBe('system default');
    expect(policy({ GLIBC_TUNABLES: 'glibc.pthread.rseq=0' })).toBe('glibc, fixed thresholds (mmap 32 MiB, trim 1 GiB)');
  });
});
