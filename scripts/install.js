#!/usr/bin/env node
// npm install script. The addon is found at run time without it (lib/native-load.ts picks the
// prebuild that matches this machine's libtorch); this script only checks that one loads, and
// builds from source when none does. npm 11 runs a dependency's install script only once the
// user approves it: npm install-scripts approve ecacface-torch && npm rebuild ecacface-torch.
// `npx ecacface build-native` does the same build without npm's approval.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const loader = join(root, 'dist', 'lib', 'native-load.js');

if (!existsSync(loader)) {
  // A git checkout before its first TypeScript build: scripts/setup.sh builds everything.
  console.log('ecacface-torch: not built yet (dist/ is missing): run npm run setup');
  process.exit(0);
}
const { chooseAddon, requireAddon } = await import(pathToFileURL(loader).href);

let reason;
try {
  // loaded as the package loads it (a wheel's libtorch opened first), in this process
  const choice = chooseAddon(root, process.env, false);
  requireAddon(choice, root);
  console.log(`ecacface-torch: using ${choice.kind === 'prebuild' ? 'the prebuilt' : 'the'} native addon ${choice.path}`);
  process.exit(0);
} catch (err) {
  reason = err instanceof Error ? err.message : String(err);
}

if (process.env.ECACFACE_SKIP_BUILD) {
  console.warn(`ecacface-torch: ECACFACE_SKIP_BUILD is set: not building the native addon.\n${reason}`);
  process.exit(0);
}

console.log(`ecacface-torch: ${reason.split('\n')[0].replace(/^ecacface-torch: /, '')}\necacface-torch: building from source with cmake-js`);
const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.js'), '--rebuild'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    [
      '',
      'ecacface-torch: building the native addon failed.',
      '  It needs cmake (>= 3.18), a C++17 compiler and libtorch, found through (in this order):',
      '    LIBTORCH=/path/to/libtorch (LibTorch from pytorch.org), Torch_DIR=…/share/cmake/Torch,',
      "    python3's torch (a PyTorch wheel, CPU or CUDA: python3 -c 'import torch' must work),",
      '    or Debian/Ubuntu:  sudo apt-get install cmake g++ libtorch-dev libturbojpeg0-dev libpng-dev',
      '  then: npx ecacface build-native',
      '',
    ].join('\n'),
  );
  process.exit(r.status ?? 1);
}
