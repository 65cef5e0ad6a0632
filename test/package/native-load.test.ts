/**
 * Choosing the native addon and diagnosing why none loads (lib/native-load.ts), on package
 * layouts made here: libtorch version files as PyTorch wheels, LibTorch zips and Debian lay them
 * out, prebuild manifests, and a real shared object whose needed library is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeLoadError, chooseAddon, loadAddon, platformTag, pythonTorchDir, rebuildCommand, sameTorch, torchAt } from '../../lib/native-load.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
let tmp: string;
// no LD_LIBRARY_PATH, LIBTORCH, …; no python3's torch (`false` exits 1): each test sets what it needs
const env = { PATH: process.env.PATH, ECACFACE_PYTHON: 'false' } as NodeJS.ProcessEnv;

/** A package root inside node_modules (so the next command is the consumer's). */
function fakePackage(name: string): string {
  const root = join(tmp, name, 'node_modules', 'ecacface-torch');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'ecacface-torch', version: '0.0.0' }));
  return root;
}
function catchLoad(fn: () => unknown): NativeLoadError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NativeLoadError);
    return e as NativeLoadError;
  }
  throw new Error('expected a NativeLoadError');
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ecacface-load-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('libtorch versions', () => {
  it('reads a PyTorch wheel, a LibTorch zip and a Debian SONAME', () => {
    const wheel = join(tmp, 'site', 'torch');
    mkdirSync(join(wheel, 'lib'), { recursive: true });
    writeFileSync(join(wheel, 'version.py'), "__version__ = '2.5.1+cu124'\ndebug = False\ncuda: Optional[str] = '12.4'\n");
    expect(torchAt(join(wheel, 'lib'))).toMatchObject({ version: '2.5.1', cuda: '12.4' });

    const zip = join(tmp, 'libtorch');
    mkdirSync(join(zip, 'lib'), { recursive: true });
    writeFileSync(join(zip, 'build-version'), '2.4.0+cpu\n');
    expect(torchAt(join(zip, 'lib'))).toMatchObject({ version: '2.4.0', cuda: null });

    const deb = join(tmp, 'usr-lib');
    mkdirSync(deb);
    writeFileSync(join(deb, 'libtorch_cpu.so.1.13'), '');
    writeFileSync(join(deb, 'libtorch_cpu.so.1.13.0'), '');
    expect(torchAt(deb)).toMatchObject({ version: '1.13', cuda: null, minorOnly: true });
    expect(torchAt(join(tmp, 'nothing-here'))).toBeNull();
  });

  it('compares to major.minor only when one side knows no more, and tells CPU from CUDA', () => {
    expect(sameTorch({ version: '1.13.1', cuda: null }, { version: '1.13', cuda: null, minorOnly: true })).toBe(true);
    expect(sameTorch({ version: '2.5.1', cuda: null }, { version: '2.5.0', cuda: null })).toBe(false);
    expect(sameTorch({ version: '2.5.1', cuda: '12.4' }, { version: '2.5.1', cuda: null })).toBe(false);
    expect(sameTorch({ version: '2.5.1', cuda: '12.4' }, { version: '2.5.1', cuda: '12.1' })).toBe(false);
  });
});

