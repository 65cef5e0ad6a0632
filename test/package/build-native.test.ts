/**
 * `npx ecacface build-native` forwards its options to the build (scripts/build-native.js →
 * cmake-js → CMakeLists.txt), and what scripts/prebuild.js decides about a build: where each
 * library comes from, the system package of a library on a merged-/usr system, the pip command
 * of a wheel. The builds themselves run in the lanes (npm run test:torch2, check:cuda-link).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error a plain .mjs module of scripts/, no typings
import { classify, debianOwner, pipHint, prebuildTag } from '../../scripts/prebuild-lib.mjs';
import { findLibrary } from '../../lib/native-load.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist', 'lib', 'cli', 'main.js');
// the lane's own build folder (ECACFACE_BUILD_DIR, set by npm run test:torch2) is not the default under test
const buildNative = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const { ECACFACE_BUILD_DIR: _laneBuild, ...inherited } = process.env;
  return spawnSync(process.execPath, [cli, 'build-native', '--dry-run', ...args], { cwd: root, encoding: 'utf8', env: { ...inherited, ...env } });
};

describe('ecacface build-native', () => {
  it('forwards the C++ standard, CUDA architectures, --cpu, -D definitions and cmake-js arguments', () => {
    const r = buildNative(['--cuda-archs', '80,90', '--cxx-standard', '20', '--cpu', '-D', 'CMAKE_BUILD_TYPE=RelWithDebInfo', '-D', 'ECF_X:BOOL=ON', '--', '--CDEXTRA=1']);
    expect(r.status, r.stderr).toBe(0);
    const line = r.stdout.trim();
    expect(line).toMatch(/^build-native: would run \(after clearing the build folder\): \S+ \S+cmake-js build --out \S+\/build /);
    for (const a of ['--CDECF_FORCE_CPU=ON', '--CDECF_CXX_STANDARD=20', '"--CDECF_CUDA_ARCHS=80;90"', '--CDCMAKE_BUILD_TYPE=RelWithDebInfo', '--CDECF_X:BOOL=ON', '--CDEXTRA=1']) {
      expect(line).toContain(` ${a}`);
    }
    expect(buildNative(['--incremental']).stdout).toMatch(/^build-native: would run: /);
  });

  it('builds into ECACFACE_BUILD_DIR, the folder the loader then loads from', () => {
    const r = buildNative([], { ECACFACE_BUILD_DIR: '.cache/build-elsewhere' });
    expect(r.stdout).toContain(`--out ${join(root, '.cache', 'build-elsewhere')} `);
  });

  it('refuses malformed options before building anything', () => {
    const archs = buildNative(['--cuda-archs', '8.0']);
    expect(archs.status).toBe(1);
    expect(archs.stderr).toMatch(/--cuda-archs takes compute capabilities without the dot, e\.g\. "80;90;100", not '8\.0'/);
    const std = buildNative(['--cxx-standard', '14']);
    expect(std.stderr).toMatch(/--cxx-standard must be 17, 20 or 23, not '14'/);
    const def = buildNative(['-D', 'no-equals']);
    expect(def.stderr).toMatch(/-D takes NAME=VALUE, not 'no-equals'/);
  });
});

describe('scripts/prebuild.js decisions', () => {
  const debianLib = '/usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13';
  it.runIf(existsSync(debianLib) && spawnSync('dpkg', ['--version']).status === 0)(
    "names the Debian package of a library found through merged /usr's /lib alias (dpkg -S knows only /usr/lib)",
    () => {
      expect(debianOwner(debianLib)).toBe('libtorch1.13');
      expect(debianOwner('/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13')).toBe('libtorch1.13');
      expect(debianOwner('/nonexistent/libnothing.so.1')).toBeUndefined();
    },
  );

  it('names a wheel prebuild by its torch and CUDA versions, with the pip command of that wheel', () => {
    expect(prebuildTag({ torchVersion: '2.14.1', cuda: '13.0' })).toBe('torch-2.14.1-cu130');
    expect(prebuildTag({ torchVersion: '2.13.0', cuda: null })).toBe('torch-2.13.0-cpu');
    expect(pipHint('2.14.1', '13.0')).toBe('torch==2.14.1 --extra-index-url https://download.pytorch.org/whl/cu130');
    expect(pipHint('2.13.0', null)).toBe('torch==2.13.0+cpu --extra-index-url https://download.pytorch.org/whl/cpu');
  });

  it.runIf(spawnSync('cc', ['--version']).status === 0)(
    "classifies a wheel build's libraries: the wheel's own, what they bring, what is bundled, what is missing",
    () => {
      // site-packages/{torch/lib/libtorch_cuda.so → nvidia/cu13/lib/libcudart.so.13}
      const tmp = mkdtempSync(join(tmpdir(), 'ecf-prebuild-'));
      const torchLib = join(tmp, 'site-packages', 'torch', 'lib');
      const cudaLib = join(tmp, 'site-packages', 'nvidia', 'cu13', 'lib');
      mkdirSync(torchLib, { recursive: true });
      mkdirSync(cudaLib, { recursive: true });
      writeFileSync(join(torchLib, '..', 'version.py'), "__version__ = '2.14.1+cu130'\ncuda = '13.0'\n");
      writeFileSync(join(tmp, 'a.c'), 'int ecf_a(void) { return 1; }\n');
      const cc = (args: string[]) => expect(spawnSync('cc', args, { cwd: tmp }).status).toBe(0);
      cc(['-shared', '-fPIC', '-o', join(cudaLib, 'libcudart.so.13'), '-Wl,-soname,libcudart.so.13', 'a.c']);
      writeFileSync(join(tmp, 'b.c'), 'extern int ecf_a(void);\nint ecf_b(void) { return ecf_a(); }\n');
      cc(['-shared', '-fPIC', '-o', join(torchLib, 'libtorch_cuda.so'), '-Wl,-soname,libtorch_cuda.so', 'b.c', join(cudaLib, 'libcudart.so.13')]);
      cc(['-shared', '-fPIC', '-o', join(torchLib, 'libtorch_cpu.so'), '-Wl,-soname,libtorch_cpu.so', 'a.c']);
      const search = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu'];
      const needed = ['libtorch_cpu.so', 'libtorch_cuda.so', 'libcudart.so.13', 'libstdc++.so.6', 'libc.so.6', 'libecf-absent.so.7'];
      const r = classify(needed, { torchLibDir: torchLib, search, findLibrary });
      expect(r.torchLib).toBe('libtorch_cpu.so');
      expect(r.wheelLibs).toEqual(['libtorch_cpu.so', 'libtorch_cuda.so']);
      expect(r.bundle).toEqual([]); // libcudart comes with libtorch_cuda.so
      expect(r.problems).toEqual(["libecf-absent.so.7 (needed by the addon) is neither a library of the wheel's libtorch nor on this machine's library path"]);
    },
  );
});
