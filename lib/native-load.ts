/**
 * Finds the native addon that fits this machine, or says exactly why none does.
 *
 * Candidates, in order: `ECACFACE_NATIVE` (a path), the source build `build/Release/ecacface.node`
 * (`ECACFACE_BUILD_DIR` names another build folder), then the prebuilds
 * `prebuilds/<platform>-<arch>/<tag>/ecacface.node`. Each build carries a manifest (`ecacface.json`
 * beside a source build, `manifest.json` in a prebuild folder) naming the libtorch it was built
 * against. libtorch's C++ ABI changes with every version, so a candidate whose libtorch is not the
 * one present is never loaded: it is reported instead.
 *
 * The libtorch a prebuild is matched against, in order of preference: `LIBTORCH`, python3's torch
 * (a PyTorch wheel, e.g. in the active venv; `ECACFACE_PYTHON` names another interpreter), the
 * libraries on the dynamic linker's path (Debian's libtorch). A prebuild for a wheel finds the
 * wheel's libraries through no RUNPATH (its folder differs on every machine): the loader opens them
 * from the wheel first, and the addon's own needs are then met by the libraries already loaded.
 *
 * Shared by `lib/native.ts` (loading) and `scripts/install.js` (choosing at install time); plain
 * Node, no addon needed.
 * @internal
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a build records about itself (written by CMakeLists.txt / scripts/prebuild.js). */
export interface AddonManifest {
  /** libtorch version it was compiled against (Torch_VERSION, e.g. "1.13.1", "2.5.1"). */
  torchVersion: string;
  /** CUDA version of that libtorch ("12.4"; "yes" when the version is unknown), or null for a CPU build. */
  cuda: string | null;
  /** The libtorch library the addon links (its ELF NEEDED name), e.g. "libtorch_cpu.so.1.13". */
  torchLib?: string;
  /** Source builds: the folder of the libtorch libraries it was linked against. */
  torchLibDir?: string;
  /** Source builds: where the build found libtorch, in words ("system", "python3 torch (…)", "LIBTORCH=…"). */
  source?: string;
  /** Prebuilds: libraries shipped beside the addon (found through its $ORIGIN RUNPATH). */
  bundled?: string[];
  /** Prebuilds: the system package that provides the libtorch it needs, for the error message. */
  systemPackage?: string;
  /** Prebuilds for a PyTorch wheel: the wheel's libraries the addon links (opened from the wheel first). */
  wheelLibs?: string[];
  /** Prebuilds for a PyTorch wheel: what `pip install` gets that wheel, for the error message. */
  pip?: string;
}

/** A libtorch install seen on this machine. */
export interface TorchInstall {
  version: string;
  cuda: string | null;
  /** Where it was found, in words ("python3 torch at …", "system library …"). */
  where: string;
  /** True when the version is only known to major.minor (read from a versioned SONAME). */
  minorOnly?: boolean;
}

/** Why no addon could be loaded. */
export type NativeLoadErrorKind = 'no-prebuild' | 'torch-mismatch' | 'library-missing' | 'load-failed' | 'stale-build';

/** The native addon could not be loaded; `message` explains why and ends with the next command. */
export class NativeLoadError extends Error {
  override readonly name = 'NativeLoadError';
  constructor(
    readonly kind: NativeLoadErrorKind,
    message: string,
    /** The command to run next (also the last line of the message). */
    readonly nextCommand: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A build that fits, ready to require(). */
export interface AddonChoice {
  path: string;
  kind: 'override' | 'source' | 'prebuild';
  manifest: AddonManifest | null;
  /** Libraries to open before the addon (a wheel's libtorch, which no RUNPATH of the addon reaches). */
  preload?: string[];
}

/** This package's root (the folder whose package.json is ecacface-torch's). */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (let i = 0; i < 8; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === 'ecacface-torch') return dir;
      } catch {
        /* keep looking */
      }
    }
    dir = dirname(dir);
  }
  throw new Error('ecacface-torch: cannot locate the package root from ' + from);
}

