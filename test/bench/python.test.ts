/**
 * The benchmarks' reference interpreter (bench/python.ts, issue 27): `--python` first, then
 * `ECF_BENCH_PYTHON`, then the benchmark's default, so one benchmark runs against Debian's torch or
 * any wheel venv.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEBIAN_PYTHON, pythonTorchVersion, referencePython } from '../../bench/python.js';

describe('referencePython', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('takes --python, then ECF_BENCH_PYTHON, then the default', () => {
    vi.stubEnv('ECF_BENCH_PYTHON', '/venv/bin/python');
    expect(referencePython(DEBIAN_PYTHON, ['node', 'b.js', '--iters', '3', '--python', '/other/python'])).toBe('/other/python');
    expect(referencePython(DEBIAN_PYTHON, ['node', 'b.js', '--iters', '3'])).toBe('/venv/bin/python');
    vi.stubEnv('ECF_BENCH_PYTHON', '');
    expect(referencePython(DEBIAN_PYTHON, ['node', 'b.js'])).toBe(DEBIAN_PYTHON);
    expect(referencePython('python3', ['node', 'b.js'])).toBe('python3');
  });

  it('rejects --python without a path', () => {
    expect(() => referencePython(DEBIAN_PYTHON, ['node', 'b.js', '--python'])).toThrow(/--python needs the path/);
    expect(() => referencePython(DEBIAN_PYTHON, ['node', 'b.js', '--python', '--iters', '3'])).toThrow(/--python needs the path/);
  });

  it('says why an interpreter cannot serve as the reference', () => {
    const r = pythonTorchVersion('/nonexistent/python');
    expect('error' in r && r.error).toMatch(/ENOENT/);
  });
});
