#!/usr/bin/env node
// npm's prepack (npm pack, npm publish): compiles the TypeScript, because the package's main,
// exports and bin name dist/ (git-ignored: a fresh clone has none), then says which prebuilt
// addons go in. Without a prebuild the package still works, built from source on install
// (`npx ecacface build-native`); `npm run prebuild` makes them. Everything it and its children print
// goes to stderr: `npm pack --json` writes its JSON to the same stdout as lifecycle scripts.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['inherit', 2, 2] });
  if (r.status !== 0) {
    console.error(`prepack: ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
};
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  console.error('prepack: TypeScript is not installed (npm ci installs the dev dependencies): dist/ cannot be compiled');
  process.exit(1);
}
console.error('prepack: compiling the TypeScript into dist/');
run(process.execPath, [tsc, '-p', 'tsconfig.json']);
run(process.execPath, [join(root, 'scripts', 'build-cjs.js')]);

const platforms = existsSync(join(root, 'prebuilds')) ? readdirSync(join(root, 'prebuilds')) : [];
const tags = platforms.flatMap((p) =>
  readdirSync(join(root, 'prebuilds', p))
    .filter((t) => existsSync(join(root, 'prebuilds', p, t, 'manifest.json')))
    .map((t) => {
      const m = JSON.parse(readFileSync(join(root, 'prebuilds', p, t, 'manifest.json'), 'utf8'));
      return `${p}/${t} (${m.systemPackage ?? (m.pip ? `pip ${m.pip.split(' ')[0]}` : m.torchLib)})`;
    }),
);
console.error(
  tags.length
    ? `prepack: prebuilt addons: ${tags.join(', ')}`
    : 'prepack: no prebuilt addon (prebuilds/ is empty): users build from source (npx ecacface build-native); make them with npm run prebuild',
);
