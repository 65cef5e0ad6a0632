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
  // Whether a given training step faults its memory in again depends on glibc's whole allocation
  // history (what else sits at the top of the heap), so no small fixed workload shows the page
  // faults reliably: bench:backbones prints them per step (flt), and docs/decisions/performance.md
  // has the measurements. What is checked here is the policy, that the thresholds are in force,
  // and that every way a user can choose their own is honoured.
  const policy = (env: Record<string, string> = {}) => child<string>('console.log(JSON.stringify(m.buildInfo().cpuMalloc));', env).result;

  it('fixes glibc’s thresholds when the addon loads', () => {
    expect(buildInfo().cpuMalloc).toBe('glibc, fixed thresholds (mmap 32 MiB, trim 1 GiB)');
  });

  // Where a tensor's memory comes from shows the threshold in force: under glibc's default (mmap
  // threshold 128 KiB until a larger mapped block is freed) each 16 MiB tensor is a mapping of its
  // own, unmapped when freed; under the fixed 32 MiB threshold it comes from the heap ([heap] in
  // /proc/self/maps grows by the four tensors' 64 MiB), where freed memory stays for the next step.
  const heapGrowthMiB = (env: Record<string, string> = {}) =>
    child<number>(
      `const { readFileSync } = await import('node:fs');
      const heap = () => {
        const line = readFileSync('/proc/self/maps', 'utf8').split('\\n').find((l) => l.endsWith('[heap]'));
        const [a, b] = line ? line.split(' ')[0].split('-').map((h) => parseInt(h, 16)) : [0, 0];
        return b - a;
      };
      m.zeros([1]).add(1).dispose(); // libtorch's lazy start, before the count
      const h0 = heap();
      const held = [0, 1, 2, 3].map(() => m.zeros([4 * 1024 * 1024])); // 16 MiB each, kept alive
      console.log(JSON.stringify((heap() - h0) / 2 ** 20));
      held.forEach((t) => t.dispose());`,
      env,
    ).result;

  it('serves tensors up to 32 MiB from the heap, not one mapping each (mallopt took effect)', () => {
    expect(heapGrowthMiB()).toBeGreaterThan(48); // 64 MiB, less any free room the heap already had
    expect(heapGrowthMiB({ ECACFACE_MALLOC: 'system' })).toBeLessThan(16);
  });

  // One fresh process per setting (each loads libtorch: several seconds on a loaded machine).
  const chosen: [string, Record<string, string>][] = [
    ['ECACFACE_MALLOC=system', { ECACFACE_MALLOC: 'system' }],
    ['GLIBC_TUNABLES with a glibc.malloc. key', { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1048576' }],
    ...['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'MALLOC_TOP_PAD_', 'MALLOC_MMAP_MAX_'].map((name): [string, Record<string, string>] => [name, { [name]: '1048576' }]),
  ];
  it.each(chosen)('leaves malloc alone where the user chose it: %s', (_, env) => {
    expect(policy(env)).toBe('system default');
  });

  it('still fixes the thresholds under GLIBC_TUNABLES without a malloc key', () => {
    expect(policy({ GLIBC_TUNABLES: 'glibc.pthread.rseq=0' })).toBe('glibc, fixed thresholds (mmap 32 MiB, trim 1 GiB)');
  });
});
