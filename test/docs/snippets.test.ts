// Runs every snippet of README.md and docs/ marked `<!-- runnable -->` (see test/docs/snippets.ts),
// so the documented commands and code cannot drift from what the package does.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { extractRunnable, runnableSnippets } from './snippets.js';

const root = join(__dirname, '../..');
const cli = join(root, 'dist/lib/cli/main.js');
// ts blocks are compiled into the checkout, so that `import 'ecacface-torch'` resolves to this package
const compiled = join(root, '.cache', 'docs-check');
const work: string[] = [];
afterAll(() => work.forEach((d) => rmSync(d, { recursive: true, force: true })));

function workspace(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'docs-check-'));
  work.push(dir);
  mkdirSync(join(dir, '.bin'));
  const shim = join(dir, '.bin', 'ecacface');
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`);
  chmodSync(shim, 0o755);
  return { dir, env: { ...process.env, PATH: `${join(dir, '.bin')}:${process.env.PATH ?? ''}`, FORCE_COLOR: '0' } };
}

describe('documentation snippet extraction', () => {
  it('takes the sh/ts block after the marker only, and rejects a marker before anything else', () => {
    const md = ['# x', '<!-- runnable -->', '```sh', 'echo hi', '```', '```sh', 'not me', '```', '<!-- runnable -->', '```ts', 'const a = 1;', '```'].join('\n');
    expect(extractRunnable(md, 'x.md')).toEqual([
      { file: 'x.md', line: 3, lang: 'sh', code: 'echo hi\n' },
      { file: 'x.md', line: 10, lang: 'ts', code: 'const a = 1;\n' },
    ]);
    expect(() => extractRunnable('<!-- runnable -->\n```python\nx\n```', 'y.md')).toThrow(/y\.md:2: runnable blocks are sh or ts/);
    expect(() => extractRunnable('<!-- runnable -->\n\n```sh\nx\n```', 'z.md')).toThrow(/directly followed/);
  });
});

const groups = runnableSnippets(root);

describe('runnable documentation snippets', () => {
  it('exist (README and docs/training.md carry some)', () => {
    expect([...groups.keys()]).toEqual(expect.arrayContaining(['README.md', 'docs/training.md']));
  });

  for (const [file, snippets] of groups) {
    describe(file, () => {
      let ws: ReturnType<typeof workspace> | null = null;
      for (const s of snippets) {
        it(`${s.file}:${s.line} (${s.lang})`, () => {
          expect(existsSync(cli), `${cli} is missing: run 'npx tsc -p tsconfig.json' (npm test does it)`).toBe(true);
          ws ??= workspace();
          let r;
          if (s.lang === 'sh') {
            r = spawnSync('bash', ['-euo', 'pipefail', '-c', s.code], { cwd: ws.dir, env: ws.env, encoding: 'utf8', timeout: 180_000 });
          } else {
            mkdirSync(compiled, { recursive: true });
            const js = ts.transpileModule(s.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
            const path = join(compiled, `${s.file.replace(/[^A-Za-z0-9]/g, '_')}_${s.line}.mjs`);
            writeFileSync(path, js);
            r = spawnSync(process.execPath, [path], { cwd: ws.dir, env: ws.env, encoding: 'utf8', timeout: 180_000 });
          }
          expect(r.status, `${s.file}:${s.line} failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${r.stdout}\n${r.stderr}`).toBe(0);
        }, 200_000);
      }
    });
  }
});
