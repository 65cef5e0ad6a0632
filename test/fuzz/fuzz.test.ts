// The fuzz suite's short run (part of npm test) and a check that the harness catches what it must.
// The long run: `npm run fuzz -- --cases 5000` (docs/security.md).
import { describe, expect, it } from 'vitest';
import { PickleError } from '../../lib/io/pickle.js';
import { ZipError } from '../../lib/io/zip.js';
import { fuzz } from './run.js';
import { classify } from './worker.js';
import { TARGETS } from './targets.js';

const base = { seed: 1, jobs: 2, perCaseMs: 10_000, memMb: 1024, batch: 2000 };

describe('fuzz: every parser of a user file', () => {
  it('60 mutated inputs per target each end in a value or a named Error, in time and memory', async () => {
    const targets = TARGETS.map((t) => t.name).filter((t) => t !== 'selftest');
    expect(targets.length).toBeGreaterThanOrEqual(10);
    const r = await fuzz({ ...base, cases: 60, targets, batch: 300 });
    const lines = r.failures.map((f) => `${f.target} seed ${f.seed}: ${f.reason} — node dist/test/fuzz/worker.js ${f.target} ${f.seed} 1`);
    expect(lines).toEqual([]);
    expect(r.cases).toBe(60 * targets.length);
    expect(Object.values(r.errors).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  }, 300_000);

  it('the harness tells a refusal from a parser bug by error class and code, not by message', () => {
    // a refusal whose text reads like an engine error (a false alarm of the message-matching harness)
    expect(classify(new PickleError('memo key 3 is not defined', 'x.bin', 7)).outcome).toBe('error');
    expect(classify(new ZipError('Cannot read properties of the archive', 'x.pth')).outcome).toBe('error');
    expect(classify(Object.assign(new Error('decode: not a JPEG'), { code: 'ERR_NATIVE' })).outcome).toBe('error');
    // engine errors and coded Node.js/libtorch errors, whatever their text
    expect(classify(new TypeError('x')).outcome).toBe('bug');
    expect(classify(new RangeError('Invalid array length')).outcome).toBe('bug');
    expect(classify(Object.assign(new RangeError('Attempt to access memory outside buffer bounds'), { code: 'ERR_BUFFER_OUT_OF_BOUNDS' })).outcome).toBe('bug');
    expect(classify(Object.assign(new Error('shape mismatch'), { code: 'ERR_TORCH_VALUE' })).outcome).toBe('bug');
    expect(classify('a string').outcome).toBe('bug');
  });

  it('the harness reports an abort, a hang and an internal error by seed, and runs the other cases', async () => {
    process.env.ECF_FUZZ_SELFTEST = '1';
    try {
      const r = await fuzz({ ...base, cases: 6, targets: ['selftest'], perCaseMs: 2000 });
      const bySeed = new Map(r.failures.map((f) => [f.seed, f]));
      expect([...bySeed.keys()].sort()).toEqual([3, 5, 6]);
      expect(bySeed.get(3)!.reason).toMatch(/SIGABRT/);
      expect(bySeed.get(3)!.alone).toMatch(/fails alone too/);
      expect(bySeed.get(5)!.reason).toMatch(/no result within 2000 ms/);
      expect(bySeed.get(6)!.reason).toMatch(/TypeError: Cannot read properties of undefined/);
      expect(r.values).toBe(3); // seeds 1, 2, 4
    } finally {
      delete process.env.ECF_FUZZ_SELFTEST;
    }
  }, 300_000);
});