describe('choosing the addon', () => {
  it('no prebuild for the platform: says so, lists no fake libtorch, and names the command', () => {
    const root = fakePackage('none');
    const e = catchLoad(() => chooseAddon(root, env, false));
    expect(e.kind).toBe('no-prebuild');
    expect(e.message).toContain(`no native addon for ${platformTag()}`);
    expect(e.nextCommand).toBe('npx ecacface build-native');
    expect(e.message.trimEnd().endsWith('Next: npx ecacface build-native')).toBe(true);
    expect(rebuildCommand(repo)).toBe('npm run build:native');
  });

  it('a prebuild for another libtorch is never chosen; the message names both', () => {
    const root = fakePackage('mismatch');
    const dir = join(root, 'prebuilds', platformTag(), 'torch-9.9.0-cpu');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ecacface.node'), 'not an ELF file: loading it would fail loudly');
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ torchVersion: '9.9.0', cuda: null, torchLib: 'libtorch_cpu.so.9.9', systemPackage: 'libtorch9.9' }));
    const e = catchLoad(() => loadAddon(root, env));
    expect(e.kind).toBe('torch-mismatch');
    expect(e.message).toMatch(/torch-9\.9\.0-cpu: built for libtorch 9\.9\.0 \(CPU\) \(libtorch9\.9\), which is not here \(libtorch_cpu\.so\.9\.9 is not on the library path\)/);
    expect(e.message).toMatch(/Or install a libtorch a prebuild is made for: sudo apt-get install libtorch9\.9/);
  });

  it('an unversioned-SONAME prebuild is chosen only when the libtorch beside it is its version', () => {
    const root = fakePackage('wheel');
    const torchDir = join(tmp, 'wheel-site', 'torch');
    mkdirSync(join(torchDir, 'lib'), { recursive: true });
    writeFileSync(join(torchDir, 'lib', 'libtorch_cpu.so'), '');
    writeFileSync(join(torchDir, 'version.py'), "__version__ = '2.5.1+cu124'\ncuda = '12.4'\n");
    const dir = join(root, 'prebuilds', platformTag(), 'torch-2.5.1-cu124');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ecacface.node'), '');
    const manifest = { torchVersion: '2.5.1', cuda: '12.4', torchLib: 'libtorch_cpu.so' };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const withLib = { ...env, LD_LIBRARY_PATH: join(torchDir, 'lib') };
    expect(chooseAddon(root, withLib, false)).toMatchObject({ kind: 'prebuild', path: join(dir, 'ecacface.node') });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, torchVersion: '2.4.0' }));
    const e = catchLoad(() => chooseAddon(root, withLib, false));
    expect(e.kind).toBe('torch-mismatch');
    expect(e.message).toContain('is libtorch 2.5.1 (CUDA 12.4)');
  });

  /** A PyTorch wheel's torch folder (version.py, lib/), and a python3 that reports it. */
  function fakeWheel(name: string, version: string, cuda: string | null): { torchDir: string; python: string } {
    const torchDir = join(tmp, name, 'site-packages', 'torch');
    mkdirSync(join(torchDir, 'lib'), { recursive: true });
    for (const lib of ['libc10.so', 'libtorch_cpu.so', 'libtorch.so']) writeFileSync(join(torchDir, 'lib', lib), '');
    writeFileSync(join(torchDir, 'version.py'), `__version__ = '${version}'\ncuda: Optional[str] = ${cuda ? `'${cuda}'` : 'None'}\n`);
    const python = join(tmp, name, 'python3');
    writeFileSync(python, `#!/bin/sh\necho ${torchDir}\n`);
    chmodSync(python, 0o755);
    return { torchDir, python };
  }
  function wheelPrebuild(root: string, version: string, cuda: string | null): string {
    const tag = `torch-${version}-${cuda ? `cu${cuda.replace('.', '')}` : 'cpu'}`;
    const dir = join(root, 'prebuilds', platformTag(), tag);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ecacface.node'), '');
    const pip = cuda ? `torch==${version} --extra-index-url https://download.pytorch.org/whl/cu${cuda.replace('.', '')}` : `torch==${version}+cpu --extra-index-url https://download.pytorch.org/whl/cpu`;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ torchVersion: version, cuda, torchLib: 'libtorch_cpu.so', wheelLibs: ['libc10.so', 'libtorch_cpu.so', 'libtorch.so'], pip }));
    return join(dir, 'ecacface.node');
  }

  it("a wheel's prebuild is chosen where python3's torch is its version, and opens the wheel's libraries first", () => {
    const root = fakePackage('py-wheel');
    const cpu = fakeWheel('py-213', '2.13.0+cpu', null);
    const cu = fakeWheel('py-2141', '2.14.1+cu130', '13.0');
    const p213 = wheelPrebuild(root, '2.13.0', null);
    const p2141 = wheelPrebuild(root, '2.14.1', '13.0');
    expect(pythonTorchDir({ ...env, ECACFACE_PYTHON: cpu.python })).toBe(cpu.torchDir);
    const a = chooseAddon(root, { ...env, ECACFACE_PYTHON: cpu.python }, false);
    expect(a).toMatchObject({ kind: 'prebuild', path: p213 });
    expect(a.preload).toEqual(['libc10.so', 'libtorch_cpu.so', 'libtorch.so'].map((l) => join(cpu.torchDir, 'lib', l)));
    expect(chooseAddon(root, { ...env, ECACFACE_PYTHON: cu.python }, false)).toMatchObject({ kind: 'prebuild', path: p2141 });
    // none for python3's 2.13 wheel: the message names what python3 has and the pip commands
    rmSync(join(root, 'prebuilds', platformTag(), 'torch-2.13.0-cpu'), { recursive: true });
    const e = catchLoad(() => chooseAddon(root, { ...env, ECACFACE_PYTHON: cpu.python }, true));
    expect(e.kind).toBe('torch-mismatch');
    expect(e.message).toContain(`torch-2.14.1-cu130: built for libtorch 2.14.1 (CUDA 13.0) (pip torch==2.14.1), which is not here (python3's torch, ${join(cpu.torchDir, 'lib', 'libtorch_cpu.so')}, is libtorch 2.13.0 (CPU))`);
    expect(e.message).toMatch(/\n  libtorch on this machine: .*libtorch 2\.13\.0 \(CPU\) — python3's torch \(PyTorch wheel at /);
    expect(e.message).toContain(`python3's torch (PyTorch wheel at ${cpu.torchDir})`);
    expect(e.message).toContain('Or install a libtorch a prebuild is made for: pip install torch==2.14.1 --extra-index-url https://download.pytorch.org/whl/cu130');
    expect(e.message.trimEnd().endsWith('Next: npx ecacface build-native')).toBe(true);
  });

  it("where python3's torch and the linker's libtorch both have a prebuild, python3's (the active venv) wins", () => {
    const root = fakePackage('both');
    const cpu = fakeWheel('py-both', '2.13.0+cpu', null);
    const p213 = wheelPrebuild(root, '2.13.0', null);
    const deb = join(tmp, 'both-usr-lib');
    mkdirSync(deb);
    writeFileSync(join(deb, 'libtorch_cpu.so.1.13'), '');
    const dir = join(root, 'prebuilds', platformTag(), 'torch-1.13.0-cpu');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ecacface.node'), '');
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ torchVersion: '1.13.0', cuda: null, torchLib: 'libtorch_cpu.so.1.13', systemPackage: 'libtorch1.13' }));
    const withDeb = { ...env, LD_LIBRARY_PATH: deb };
    expect(chooseAddon(root, { ...withDeb, ECACFACE_PYTHON: cpu.python }, false)).toMatchObject({ path: p213 });
    expect(chooseAddon(root, withDeb, false)).toMatchObject({ path: join(dir, 'ecacface.node') });
  });

  it.runIf(spawnSync('cc', ['--version']).status === 0)(
    "loads a wheel's prebuild whose libtorch no RUNPATH reaches: the loader opens the wheel's library first",
    () => {
      // a fake wheel whose libtorch_cpu.so (SONAME libtorch_cpu.so) lives only in its own folder,
      // and a real Node-API addon that needs it by SONAME, RUNPATH $ORIGIN only
      const root = fakePackage('preload');
      const wheel = fakeWheel('py-preload', '7.7.0+cpu', null);
      const lib = join(wheel.torchDir, 'lib');
      writeFileSync(join(tmp, 'torch.c'), 'int ecf_fake_torch(void) { return 42; }\n');
      const cc = (args: string[]) => {
        const r = spawnSync('cc', args, { cwd: tmp, encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
      };
      for (const l of ['libc10.so', 'libtorch_cpu.so', 'libtorch.so']) rmSync(join(lib, l));
      cc(['-shared', '-fPIC', '-o', join(lib, 'libtorch_cpu.so'), '-Wl,-soname,libtorch_cpu.so', 'torch.c']);
      writeFileSync(
        join(tmp, 'addon.c'),
        '#include <node_api.h>\nextern int ecf_fake_torch(void);\n' +
          'napi_value napi_register_module_v1(napi_env env, napi_value exports) {\n' +
          '  napi_value v; napi_create_int32(env, ecf_fake_torch(), &v); napi_set_named_property(env, exports, "answer", v); return exports;\n}\n',
      );
      const addon = wheelPrebuild(root, '7.7.0', null);
      cc(['-shared', '-fPIC', `-I${join(repo, 'node_modules', 'node-api-headers', 'include')}`, '-o', addon, 'addon.c', `-L${lib}`, '-ltorch_cpu', '-Wl,-rpath,$ORIGIN']);
      writeFileSync(join(tmp, 'load.mjs'), `import { loadAddon } from ${JSON.stringify(join(repo, 'dist', 'lib', 'native-load.js'))};\nconsole.log(loadAddon(process.argv[2]).binding.answer);\n`);
      const run = (e: NodeJS.ProcessEnv) => spawnSync(process.execPath, [join(tmp, 'load.mjs'), root], { encoding: 'utf8', env: e });
      const r = run({ ...env, ECACFACE_PYTHON: wheel.python });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('42');
      // without python3's torch the same prebuild is not loaded at all
      const none = run(env);
      expect(none.status).toBe(1);
      // (a machine with Debian's libtorch-dev has an unversioned libtorch_cpu.so of 1.13 on the linker's path)
      expect(none.stderr).toMatch(
        /torch-7\.7\.0-cpu: built for libtorch 7\.7\.0 \(CPU\) \(pip torch==7\.7\.0\+cpu\), which is not here \((libtorch_cpu\.so is not on the library path and python3 has no torch|\S+\/libtorch_cpu\.so is libtorch 1\.13 \(CPU\))\)/,
      );
    },
  );

  it('ECACFACE_BUILD_DIR names the source build folder (one per libtorch)', () => {
    const root = fakePackage('build-dir');
    mkdirSync(join(root, 'build-other', 'Release'), { recursive: true });
    writeFileSync(join(root, 'build-other', 'Release', 'ecacface.node'), '');
    expect(() => chooseAddon(root, env, false)).toThrow(NativeLoadError);
    expect(chooseAddon(root, { ...env, ECACFACE_BUILD_DIR: 'build-other' }, false)).toMatchObject({ kind: 'source', path: join(root, 'build-other', 'Release', 'ecacface.node') });
  });

  it('a source build whose libtorch changed since is not loaded (built for A, found B)', () => {
    const root = fakePackage('stale');
    const torchDir = join(tmp, 'stale-site', 'torch');
    mkdirSync(join(torchDir, 'lib'), { recursive: true });
    writeFileSync(join(torchDir, 'version.py'), "__version__ = '2.6.0+cpu'\ncuda = None\n");
    mkdirSync(join(root, 'build', 'Release'), { recursive: true });
    writeFileSync(join(root, 'build', 'Release', 'ecacface.node'), '');
    const write = (v: string) =>
      writeFileSync(join(root, 'build', 'Release', 'ecacface.json'), JSON.stringify({ torchVersion: v, cuda: null, torchLibDir: join(torchDir, 'lib') }));
    write('2.5.1');
    const e = catchLoad(() => chooseAddon(root, env, false));
    expect(e.kind).toBe('stale-build');
    expect(e.message).toMatch(/built for libtorch 2\.5\.1 \(CPU\), but .*torch\/lib now holds libtorch 2\.6\.0 \(CPU\)/);
    expect(e.nextCommand).toBe('npx ecacface build-native');
    write('2.6.0');
    expect(chooseAddon(root, env, false)).toMatchObject({ kind: 'source' });
  });

  it.runIf(spawnSync('cc', ['--version']).status === 0)('a library the addon needs is missing: names it, ldd-style, with the dlopen message', () => {
    const dir = join(tmp, 'dlopen');
    mkdirSync(dir);
    writeFileSync(join(dir, 'dep.c'), 'int ecf_dep(void) { return 1; }\n');
    writeFileSync(join(dir, 'addon.c'), 'extern int ecf_dep(void);\nint ecf_call(void) { return ecf_dep(); }\n');
    const cc = (args: string[]) => expect(spawnSync('cc', args, { cwd: dir }).status).toBe(0);
    cc(['-shared', '-fPIC', '-o', 'libecfdep.so.1', '-Wl,-soname,libecfdep.so.1', 'dep.c']);
    cc(['-shared', '-fPIC', '-o', 'fake.node', 'addon.c', '-L.', '-l:libecfdep.so.1']);
    rmSync(join(dir, 'libecfdep.so.1'));
    const e = catchLoad(() => loadAddon(fakePackage('dlopen'), { ...env, ECACFACE_NATIVE: join(dir, 'fake.node') }));
    expect(e.kind).toBe('library-missing');
    expect(e.message).toMatch(/libecfdep\.so\.1 => not found/);
    expect(e.message).toMatch(/dlopen: .*libecfdep\.so\.1: cannot open shared object file/);
  });
});

describe('the CLI', () => {
  const cli = join(repo, 'dist', 'lib', 'cli', 'main.js');
  it('prints a load error without a stack trace and exits 1; --version works without the addon', () => {
    const r = spawnSync(process.execPath, [cli, 'info'], { encoding: 'utf8', env: { ...process.env, ECACFACE_NATIVE: join(tmp, 'missing.node') } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ecacface-torch: the addon .*missing\.node could not be loaded/);
    expect(r.stderr).toMatch(/Next: npm run build:native\n$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const v = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8', env: { ...process.env, ECACFACE_NATIVE: join(tmp, 'missing.node') } });
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^ecacface-torch \d+\.\d+\.\d+\nnode v\d+/);
  });
});
