#!/usr/bin/env node
// Builds the native addon with cmake-js (the one build description is CMakeLists.txt), in this
// checkout or inside a consumer's node_modules: cmake-js, node-addon-api and node-api-headers are
// found with require.resolve (hoisted or not), never by fixed paths.
// Serialised with a lock file so concurrent builds in one checkout do not clobber build/.
// Usage: node scripts/build-native.js [--rebuild] [--out <dir>] [extra cmake-js args, e.g. --CDECF_PREBUILD=ON]
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const args = process.argv.slice(2);
const rebuild = args.includes('--rebuild');
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? resolve(root, args[outAt + 1]) : join(root, 'build');
const extra = args.filter((a, i) => a !== '--rebuild' && i !== outAt && i !== outAt + 1);
const lock = join(out, '.lock');

/** A package's folder, resolved the way Node would from this package (works when hoisted). */
function packageDir(name) {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    console.error(`ecacface-torch: the build needs the npm package '${name}', which is not installed next to ecacface-torch.`);
    process.exit(1);
  }
}

function acquire() {
  mkdirSync(out, { recursive: true });
  const deadline = Date.now() + 30 * 60 * 1000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      writeFileSync(lock, String(process.pid));
      return;
    } catch {
      try {
        // A lock older than 30 minutes is left over from a killed build.
        if (Date.now() - statSync(lock).mtimeMs > 30 * 60 * 1000) rmSync(lock, { force: true });
      } catch {}
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held too long`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
}

const cmakeJsDir = packageDir('cmake-js');
const cmakeJs = join(cmakeJsDir, JSON.parse(readFileSync(join(cmakeJsDir, 'package.json'), 'utf8')).bin['cmake-js']);
const addonApi = packageDir('node-addon-api');
const apiHeaders = join(packageDir('node-api-headers'), 'include');

acquire();
let status = 1;
try {
  if (rebuild) {
    // A clean build that keeps the rest of the folder (build/.stamps of scripts/setup.sh):
    // cmake-js's own `rebuild` deletes the whole --out folder.
    for (const p of ['CMakeCache.txt', 'CMakeFiles', 'Release', 'Makefile', 'build.ninja', 'cmake_install.cmake', 'ecacface.json']) {
      rmSync(join(out, p), { recursive: true, force: true });
    }
  }
  const jobs = String(Math.max(1, availableParallelism()));
  const r = spawnSync(
    process.execPath,
    [
      cmakeJs,
      'build',
      '--out',
      out,
      '--parallel',
      jobs,
      '--log-level',
      'warn',
      `--CDECF_ADDON_API_INC=${addonApi}`,
      `--CDECF_NODE_API_INC=${apiHeaders}`,
      ...extra,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  status = r.status ?? 1;
} finally {
  rmSync(lock, { force: true });
}
process.exit(status);
