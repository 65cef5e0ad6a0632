#!/usr/bin/env node
// Makes the prebuilt addon that ships in the npm package, in the manner of onnxruntime-node's
// bundled libraries: prebuilds/<platform>-<arch>/torch-<version>-<cpu|cuXY>/ holds ecacface.node
// (RUNPATH $ORIGIN only), the libraries it links that a user cannot be expected to have (copied
// beside it under their SONAME), and manifest.json naming the libtorch it needs. libtorch itself is
// not bundled (hundreds of MB): it comes from the system package named in the manifest, and
// lib/native-load.ts loads the prebuild only where exactly that libtorch is present.
//
//   npm run prebuild                             clean build in build-prebuild/ (build/ is left alone)
//   node scripts/prebuild.js --from <addon.node> package an existing build (tests; RUNPATH must be $ORIGIN)
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const fromAt = args.indexOf('--from');
const outAt = args.indexOf('--prebuilds');
const prebuilds = outAt >= 0 ? args[outAt + 1] : join(root, 'prebuilds');

const loader = join(root, 'dist', 'lib', 'native-load.js');
if (!existsSync(loader)) {
  console.error('prebuild: dist/lib/native-load.js is missing: compile the TypeScript first (npm run build:ts)');
  process.exit(1);
}
const { findLibrary, librarySearchDirs, platformTag } = await import(pathToFileURL(loader).href);

let addon;
if (fromAt >= 0) {
  addon = args[fromAt + 1];
} else {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.js'), '--rebuild', '--out', 'build-prebuild', '--CDECF_PREBUILD=ON'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
  addon = join(root, 'build-prebuild', 'Release', 'ecacface.node');
}
const built = JSON.parse(readFileSync(join(dirname(addon), 'ecacface.json'), 'utf8'));

/** NEEDED and RUNPATH entries of an ELF file (readelf, from binutils). */
function dynamic(file) {
  const out = execFileSync('readelf', ['-d', file], { encoding: 'utf8' });
  const needed = [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const runpath = /\((?:RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[([^\]]*)\]/.exec(out)?.[1] ?? '';
  return { needed, runpath: runpath.split(':').filter(Boolean) };
}

// What every glibc Linux with a C++ toolchain's runtime has (libgomp comes with libtorch).
const BASE = /^(libc|libm|libdl|libpthread|librt|libgcc_s|libstdc\+\+|libgomp|libz|ld-linux[-\w]*)\.so/;
const TORCH = /^lib(torch|torch_cpu|torch_cuda|torch_global_deps|c10|c10_cuda)\.so/;

const { needed, runpath } = dynamic(addon);
const foreign = runpath.filter((p) => p !== '$ORIGIN');
if (foreign.length) {
  console.error(`prebuild: ${addon} has RUNPATH ${runpath.join(':')}: folders of this machine. Build it with -DECF_PREBUILD=ON (npm run prebuild).`);
  process.exit(1);
}
const search = librarySearchDirs();
const torchLib = needed.find((n) => /^libtorch_cpu\.so/.test(n)) ?? needed.find((n) => TORCH.test(n));
const bundle = needed.filter((n) => !BASE.test(n) && !TORCH.test(n));
for (const lib of bundle) {
  if (findLibrary(lib, search) === null) throw new Error(`prebuild: ${lib} (needed by the addon) is not on this machine's library path`);
}

let systemPackage;
try {
  const torchDir = findLibrary(torchLib, search);
  const owner = execFileSync('dpkg', ['-S', join(torchDir, torchLib)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  systemPackage = owner.split(':')[0].trim();
} catch {
  systemPackage = undefined; // not a Debian package: the manifest names only the library
}

const tag = `torch-${built.torchVersion}-${built.cuda ? `cu${String(built.cuda).replace('.', '')}` : 'cpu'}`;
const dest = join(prebuilds, platformTag(), tag);
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
  napi: 8,
  builtOn,
  glibc: process.report?.getReport?.().header?.glibcVersionRuntime ?? null,
};
writeFileSync(join(dest, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`prebuild: ${join(dest, 'ecacface.node')} (libtorch ${manifest.torchVersion} ${manifest.cuda ? `CUDA ${manifest.cuda}` : 'CPU'}; bundled: ${bundle.join(', ') || 'none'}; libtorch from ${systemPackage ?? torchLib})`);
console.log(`prebuild: files: ${['ecacface.node', ...bundle, 'manifest.json'].map((f) => basename(f)).join(' ')}`);
