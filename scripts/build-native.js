#!/usr/bin/env node
// Builds the native addon with cmake-js (the one build description is CMakeLists.txt), in this
// checkout or inside a consumer's node_modules: cmake-js, node-addon-api and node-api-headers are
// found with require.resolve (hoisted or not), never by fixed paths. `npx ecacface build-native`,
// npm run build:native, the install script, scripts/prebuild.js and scripts/gpu-check.sh all build
// through here, so they build alike.
// Serialised with a lock file so concurrent builds in one folder do not clobber it.
//
// Usage: node scripts/build-native.js [options] [more cmake-js arguments, e.g. --CDNAME=VALUE]
//   --rebuild              clean build (keeps the rest of the folder, e.g. build/.stamps)
//   --out <dir>            build folder (default: ECACFACE_BUILD_DIR, else build/)
//   --cpu                  no CUDA, even against a CUDA libtorch
//   --cxx-standard <n>     C++ standard of the .cc files (default: what libtorch's headers need)
//   --cuda-archs <list>    CUDA architectures, e.g. 90 or "80;90;100" (default 80;90;100)
//   --prebuild             RUNPATH $ORIGIN only (scripts/prebuild.js)
//   --dry-run              print the cmake-js command instead of running it
//   -D NAME=VALUE          a CMake definition (repeatable; also -DNAME=VALUE)
// libtorch is found through LIBTORCH, Torch_DIR, python3's torch (ECACFACE_PYTHON names another
// interpreter) or the system (CMakeLists.txt).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

/** The command line, as options and the cmake-js arguments they stand for. */
function parseArgs(argv) {
  const o = { rebuild: false, dryRun: false, out: process.env.ECACFACE_BUILD_DIR || 'build', cmake: [] };
  const value = (i, name) => {
    if (i >= argv.length || argv[i].startsWith('--')) fail(`${name} needs a value`);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rebuild') o.rebuild = true;
    else if (a === '--dry-run') o.dryRun = true;
    else if (a === '--out') o.out = value(++i, a);
    else if (a === '--cpu') o.cmake.push('--CDECF_FORCE_CPU=ON');
    else if (a === '--prebuild') o.cmake.push('--CDECF_PREBUILD=ON');
    else if (a === '--cxx-standard') {
      const v = value(++i, a);
      if (!/^(17|20|23)$/.test(v)) fail(`--cxx-standard must be 17, 20 or 23, not '${v}'`);
      o.cmake.push(`--CDECF_CXX_STANDARD=${v}`);
    } else if (a === '--cuda-archs') {
      const v = value(++i, a).replace(/,/g, ';');
      if (!/^\d+[a-z]?(;\d+[a-z]?)*$/.test(v)) fail(`--cuda-archs takes compute capabilities without the dot, e.g. "80;90;100", not '${v}'`);
      o.cmake.push(`--CDECF_CUDA_ARCHS=${v}`);
    } else if (a === '-D' || a.startsWith('-D')) {
      const d = a === '-D' ? value(++i, a) : a.slice(2);
      if (!/^[A-Za-z_][A-Za-z0-9_]*(:[A-Z]+)?=/.test(d)) fail(`-D takes NAME=VALUE, not '${d}'`);
      o.cmake.push(`--CD${d}`);
    } else o.cmake.push(a);
  }
  return o;
}
function fail(msg) {
  console.error(`build-native: ${msg}`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
const rebuild = opts.rebuild;
const out = resolve(root, opts.out);
const extra = opts.cmake;
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

const jobs = String(Math.max(1, availableParallelism()));
const cmakeJsArgs = [
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
];
if (opts.dryRun) {
  console.log(`build-native: would run${rebuild ? ' (after clearing the build folder)' : ''}: ${[process.execPath, ...cmakeJsArgs].map((a) => (/[\s;"'$]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  process.exit(0);
}

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
  const r = spawnSync(process.execPath, cmakeJsArgs, { cwd: root, stdio: 'inherit' });
  status = r.status ?? 1;
} finally {
  rmSync(lock, { force: true });
}
process.exit(status);
