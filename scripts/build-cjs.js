#!/usr/bin/env node
// The CommonJS build: dist/lib (tsc's ESM output) transpiled module by module into dist/cjs, for
// `require('ecacface-torch')` on every Node this package supports (require() of ES modules needs
// Node >= 20.19) and for tools that load TypeScript as CommonJS (ts-node, tsx in a default project).
// The only ESM-only construct in lib/ is import.meta.url; it becomes the module's file URL.
// The declarations are copied: dist/cjs/package.json ("type": "commonjs") makes them CJS typings.
// Usage: node scripts/build-cjs.js   (after tsc; part of `npm run build:ts` and scripts/setup.sh)
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ts = createRequire(import.meta.url)('typescript');
const from = join(root, 'dist', 'lib');
const to = join(root, 'dist', 'cjs');

/** Replaces `import.meta.url` with `require('node:url').pathToFileURL(__filename).href`. */
function importMetaUrl(context) {
  const f = context.factory;
  const visit = (node) => {
    if (
      ts.isPropertyAccessExpression(node) &&
      node.name.text === 'url' &&
      ts.isMetaProperty(node.expression) &&
      node.expression.keywordToken === ts.SyntaxKind.ImportKeyword
    ) {
      const req = f.createCallExpression(f.createIdentifier('require'), undefined, [f.createStringLiteral('node:url')]);
      const call = f.createCallExpression(f.createPropertyAccessExpression(req, 'pathToFileURL'), undefined, [f.createIdentifier('__filename')]);
      return f.createPropertyAccessExpression(call, 'href');
    }
    return ts.visitEachChild(node, visit, context);
  };
  return (sf) => ts.visitNode(sf, visit);
}

function* walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

rmSync(to, { recursive: true, force: true });
let n = 0;
for (const file of walk(from)) {
  const out = join(to, relative(from, file));
  if (file.endsWith('.d.ts')) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, readFileSync(file));
  } else if (file.endsWith('.js')) {
    const src = readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
    const r = ts.transpileModule(src, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false, allowJs: true },
      transformers: { before: [importMetaUrl] },
    });
    if (/\bimport\.meta\b/.test(r.outputText)) throw new Error(`build-cjs: import.meta left in ${out}`);
    // a local named `require` would shadow CommonJS's own
    if (/\b(?:const|let|var|function)\s+require\b/.test(r.outputText)) throw new Error(`build-cjs: ${file} declares 'require'`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, r.outputText);
    n++;
  }
}
writeFileSync(join(to, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
console.log(`build-cjs: ${n} modules → ${relative(root, to)}`);
