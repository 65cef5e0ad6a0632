#!/usr/bin/env node
// npm install script: use a prebuilt binary when one fits this platform, else build from
// source with cmake-js against libtorch. Exits non-zero with instructions when neither works.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

try {
  require('node-gyp-build')(root);
  console.log('ecacface-torch: using the prebuilt native addon');
  process.exit(0);
} catch {
  // no prebuild fits: build from source
}

if (process.env.ECACFACE_SKIP_BUILD) {
  console.warn('ecacface-torch: ECACFACE_SKIP_BUILD is set: not building the native addon');
  process.exit(0);
}

console.log('ecacface-torch: no prebuilt addon for this platform; building from source with cmake-js');
const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.js')], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    [
      '',
      'ecacface-torch: building the native addon failed.',
      '  It needs cmake (>= 3.18), a C++17 compiler and libtorch:',
      '    Debian/Ubuntu:  sudo apt-get install cmake g++ libtorch-dev libturbojpeg0-dev libpng-dev',
      '    elsewhere:      download LibTorch, then  LIBTORCH=/path/to/libtorch npm rebuild ecacface-torch',
      '    with a PyTorch install: python3 -c "import torch" must work; it is found automatically.',
      '',
    ].join('\n'),
  );
  process.exit(r.status ?? 1);
}
