/**
 * Choosing the native addon and diagnosing why none loads (lib/native-load.ts), on package
 * layouts made here: libtorch version files as PyTorch wheels, LibTorch zips and Debian lay them
 * out, prebuild manifests, and a real shared object whose needed library is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeLoadError, chooseAddon, loadAddon, platformTag, rebuildCommand, sameTorch, torchAt } from '../../lib/native-load.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
let tmp: string;
const env = { PATH: process.env.PATH } as NodeJS.ProcessEnv; // no LD_LIBRARY_PATH, LIBTORCH, …

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
    expect(e.message).toMatch(/built for libtorch 9\.9\.0 \(CPU\) \(libtorch9\.9\), which is not here \(libtorch_cpu\.so\.9\.9 is not on the library path\)/);
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
