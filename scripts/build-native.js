#!/usr/bin/env node
// Builds the native addon with cmake-js (the one build description is CMakeLists.txt).
// Serialised with a lock file so concurrent builds in one checkout do not clobber build/.
// Usage: node scripts/build-native.js [--rebuild] [extra cmake-js args]
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const rebuild = args.includes('--rebuild');
const extra = args.filter((a) => a !== '--rebuild');
const lock = join(root, 'build', '.lock');

function acquire() {
  mkdirSync(join(root, 'build'), { recursive: true });
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

acquire();
let status = 1;
try {
  const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
  const cmd = rebuild ? 'rebuild' : 'build';
  const jobs = String(Math.max(1, availableParallelism()));
  const r = spawnSync(process.execPath, [cmakeJs, cmd, '--parallel', jobs, '--log-level', 'warn', ...extra], {
    cwd: root,
    stdio: 'inherit',
  });
  status = r.status ?? 1;
} finally {
  rmSync(lock, { force: true });
}
process.exit(status);
