/**
 * The experiment scripts at toy size (2 rows, 1 seed, 4 steps on a tiny synthetic set), run as a user
 * runs them (`npx tsx experiments/<name>.ts`, alpha.ts with `npx ts-node`, which also type-checks
 * it): each prints the markdown table and writes results.md and results.json; a rerun reads the
 * finished rows back instead of training them; a removed result is recomputed alone; a rerun with
 * other settings is refused. Which method wins is never asserted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TOY = ['--seeds', '1', '--steps', '4', '--synth-identities', '16', '--synth-images', '6', '--synth-val-identities', '12', '--synth-pairs', '40', '--image-size', '32', '--log-every', '2'];
let cwd: string;

function run(runner: 'tsx' | 'ts-node', script: string, args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(join(root, 'node_modules', '.bin', runner), [join(root, 'experiments', script), ...args], { cwd, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

interface Json {
  experiment: string;
  baseline: string | null;
  rows: { name: string; seeds: number[]; params: number; trainImagesPerSec: number; sets: { name: string; mean: number; perSeed: number[] }[]; test: { p: number | null; meanDiff: number } | null }[];
  thisSession: { computed: string[]; reused: string[] };
  runs: unknown[];
}

const read = (experiment: string): Json => JSON.parse(readFileSync(join(cwd, 'experiments-out', experiment, 'results.json'), 'utf8')) as Json;

function checkTable(r: { code: number; out: string; err: string }, experiment: string, rows: string[], labels: string[]): Json {
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  // the table on stdout and in results.md
  const md = readFileSync(join(cwd, 'experiments-out', experiment, 'results.md'), 'utf8');
  for (const text of [r.out, md]) {
    expect(text).toMatch(/^\| row \| seeds \| params \| train img\/s \| eval img\/s \| synth-val % \| synth-hard % \| mean % \| Δ vs .* \| p \| p \(Holm\) \| paper \|$/m);
    for (const l of labels) expect(text).toMatch(new RegExp(`^\\| ${l.replace(/[.()]/g, '\\$&')} \\| 1 \\| [\\d,]+ \\|`, 'm'));
  }
  const j = read(experiment);
  expect(j.experiment).toBe(experiment);
  expect(j.rows.map((x) => x.name)).toEqual(rows);
  for (const row of j.rows) {
    expect(row.seeds).toEqual([1]);
    expect(row.params).toBeGreaterThan(100_000);
    expect(row.trainImagesPerSec).toBeGreaterThan(0);
    expect(row.sets.map((s) => s.name)).toEqual(['synth-val', 'synth-hard']);
    for (const s of row.sets) {
      expect(s.mean).toBeGreaterThanOrEqual(0);
      expect(s.mean).toBeLessThanOrEqual(1);
    }
    // one seed: a difference to the baseline, but no p-value
    if (row.name !== j.baseline) expect(row.test).toMatchObject({ p: null });
  }
  return j;
}

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'ecacface-experiments-'));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

// each case spawns whole training/evaluation runs: minutes when the 2-core machine is shared, so the
// limit is the child's own (600 s), not the suite's 120 s
describe('experiments/ at toy size', { timeout: 600_000 }, () => {
  it('attention.ts (two runs at once) makes the table, resumes finished rows, recomputes a removed one, refuses other settings', () => {
    const args = [...TOY, '--rows', 'esca,none', '--jobs', '2'];
    const first = checkTable(run('tsx', 'attention.ts', args), 'attention', ['esca', 'none'], ['ESCA', 'none']);
    expect(first.thisSession).toEqual({ computed: expect.arrayContaining(['esca:1', 'none:1']), reused: [] });
    const files = ['esca', 'none'].map((r) => join(cwd, 'experiments-out', 'attention', 'rows', r, 'seed-1.json'));
    const before = files.map((f) => [readFileSync(f, 'utf8'), statSync(f).mtimeMs]);

    const again = run('tsx', 'attention.ts', args);
    const second = checkTable(again, 'attention', ['esca', 'none'], ['ESCA', 'none']);
    expect(second.thisSession).toEqual({ computed: [], reused: ['esca:1', 'none:1'] });
    expect(again.out).not.toMatch(/step \d+\/\d+/);
    expect(again.out.match(/finished earlier/g)).toHaveLength(2);
    expect(files.map((f) => [readFileSync(f, 'utf8'), statSync(f).mtimeMs])).toEqual(before);
    expect(second.rows).toEqual(first.rows);

    rmSync(files[1]!);
    const third = checkTable(run('tsx', 'attention.ts', args), 'attention', ['esca', 'none'], ['ESCA', 'none']);
    expect(third.thisSession).toEqual({ computed: ['none:1'], reused: ['esca:1'] });

    const other = run('tsx', 'attention.ts', [...TOY.map((a) => (a === '4' ? '6' : a)), '--rows', 'esca,none', '--quiet']);
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/rows\/esca\/seed-1\.json was computed with other settings \(differing: .*train\.stepsPerEpoch/);
  });

  it('gates.ts reads the ESCA run of that table back: gates over training, accuracy with saturated gates frozen or removed', () => {
    const r = run('tsx', 'gates.ts', ['--out', 'gates.md']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const md = readFileSync(join(cwd, 'gates.md'), 'utf8');
    expect(md).toContain('### esca seed 1');
    // MobileFaceNet has 15 ESCA blocks, conv_23 (stride 2, no residual) the first
    expect(md.match(/^\| conv_\S+ \| /gm)).toHaveLength(15);
    expect(md).toMatch(/^\| conv_23 \| [\d.]+ \| [\d.]+ \| /m);
    for (const v of ['as trained', 'saturated frozen at σ̄', 'saturated removed (gate 1)', 'all spatial removed (ECA)']) expect(md).toMatch(new RegExp(`^\\| ${v.replace(/[()]/g, '\\$&')} \\| [\\d.]+ ± [\\d.]+ \\|`, 'm'));
  });

  it('alpha.ts runs under ts-node (type-checked) and tests against α = 0.99', () => {
    const j = checkTable(run('ts-node', 'alpha.ts', [...TOY, '--rows', 'alpha-0.99,alpha-0.80', '--jobs', '1']), 'alpha', ['alpha-0.80', 'alpha-0.99'], ['α = 0.80', 'α = 0.99']);
    expect(j.baseline).toBe('alpha-0.99');
    expect(j.thisSession.computed).toEqual(['alpha-0.80:1', 'alpha-0.99:1']);
  });

  it('heads.ts compares two heads against CurricularFace', () => {
    const j = checkTable(run('tsx', 'heads.ts', [...TOY, '--rows', 'curricularface,arcface', '--jobs', '1']), 'heads', ['curricularface', 'arcface'], ['CurricularFace', 'ArcFace']);
    expect(j.baseline).toBe('curricularface');
    expect(existsSync(join(cwd, 'experiments-out', 'heads', 'runs', 'arcface-seed-1', 'model-last', 'model.json'))).toBe(true);
  });

  it('explains its options, and names a bad one', () => {
    const help = run('tsx', 'heads.ts', ['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('rows: curricularface, arcface, cosface, mv-arcface, magface (baseline: curricularface)');
    expect(help.out).toContain('--rec <train.rec|dir>');
    const bad = run('tsx', 'attention.ts', ['--rows', 'esca,nope', ...TOY]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("--rows: no row 'nope' in this experiment (rows: esca, none, se, sk, cbam, bam, sge, eca)");
    const worse = run('tsx', 'attention.ts', ['--steps', 'many']);
    expect(worse.code).toBe(2);
    expect(worse.err).toContain("--steps: expected a positive integer, got 'many'");
  });
});
