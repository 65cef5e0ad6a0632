/**
 * Runnable documentation snippets: a fenced `sh` or `ts` block of README.md or docs/ whose opening
 * fence directly follows the line `<!-- runnable -->` is run by test/docs/snippets.test.ts (and so
 * by `npm test` and CI). The blocks of one file run in order in one fresh working folder, so a
 * later block can use what an earlier one made; `ecacface` is on the PATH (this checkout's CLI)
 * and `import … from 'ecacface-torch'` in a `ts` block resolves to this checkout. Keep each block
 * to a few seconds: they train on tiny synthetic sets (`ecacface synth --out …`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The marker line before a runnable block's opening fence. */
export const RUNNABLE_MARKER = '<!-- runnable -->';

/** One runnable block. */
export interface Snippet {
  /** Path relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: 'sh' | 'ts';
  code: string;
}

const LANGS: Record<string, Snippet['lang']> = { sh: 'sh', bash: 'sh', shell: 'sh', ts: 'ts', typescript: 'ts' };

/** The runnable blocks of one markdown text (throws on a marker before anything but a sh/ts fence). */
export function extractRunnable(markdown: string, file: string): Snippet[] {
  const lines = markdown.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== RUNNABLE_MARKER) continue;
    const fence = /^(\s*)(`{3,}|~{3,})\s*([A-Za-z]*)\s*$/.exec(lines[i + 1] ?? '');
    if (!fence) throw new Error(`${file}:${i + 1}: ${RUNNABLE_MARKER} must be directly followed by a fenced code block`);
    const lang = LANGS[fence[3]!.toLowerCase()];
    if (!lang) throw new Error(`${file}:${i + 2}: runnable blocks are sh or ts, not '${fence[3] || '(none)'}'`);
    const close = fence[2]!;
    const body: string[] = [];
    let j = i + 2;
    while (j < lines.length && lines[j]!.trim() !== close) body.push(lines[j++]!);
    if (j >= lines.length) throw new Error(`${file}:${i + 2}: unclosed code block`);
    out.push({ file, line: i + 2, lang, code: body.join('\n') + '\n' });
    i = j;
  }
  return out;
}

/** README.md and every markdown file under docs/, relative to `root`. */
export function docFiles(root: string): string[] {
  const files = ['README.md'];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir).sort()) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.md')) files.push(relative(root, p));
    }
  };
  walk(join(root, 'docs'));
  return files;
}

/** Every runnable block of the repository's docs, grouped by file. */
export function runnableSnippets(root: string): Map<string, Snippet[]> {
  const out = new Map<string, Snippet[]>();
  for (const f of docFiles(root)) {
    const s = extractRunnable(readFileSync(join(root, f), 'utf8'), f);
    if (s.length) out.set(f, s);
  }
  return out;
}
