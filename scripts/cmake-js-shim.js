#!/usr/bin/env node
// prebuildify has no cmake-js backend: it is given this script as `--node-gyp`. It receives
// node-gyp style arguments (rebuild --target=… --arch=…), which do not apply to a Node-API
// build, and runs a clean cmake-js build instead. prebuildify then collects build/Release/*.node.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.js'), '--rebuild'], {
  cwd: process.cwd(),
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
