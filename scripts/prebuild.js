#!/usr/bin/env node
// Makes the prebuilt addons that ship in the npm package, in the manner of onnxruntime-node's
// bundled libraries: prebuilds/<platform>-<arch>/torch-<version>-<cpu|cuXY>/ holds ecacface.node
// (RUNPATH $ORIGIN only), the libraries it links that a user cannot be expected to have (copied
// beside it under their SONAME), and manifest.json naming the libtorch it needs. libtorch itself is
// not bundled (hundreds of MB; a CUDA one several GB): it comes from the system package (Debian's
// libtorch) or the PyTorch wheel named in the manifest, and lib/native-load.ts loads the prebuild
// only where exactly that libtorch is present (a wheel's libraries it opens from the wheel).
//
//   npm run prebuild                         every target below this machine can build
//   npm run prebuild -- --only system,2.13.0+cpu
//       targets: system     the system's libtorch (Debian's libtorch-dev 1.13)
//                <version>  a PyTorch wheel in a venv of scripts/torch-venv.sh: 2.13.0+cpu (CPU),
//                           2.14.1 (CUDA 13.0; needs nvcc, compiles for sm_80/90/100)
//       each is a clean build in build-prebuild-<target>/ (build/ is left alone), through
//       scripts/build-native.js as `npx ecacface build-native` builds, with --prebuild.
//   node scripts/prebuild.js --from <addon.node>   package an existing build (made with --prebuild)
//   --prebuilds <dir>                        where to lay them out (default prebuilds/)
//   --out-root <dir>                         where the build-prebuild-<target> folders go (default: the checkout)
//   --incremental                            reuse those folders (the CI lanes; a release builds clean)
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { builtManifest, classify, debianOwner, dynamic, pipHint, prebuildTag, wheelOf, BASE } from './prebuild-lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

/**
 * npm runs a "prebuild" script before "build" (its pre-hook naming rule), with the same
 * environment as `npm run prebuild`: the npm process's own arguments tell them apart.
 */
function runAsHookOfBuild() {
  if (process.env.npm_lifecycle_event !== 'prebuild' || process.platform !== 'linux') return false;
  let pid = process.ppid;
  for (let depth = 0; depth < 4 && pid > 1; depth++) {
    try {
      // npm sets its process title ("npm run build"), which replaces its argv in /proc
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]+/).filter(Boolean);
      const at = argv.findIndex((a) => /npm-cli\.js$|(^|\/)npm$/.test(a));
      if (at >= 0) return argv.slice(at + 1).includes('build');
      pid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return false;
    }
  }
  return false;
}
if (runAsHookOfBuild()) {
  console.log('prebuild: not run before `npm run build` (npm runs "prebuild" as its pre-hook); the prebuilt addons: npm run prebuild');
  process.exit(0);
}
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const prebuilds = opt('--prebuilds') ?? join(root, 'prebuilds');
const WHEELS = ['2.13.0+cpu', '2.14.1'];

const loader = join(root, 'dist', 'lib', 'native-load.js');
if (!existsSync(loader)) {
  console.error('prebuild: dist/lib/native-load.js is missing: compile the TypeScript first (npm run build:ts)');
  process.exit(1);
}
const { findLibrary, librarySearchDirs, platformTag } = await import(pathToFileURL(loader).href);

/** Builds one target with --prebuild; returns the addon's path. */
function build(target) {
  const out = join(opt('--out-root') ?? root, `build-prebuild-${target}`);
  const env = { ...process.env };
  const flags = [...(args.includes('--incremental') ? [] : ['--rebuild']), '--prebuild', '--out', out];
  if (target === 'system') {
    flags.push('-D', 'ECF_SKIP_PYTHON_TORCH=ON'); // not a venv's torch, whatever python3 has
    delete env.LIBTORCH;
  } else {
    const venv = execFileSync('bash', [join(root, 'scripts', 'torch-venv.sh'), target], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    env.PATH = `${join(venv, 'bin')}:${env.PATH}`;
    env.VIRTUAL_ENV = venv;
    delete env.LIBTORCH;
  }
  console.log(`prebuild: building for ${target} in ${out}`);
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.js'), ...flags], { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) throw new Error(`prebuild: the build for ${target} failed`);
  return join(out, 'Release', 'ecacface.node');
}

/** Lays out one built addon as a prebuild; returns its folder. */
function pack(addon) {
  const built = builtManifest(addon);
  const { needed, runpath } = dynamic(addon);
  const foreign = runpath.filter((p) => p !== '$ORIGIN');
  if (foreign.length) {
    throw new Error(`prebuild: ${addon} has RUNPATH ${runpath.join(':')}: folders of this machine. Build it with --prebuild (npm run prebuild).`);
  }
  const search = librarySearchDirs();
  const { torchLib, wheelLibs, bundle, problems } = classify(needed, { torchLibDir: built.torchLibDir, search, findLibrary });
  if (problems.length) throw new Error(`prebuild: ${problems.join('; ')}`);
  const wheel = wheelOf(built.torchLibDir);
  const systemPackage = wheel ? undefined : debianOwner(join(findLibrary(torchLib, search) ?? built.torchLibDir, torchLib));

  const dest = join(prebuilds, platformTag(), prebuildTag(built));
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  copyFileSync(addon, join(dest, 'ecacface.node'));
  execFileSync('strip', ['--strip-unneeded', join(dest, 'ecacface.node')]);
  for (const lib of bundle) {
    const src = realpathSync(join(findLibrary(lib, search), lib));
    copyFileSync(src, join(dest, lib));
    chmodSync(join(dest, lib), 0o644);
    for (const dep of dynamic(join(dest, lib)).needed) {
      if (!BASE.test(dep) && !bundle.includes(dep)) console.warn(`prebuild: warning: bundled ${lib} needs ${dep}, which is neither bundled nor a base library`);
    }
  }
  let builtOn = process.platform;
  try {
    builtOn = /^PRETTY_NAME="?([^"\n]+)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? builtOn;
  } catch {}
  const manifest = {
    torchVersion: built.torchVersion,
    cuda: built.cuda,
    torchLib,
    bundled: bundle,
    ...(systemPackage ? { systemPackage } : {}),
    ...(wheel ? { wheelLibs, pip: pipHint(built.torchVersion, built.cuda) } : {}),
    napi: 8,
    builtOn,
    glibc: process.report?.getReport?.().header?.glibcVersionRuntime ?? null,
  };
  writeFileSync(join(dest, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  const from = systemPackage ? `the system package ${systemPackage}` : wheel ? `the PyTorch wheel (pip install ${manifest.pip}): ${wheelLibs.join(', ')}` : torchLib;
  console.log(`prebuild: ${join(dest, 'ecacface.node')} (libtorch ${manifest.torchVersion} ${manifest.cuda ? `CUDA ${manifest.cuda}` : 'CPU'}; bundled: ${bundle.join(', ') || 'none'}; libtorch from ${from})`);
  console.log(`prebuild: files: ${['ecacface.node', ...bundle, 'manifest.json'].map((f) => basename(f)).join(' ')}`);
  return dest;
}

const from = opt('--from');
if (from) {
  pack(from);
} else {
  const only = opt('--only')?.split(',').filter(Boolean);
  const targets = only ?? ['system', ...WHEELS];
  for (const t of targets) if (t !== 'system' && !WHEELS.includes(t)) console.warn(`prebuild: ${t} is not one of the wheels this package publishes for (${WHEELS.join(', ')}); building it anyway`);
  for (const t of targets) pack(build(t));
}