/** `<platform>-<arch>`, the prebuild folder of this machine. */
export function platformTag(): string {
  return `${process.platform}-${process.arch}`;
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

function describeTorch(version: string, cuda: string | null): string {
  return `libtorch ${version} (${cuda === null ? 'CPU' : cuda === 'yes' ? 'CUDA' : `CUDA ${cuda}`})`;
}

/** The command that rebuilds the addon from source in this install. */
export function rebuildCommand(root: string): string {
  return root.split(sep).includes('node_modules') ? 'npx ecacface build-native' : 'npm run build:native';
}

// ---------------------------------------------------------------------------------------------
// Where the dynamic linker looks, and what libtorch is in a folder.
// ---------------------------------------------------------------------------------------------

function ldSoConfDirs(file: string, depth = 0): string[] {
  if (depth > 4 || !existsSync(file)) return [];
  const out: string[] = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const inc = /^include\s+(.+)$/.exec(line);
    if (inc) {
      const pattern = inc[1]!.trim();
      const dir = dirname(pattern);
      const base = pattern.slice(dir.length + 1);
      const re = new RegExp('^' + base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
      let names: string[] = [];
      try {
        names = readdirSync(dir).filter((n) => re.test(n)).sort();
      } catch {
        /* no such folder */
      }
      for (const n of names) out.push(...ldSoConfDirs(join(dir, n), depth + 1));
    } else {
      out.push(line);
    }
  }
  return out;
}

/** The folders the dynamic linker searches for a library that has no RUNPATH entry, in order. */
export function librarySearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = [
    ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    ...(process.platform === 'linux' ? ldSoConfDirs('/etc/ld.so.conf') : []),
    '/lib64',
    '/usr/lib64',
    '/lib',
    '/usr/lib',
  ];
  if (process.platform === 'linux') {
    const multiarch = process.arch === 'x64' ? 'x86_64-linux-gnu' : process.arch === 'arm64' ? 'aarch64-linux-gnu' : '';
    if (multiarch) dirs.push(`/lib/${multiarch}`, `/usr/lib/${multiarch}`);
  }
  if (process.platform === 'darwin') dirs.push(...(env.DYLD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/local/lib', '/opt/homebrew/lib');
  return [...new Set(dirs)];
}

/** The first folder (of `dirs`) that holds `name`. */
export function findLibrary(name: string, dirs: string[]): string | null {
  for (const d of dirs) if (existsSync(join(d, name))) return d;
  return null;
}

const pythonTorchCache = new Map<string, string | null>();

/**
 * The folder of python3's `torch` package (a PyTorch wheel, e.g. in the active venv), found
 * without importing it (milliseconds, not seconds). `ECACFACE_PYTHON` names the interpreter
 * (default: python3 on PATH). Null when it has no torch.
 */
export function pythonTorchDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const py = env.ECACFACE_PYTHON || 'python3';
  const key = `${py}\0${env.PATH ?? ''}`;
  const known = pythonTorchCache.get(key);
  if (known !== undefined) return known;
  const r = spawnSync(
    py,
    ['-c', "import importlib.util as u; s = u.find_spec('torch'); print(s.submodule_search_locations[0] if s and s.submodule_search_locations else '')"],
    { encoding: 'utf8', timeout: 20_000, env, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const dir = r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
  pythonTorchCache.set(key, dir);
  return dir;
}

/** A libtorch library folder that a prebuild may be matched against. */
interface TorchSource {
  libDir: string;
  /** Where it was found, for messages ("python3's torch", "LIBTORCH"). */
  label: string;
  /** 0: LIBTORCH, 1: python3's torch, 2: the dynamic linker's path. Lower is preferred. */
  rank: number;
}

/** LIBTORCH's and python3's library folders: libtorch installs that no RUNPATH or linker path reaches. */
function wheelSources(env: NodeJS.ProcessEnv, probePython: boolean): TorchSource[] {
  const out: TorchSource[] = [];
  if (env.LIBTORCH) out.push({ libDir: join(env.LIBTORCH, 'lib'), label: 'LIBTORCH', rank: 0 });
  const py = probePython ? pythonTorchDir(env) : null;
  if (py) out.push({ libDir: join(py, 'lib'), label: "python3's torch", rank: 1 });
  return out.filter((s) => existsSync(s.libDir));
}

/**
 * The libtorch in a library folder: from a PyTorch wheel's `torch/version.py`, a LibTorch zip's
 * `build-version`, or a versioned SONAME file (`libtorch_cpu.so.1.13`, Debian; major.minor only).
 */
export function torchAt(libDir: string): TorchInstall | null {
  const versionPy = join(libDir, '..', 'version.py');
  if (existsSync(versionPy)) {
    const text = readFileSync(versionPy, 'utf8');
    const v = /__version__\s*=\s*['"]([^'"]+)['"]/.exec(text)?.[1];
    if (v) {
      const cuda = /^cuda\s*(?::[^=]*)?=\s*['"]([^'"]+)['"]/m.exec(text)?.[1] ?? null;
      return { version: v.replace(/\+.*$/, ''), cuda, where: `PyTorch wheel at ${dirname(libDir)}` };
    }
  }
  const buildVersion = join(libDir, '..', 'build-version');
  if (existsSync(buildVersion)) {
    const full = readFileSync(buildVersion, 'utf8').trim();
    const cu = /\+cu(\d+)(\d)$/.exec(full);
    return { version: full.replace(/\+.*$/, ''), cuda: cu ? `${cu[1]}.${cu[2]}` : null, where: `LibTorch at ${dirname(libDir)}` };
  }
  let names: string[] = [];
  try {
    names = readdirSync(libDir).filter((n) => /^libtorch_cpu\.so\.\d+\.\d+/.test(n));
  } catch {
    return null;
  }
  const soname = names.map((n) => /^libtorch_cpu\.so\.(\d+\.\d+)/.exec(n)![1]!).sort()[0];
  if (!soname) return null;
  const cuda = readdirSync(libDir).some((n) => n.startsWith(`libtorch_cuda.so.${soname}`)) ? 'yes' : null;
  return { version: soname, cuda, where: `system library ${join(libDir, `libtorch_cpu.so.${soname}`)}`, minorOnly: true };
}

/** True when two libtorch descriptions are the same ABI (major.minor only when one side knows no more). */
export function sameTorch(a: { version: string; cuda: string | null; minorOnly?: boolean }, b: { version: string; cuda: string | null; minorOnly?: boolean }): boolean {
  const cut = (v: string) => (a.minorOnly || b.minorOnly ? v.split('.').slice(0, 2).join('.') : v);
  if (cut(a.version) !== cut(b.version)) return false;
  if (a.cuda === 'yes' || b.cuda === 'yes') return (a.cuda === null) === (b.cuda === null);
  return a.cuda === b.cuda;
}

/**
 * Every libtorch this machine offers, for the diagnosis when none fits: LIBTORCH, Torch_DIR, the
 * system library folders, and python3's torch (only called on the error path).
 */
export function findTorchInstalls(env: NodeJS.ProcessEnv = process.env): TorchInstall[] {
  const out: TorchInstall[] = [];
  const seen = new Set<string>();
  const at = (libDir: string, label?: string) => {
    let real: string;
    try {
      real = realpathSync(libDir); // /lib and /usr/lib are one folder on merged-/usr systems
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    const t = torchAt(libDir);
    if (t) out.push(label ? { ...t, where: `${label} (${t.where})` } : t);
  };
  if (env.LIBTORCH) at(join(env.LIBTORCH, 'lib'), 'LIBTORCH');
  if (env.Torch_DIR) at(join(env.Torch_DIR, '..', '..', '..', 'lib'), 'Torch_DIR');
  for (const d of librarySearchDirs(env)) at(d);
  const py = pythonTorchDir(env);
  if (py) at(join(py, 'lib'), "python3's torch");
  return out;
}

// ---------------------------------------------------------------------------------------------
// Choosing and loading.
// ---------------------------------------------------------------------------------------------

interface Rejected {
  path: string;
  manifest: AddonManifest;
  reason: string;
}

/**
 * Prebuilds of this platform whose libtorch is present, best first (the libtorch of LIBTORCH, then
 * python3's, then the linker path's; CUDA before CPU), and the others with the reason.
 */
export function listPrebuilds(
  root: string,
  env: NodeJS.ProcessEnv = process.env,
  probePython = true,
): { fits: AddonChoice[]; rejected: Rejected[] } {
  const dir = join(root, 'prebuilds', platformTag());
  const fits: (AddonChoice & { rank: number; tag: string })[] = [];
  const rejected: Rejected[] = [];
  let tags: string[] = [];
  try {
    tags = readdirSync(dir).filter((t) => statSync(join(dir, t)).isDirectory());
  } catch {
    return { fits, rejected };
  }
  const search = librarySearchDirs(env);
  const wheels = tags.length ? wheelSources(env, probePython) : [];
  for (const tag of tags) {
    const path = join(dir, tag, 'ecacface.node');
    const manifest = readJson<AddonManifest>(join(dir, tag, 'manifest.json'));
    if (!manifest || !existsSync(path)) continue;
    const lib = manifest.torchLib ?? 'libtorch_cpu.so';
    if (/\.so\.\d/.test(lib)) {
      // A versioned SONAME (Debian's libtorch_cpu.so.1.13) names the ABI: the linker finds it.
      if (findLibrary(lib, [join(dir, tag), ...search]) === null) {
        rejected.push({ path, manifest, reason: `${lib} is not on the library path` });
      } else {
        fits.push({ path, kind: 'prebuild', manifest, rank: 2, tag });
      }
      continue;
    }
    // An unversioned SONAME says nothing about the ABI: the version beside it must match.
    const want = { version: manifest.torchVersion, cuda: manifest.cuda };
    const sources = [...wheels, ...search.map((d) => ({ libDir: d, label: '', rank: 2 }))].filter((s) => existsSync(join(s.libDir, lib)));
    const match = sources.find((s) => {
      const present = torchAt(s.libDir);
      return present !== null && sameTorch(present, want);
    });
    if (match) {
      const preload = match.rank < 2 ? (manifest.wheelLibs ?? [lib]).map((n) => join(match.libDir, n)).filter((p) => existsSync(p)) : undefined;
      fits.push({ path, kind: 'prebuild', manifest, rank: match.rank, tag, ...(preload ? { preload } : {}) });
      continue;
    }
    const first = sources[0];
    if (!first) {
      rejected.push({ path, manifest, reason: `${lib} is not on the library path${probePython ? " and python3 has no torch" : ''}` });
    } else {
      const present = torchAt(first.libDir);
      const where = first.label ? `${first.label}, ${join(first.libDir, lib)},` : join(first.libDir, lib);
      rejected.push({ path, manifest, reason: `${where} is ${present ? describeTorch(present.version, present.cuda) : 'of an unknown version'}` });
    }
  }
  // the most specific libtorch first; where both fit (CUDA libtorch present), the CUDA build
  fits.sort((a, b) => a.rank - b.rank || Number(b.tag.includes('-cu')) - Number(a.tag.includes('-cu')) || a.tag.localeCompare(b.tag));
  return { fits: fits.map(({ rank, tag, ...c }) => (void rank, void tag, c)), rejected };
}

/** The source build folder: `build/`, or `ECACFACE_BUILD_DIR` (relative to the package root). */
export function sourceBuildDir(root: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(root, env.ECACFACE_BUILD_DIR || 'build');
}

/** The source build, or why it must not be loaded (its libtorch changed since it was built). */
function sourceBuild(root: string, env: NodeJS.ProcessEnv): AddonChoice | { stale: string; manifest: AddonManifest } | null {
  const release = join(sourceBuildDir(root, env), 'Release');
  const path = join(release, 'ecacface.node');
  if (!existsSync(path)) return null;
  const manifest = readJson<AddonManifest>(join(release, 'ecacface.json'));
  if (manifest?.torchLibDir) {
    const now = torchAt(manifest.torchLibDir);
    if (now === null) return { stale: `no libtorch is left in ${manifest.torchLibDir}`, manifest };
    if (!sameTorch(now, { version: manifest.torchVersion, cuda: manifest.cuda })) {
      return { stale: `${manifest.torchLibDir} now holds ${describeTorch(now.version, now.cuda)}`, manifest };
    }
  }
  return { path, kind: 'source', manifest };
}

/** The system package that provides a library, where we know it (Debian/Ubuntu names). */
const DEBIAN_PACKAGES: Record<string, string> = {
  'libturbojpeg.so.0': 'libturbojpeg0',
  'libpng16.so.16': 'libpng16-16',
  'libgomp.so.1': 'libgomp1',
  'libz.so.1': 'zlib1g',
  'libstdc++.so.6': 'libstdc++6',
};

function debianPackageOf(lib: string): string | null {
  const torch = /^lib(?:torch|torch_cpu|torch_cuda|c10|c10_cuda)\.so\.(\d+\.\d+)$/.exec(lib);
  if (torch) return `libtorch${torch[1]}`;
  return DEBIAN_PACKAGES[lib] ?? null;
}

/** Turns a failed require() of an addon into the diagnosis. */
export function diagnoseDlopen(path: string, err: unknown, choice: AddonChoice, root: string): NativeLoadError {
  const msg = err instanceof Error ? err.message : String(err);
  const rebuild = rebuildCommand(root);
  const what = choice.kind === 'prebuild' ? 'the prebuilt addon' : choice.kind === 'source' ? 'the addon built from source' : 'the addon';
  const built = choice.manifest ? ` (built for ${describeTorch(choice.manifest.torchVersion, choice.manifest.cuda)})` : '';
  const missing = /(?:^|\s|: )([^\s:/]+\.so[.\d]*): cannot open shared object file/.exec(msg)?.[1] ?? /Library not loaded: (\S+)/.exec(msg)?.[1];
  if (missing) {
    const pkg = debianPackageOf(missing);
    const next = pkg ? `sudo apt-get install ${pkg}` : rebuild;
    return new NativeLoadError(
      'library-missing',
      `ecacface-torch: ${what} ${path}${built} was found, but a library it needs could not be loaded:\n` +
        `  ${missing} => not found\n` +
        `  (dlopen: ${msg.split('\n')[0]})\n` +
        (pkg ? `  It comes from the system package ${pkg}` + (choice.kind === 'prebuild' ? `; or build against your own libtorch with '${rebuild}'.\n` : '.\n') : `  Build against a libtorch you have instead.\n`) +
        `  Next: ${next}`,
      next,
      { cause: err },
    );
  }
  const symbol = /undefined symbol: (\S+)/.exec(msg)?.[1];
  if (symbol) {
    return new NativeLoadError(
      'torch-mismatch',
      `ecacface-torch: ${what} ${path}${built} does not match the libtorch that was loaded ` +
        `(undefined symbol ${symbol}): libtorch's C++ ABI changes with every version.\n` +
        `  Rebuild it against the libtorch on this machine.\n  Next: ${rebuild}`,
      rebuild,
      { cause: err },
    );
  }
  return new NativeLoadError(
    'load-failed',
    `ecacface-torch: ${what} ${path}${built} could not be loaded: ${msg.split('\n')[0]}\n  Next: ${rebuild}`,
    rebuild,
    { cause: err },
  );
}

/** How to get the libtorch a prebuild was made for, in words (a system package or a pip command). */
function installHint(m: AddonManifest): string | null {
  if (m.systemPackage) return `sudo apt-get install ${m.systemPackage}`;
  if (m.pip) return `pip install ${m.pip}`;
  return null;
}

/**
 * The addon that fits, without loading it; throws {@link NativeLoadError} when none does.
 * `probeTorch` (default true) looks for other libtorch installs to name in the error.
 */
export function chooseAddon(root: string, env: NodeJS.ProcessEnv = process.env, probeTorch = true): AddonChoice {
  if (env.ECACFACE_NATIVE) return { path: env.ECACFACE_NATIVE, kind: 'override', manifest: null };
  const rebuild = rebuildCommand(root);
  const src = sourceBuild(root, env);
  if (src && 'stale' in src) {
    throw new NativeLoadError(
      'stale-build',
      `ecacface-torch: the addon in ${join(sourceBuildDir(root, env), 'Release')} was built for ` +
        `${describeTorch(src.manifest.torchVersion, src.manifest.cuda)}, but ${src.stale}.\n` +
        `  It is not loaded (libtorch's C++ ABI changes with every version). Rebuild it.\n  Next: ${rebuild}`,
      rebuild,
    );
  }
  if (src) return src;
  const { fits, rejected } = listPrebuilds(root, env);
  if (fits.length) return fits[0]!;

  const installs = probeTorch ? findTorchInstalls(env) : [];
  const found = installs.length
    ? `  libtorch on this machine: ${installs.map((t) => `${describeTorch(t.version, t.cuda)} — ${t.where}`).join('; ')}.\n`
    : `  No libtorch was found on this machine (looked at LIBTORCH, Torch_DIR, the library path and python3's torch).\n`;
  const build =
    `  Build the addon against your libtorch (needs cmake, a C++17 compiler and libtorch: found through LIBTORCH,\n` +
    `  Torch_DIR, python3's torch, or Debian's libtorch-dev)` +
    (rebuild.startsWith('npx')
      ? `, with the command below, or let npm build it (npm 11 runs a\n  dependency's install script only once approved): npm install-scripts approve ecacface-torch && npm rebuild ecacface-torch\n`
      : `.\n`);
  if (rejected.length) {
    const hints = [...new Set(rejected.map((r) => installHint(r.manifest)).filter((h): h is string => h !== null))];
    const apt = hints.find((h) => h.startsWith('sudo apt-get'));
    const next = installs.length || !apt ? rebuild : apt;
    throw new NativeLoadError(
      'torch-mismatch',
      `ecacface-torch: no prebuilt addon for ${platformTag()} fits the libtorch here; none is loaded:\n` +
        rejected
          .map((r) => {
            const m = r.manifest;
            const from = m.systemPackage ?? (m.pip ? `pip ${m.pip.split(' ')[0]}` : null);
            return `  ${basename(dirname(r.path))}: built for ${describeTorch(m.torchVersion, m.cuda)}${from ? ` (${from})` : ''}, which is not here (${r.reason})\n`;
          })
          .join('') +
        found +
        build +
        (hints.length ? `  Or install a libtorch a prebuild is made for: ${hints.join('  |  ')}\n` : '') +
        `  Next: ${next}`,
      next,
    );
  }
  throw new NativeLoadError(
    'no-prebuild',
    `ecacface-torch: no native addon for ${platformTag()}: this package has no prebuilt addon for ${platformTag()} and none was built from source.\n` +
      found +
      build +
      `  Next: ${rebuild}`,
    rebuild,
  );
}

// dlopen flags: RTLD_NODELETE (glibc's value; not in os.constants) keeps a library that Node opens
// and then closes again (it is no addon) in the process, where the addon's NEEDED entries find it.
const RTLD_NODELETE = 0x1000;

/**
 * Opens a wheel's libraries before an addon that needs them: the dynamic linker then meets the
 * addon's NEEDED entries (libtorch_cpu.so, …) with them, by SONAME, instead of searching.
 */
function preloadLibraries(paths: string[]): void {
  const flags = constants.dlopen.RTLD_NOW! | (process.platform === 'linux' ? RTLD_NODELETE : 0);
  for (const p of paths) {
    try {
      process.dlopen({ exports: {} } as NodeJS.Module, p, flags);
    } catch (err) {
      // "Module did not self-register": it loaded, and is a plain library, not an addon
      if (!/did not self-register/.test(err instanceof Error ? err.message : String(err))) throw err;
    }
  }
}

/**
 * Loads a chosen addon: first the libraries it needs that no RUNPATH reaches (a wheel's libtorch),
 * then the addon; throws {@link NativeLoadError} with the diagnosis when it cannot.
 */
export function requireAddon<T>(choice: AddonChoice, root: string): T {
  try {
    if (choice.preload) preloadLibraries(choice.preload);
    return createRequire(import.meta.url)(choice.path) as T;
  } catch (err) {
    throw diagnoseDlopen(choice.path, err, choice, root);
  }
}

/** Chooses and loads the addon; throws {@link NativeLoadError} with the diagnosis when it cannot. */
export function loadAddon<T>(root: string = packageRoot(), env: NodeJS.ProcessEnv = process.env): { binding: T; choice: AddonChoice } {
  const choice = chooseAddon(root, env);
  return { binding: requireAddon<T>(choice, root), choice };
}
