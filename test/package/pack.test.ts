/**
 * The published package, as a user gets it: `npm pack`, then a consumer project (a default
 * `npm init -y` one, "type": "commonjs", with a "type": "module" sub-project) installs only the
 * tarball, offline (`npm ci --offline` from a lock cut from this repo's: see consumer.ts). The
 * prebuild is laid out as `npm run prebuild` makes it (scripts/prebuild.js, here from this
 * checkout's addon), approved and rebuilt with npm 11's commands, and a tiny embed runs through an
 * ESM import, a CommonJS require, ts-node (CJS, and its ESM loader) and tsx: the same embedding
 * each time, equal to this process's own.
 *
 * The prebuild is the one of the libtorch this process runs on: Debian's 1.13 (npm test), a
 * PyTorch 2.13 wheel in the active venv (npm run test:torch2), or the 2.14.1+cu130 wheel (npm run
 * check:cuda-link): the lanes pass their build made with --prebuild as ECF_PACK_ADDON. Also: a
 * fresh checkout packs dist/ (prepack), and `ecacface init` makes a project that runs with ts-node
 * and tsx.
 *
 * The source-build half (prebuilds removed, `npx ecacface build-native` inside node_modules,
 * minutes) runs only with ECF_SLOW_TESTS=1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInfo, data, exportModel, loadModel, manualSeed, models } from '../../lib/index.js';
import { pythonTorchDir } from '../../lib/native-load.js';
import { renderFace } from '../../lib/data/synth.js';
import { writeConsumer } from './consumer.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const slow = process.env.ECF_SLOW_TESTS === '1';

let work: string;
let app: string;
let pkg: string;
let packed: { files: { path: string }[] };
let expected: number[];

// A consumer's processes: this checkout's choice of addon (the lanes' ECACFACE_BUILD_DIR, an
// ECACFACE_NATIVE) is not theirs; the venv on PATH (python3's torch) is.
const consumerEnv: NodeJS.ProcessEnv = { ...process.env };
delete consumerEnv.ECACFACE_BUILD_DIR;
delete consumerEnv.ECACFACE_NATIVE;
/** Runs a command in the consumer; returns stdout, stderr and the exit status (never throws). */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? app, encoding: 'utf8', env: { ...consumerEnv, ...opts.env }, timeout: 600_000 });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status };
}
function ok(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const embedding = (stdout: string): number[] => JSON.parse(stdout.trim().split('\n').pop()!) as number[];
const node = process.execPath;
// The addon packaged as the prebuild: the dev build (its RUNPATH is $ORIGIN too), or the release
// build of `npm run prebuild` (ECF_PACK_ADDON=build-prebuild/Release/ecacface.node) to check that one.
const prebuildAddon = resolve(root, process.env.ECF_PACK_ADDON ?? 'build/Release/ecacface.node');

// The experiment every loader runs: load the model, embed one face, print 6 values.
const body = (imp: string) => `${imp}
const model = loadModel(process.argv[2]!);
model.embed([readFileSync(process.argv[3]!)]).then(([e]) => {
  console.log(JSON.stringify(Array.from(e!.slice(0, 6), (v) => Number(v.toFixed(5)))));
  model.dispose();
});
`;
// The README's training sample: type-checked (strict), never run.
const readmeSample = `
export async function readmeSample(): Promise<void> {
  const run = await train({
    ...preset('casia-ir50:ecacface'),
    data: { train: { type: 'recordio', path: 'faces_webface_112x112/train.rec' }, val: ['faces_webface_112x112/lfw.bin'] },
    device: 'cuda', precision: 'bf16',
  });
  const model = loadModel((run.best ?? run.last).modelDir, { device: 'cuda' });
  const [a, b] = await model.embed(['alice1.jpg', 'alice2.jpg']);
  console.log(await model.compare(a!, b!));
}
`;
const tsconfig = { compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, skipLibCheck: true, types: ['node'] } };

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ecacface-pack-'));
  // a tiny model and a face photo, and the embedding this process computes
  manualSeed(3);
  const b = models.backbone({ arch: 'mobilefacenet', attention: 'esca', embeddingSize: 32 });
  b.eval();
  exportModel(b, join(work, 'model'));
  b.dispose();
  writeFileSync(join(work, 'face.jpg'), data.encodeJpeg(renderFace(5, 'val', 0, 0, 112), 112, 112, 95));
  return loadModel(join(work, 'model'))
    .embed([join(work, 'face.jpg')])
    .then(([e]) => {
      expected = Array.from(e!.slice(0, 6), (v) => Number(v.toFixed(5)));

      // dist/ is built (scripts/setup.sh): no prepack here, which would rewrite it under the other
      // test files (the fresh-checkout test below runs it in a copy)
      packed = JSON.parse(ok('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root }))[0];
      const tgz = join(work, (packed as unknown as { filename: string }).filename);
      app = join(work, 'app');
      mkdirSync(app);
      writeConsumer(app, root, tgz, ['ts-node', 'tsx', 'typescript', '@types/node']);
      ok('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error']);
      pkg = join(app, 'node_modules', 'ecacface-torch');
    });
}, 400_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm package', () => {
  it('ships a clean tarball: LICENSE, the docs the README links, no source maps, the CommonJS build', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json', 'CMakeLists.txt']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    const js = files.filter((f) => f.endsWith('.js') && f.startsWith('dist/'));
    expect(js.filter((f) => readFileSync(join(pkg, f), 'utf8').includes('sourceMappingURL'))).toEqual([]);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(((?:docs|examples|bench)\/[^)#\s]*)/g)].map((m) => m[1]!.replace(/\/$/, ''));
    expect(links.length).toBeGreaterThan(3);
    for (const l of links) expect(files.some((f) => f === l || f.startsWith(l + '/')), l).toBe(true);
    const meta = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    expect(meta.license).toBe('MIT');
    expect(readFileSync(join(pkg, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).homepage).toMatch(/^https:\/\/www\.npmjs\.com\/package\/ecacface-torch/);
  });

  it('a fresh checkout packs a working package (prepack compiles dist/ first), and `npm run build` builds it', () => {
    // what `git clone` gives (tracked and new files, nothing ignored: no dist/), with the
    // checkout's node_modules (npm ci)
    const fresh = join(work, 'fresh');
    const list = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f && existsSync(join(root, f)));
    for (const f of list) {
      mkdirSync(dirname(join(fresh, f)), { recursive: true });
      cpSync(join(root, f), join(fresh, f));
    }
    symlinkSync(join(root, 'node_modules'), join(fresh, 'node_modules'));
    expect(existsSync(join(fresh, 'dist'))).toBe(false);
    const out = ok('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], { cwd: fresh });
    const files = (JSON.parse(out.slice(out.search(/^\[/m)))[0] as { files: { path: string }[] }).files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/cli/main.js', 'dist/cjs/index.js', 'cmake/EcfCuda.cmake', 'scripts/build-native.js']));

    // `npm run build`: the addon and dist/; npm's "prebuild" hook (the prebuilds script's name)
    // does not run the prebuilds. Against Debian's libtorch (not a venv's), whose objects the
    // default lane's build left in ccache, so that this costs a link where ccache is installed.
    const cache = spawnSync('ccache', ['--version']).status === 0 ? { CMAKE_CXX_COMPILER_LAUNCHER: 'ccache', CCACHE_BASEDIR: fresh } : {};
    const built = ok('npm', ['run', 'build'], { cwd: fresh, env: { ...cache, ECACFACE_PYTHON: 'false' } });
    expect(built).toMatch(/prebuild: not run before `npm run build`/);
    expect(JSON.parse(readFileSync(join(fresh, 'build', 'Release', 'ecacface.json'), 'utf8')).source).toBe('system');
    expect(existsSync(join(fresh, 'prebuilds'))).toBe(false);
  }, 1_800_000);

  it('without a prebuild or a build, says so and names the command, without a stack trace (exit 1)', () => {
    expect(existsSync(join(pkg, 'prebuilds'))).toBe(false);
    const r = run(node, [join(app, 'node_modules', '.bin', 'ecacface'), 'info']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no native addon for linux-x64/);
    expect(r.stderr).toMatch(/Next: npx ecacface build-native/);
    expect(r.stderr).toMatch(/npm install-scripts approve ecacface-torch && npm rebuild ecacface-torch/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const v = run(node, [join(app, 'node_modules', '.bin', 'ecacface'), '--version']);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^ecacface-torch 0\.\d+\.\d+\n/);
  });

  it("picks the prebuild of this libtorch (after npm 11's approval step) without compiling, loading the libraries bundled beside it", () => {
    ok(node, [join(root, 'scripts', 'prebuild.js'), '--from', prebuildAddon, '--prebuilds', join(pkg, 'prebuilds')]);
    const tags = readdirSync(join(pkg, 'prebuilds', 'linux-x64'));
    expect(tags).toHaveLength(1);
    expect(tags[0]).toMatch(/^torch-\d+\.\d+\.\d+-(cpu|cu\d+)$/);
    const dir = join(pkg, 'prebuilds', 'linux-x64', tags[0]!);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.torchLib).toMatch(/^libtorch_cpu\.so/);
    // the libtorch this process runs on (the lane's)
    expect(buildInfo().torchVersion.split('.').slice(0, 2)).toEqual(manifest.torchVersion.split('.').slice(0, 2));
    for (const lib of manifest.bundled as string[]) expect(existsSync(join(dir, lib))).toBe(true);
    // where it comes from, for the user: Debian's package, or the PyTorch wheel to pip install
    if (/\.so\.\d/.test(manifest.torchLib)) expect(manifest.systemPackage).toMatch(/^libtorch\d+\.\d+$/);
    else expect(manifest.pip).toMatch(new RegExp(`^torch==${manifest.torchVersion.replaceAll('.', '\\.')}(\\+cpu)? --extra-index-url https://download\\.pytorch\\.org/whl/(cpu|cu\\d+)$`));

    ok('npm', ['install-scripts', 'approve', 'ecacface-torch', '--loglevel=error']);
    const rebuilt = ok('npm', ['rebuild', 'ecacface-torch', '--foreground-scripts', '--offline', '--loglevel=error']);
    expect(rebuilt).toMatch(/using the prebuilt native addon .*prebuilds\/linux-x64\/torch-/);
    expect(rebuilt).not.toMatch(/building from source/);

    // the bundled libraries are the ones loaded (RUNPATH $ORIGIN), not the system's; a wheel's
    // libtorch is python3's; nothing was compiled (no build folder in the package)
    const maps = ok(node, ['-e', `require('ecacface-torch').zeros([1]); process.stdout.write(require('fs').readFileSync('/proc/self/maps','utf8'))`]);
    for (const lib of manifest.bundled as string[]) expect(maps).toContain(join(dir, lib));
    expect(maps).toContain(join(dir, 'ecacface.node'));
    if (manifest.pip) expect(maps).toContain(join(pythonTorchDir()!, 'lib', 'libtorch_cpu.so'));
    expect(existsSync(join(pkg, 'build'))).toBe(false);
  });

  it('embeds through an ESM import and a CommonJS require', () => {
    writeFileSync(join(app, 'esm.mjs'), body(`import { loadModel } from 'ecacface-torch';\nimport { readFileSync } from 'node:fs';`).replaceAll('!', ''));
    writeFileSync(join(app, 'cjs.cjs'), body(`const { loadModel } = require('ecacface-torch');\nconst { readFileSync } = require('node:fs');`).replaceAll('!', ''));
    const args = [join(work, 'model'), join(work, 'face.jpg')];
    expect(embedding(ok(node, ['esm.mjs', ...args]))).toEqual(expected);
    expect(embedding(ok(node, ['cjs.cjs', ...args]))).toEqual(expected);
  });

  it('`ecacface init <dir>` writes a project whose experiment runs with ts-node and with tsx', () => {
    const cli = join(app, 'node_modules', '.bin', 'ecacface');
    const exp = join(app, 'first-experiment');
    expect(ok(node, [cli, 'init', exp])).toMatch(/wrote .*first-experiment\/tsconfig\.json[\s\S]*npx tsx experiment\.ts/);
    const pj = JSON.parse(readFileSync(join(exp, 'package.json'), 'utf8'));
    expect(pj.dependencies['ecacface-torch']).toMatch(/^\^\d+\.\d+\.\d+$/);
    expect(pj.devDependencies.typescript).toMatch(/^\^?5\./); // ts-node needs TypeScript 5's compiler API
    expect(Object.keys(pj.devDependencies)).toEqual(expect.arrayContaining(['ts-node', 'tsx', '@types/node']));
    const again = run(node, [cli, 'init', exp]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already has package\.json, tsconfig\.json, experiment\.ts, \.gitignore: nothing was written \(--force replaces them\)/);
    // its tools from the consumer's node_modules (one folder up), as after `npm install` there
    const bin = (n: string) => join(app, 'node_modules', '.bin', n);
    for (const runner of ['ts-node', 'tsx']) {
      const outp = ok(bin(runner), ['experiment.ts'], { cwd: exp });
      expect(outp, runner).toMatch(/trained 4 steps/);
      expect(outp, runner).toMatch(/one person's two faces: cosine -?\d\.\d{3}, same: (true|false)/);
    }
  }, 900_000);

  it('runs a .ts experiment with ts-node and tsx, in a default project and a "type": "module" one; the README sample type-checks', () => {
    const ts = body(`import { loadModel, preset, train } from 'ecacface-torch';\nimport { readFileSync } from 'node:fs';`) + readmeSample;
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
    writeFileSync(join(app, 'exp.ts'), ts);
    const esm = join(app, 'esm-project');
    mkdirSync(esm);
    writeFileSync(join(esm, 'package.json'), JSON.stringify({ name: 'esm-project', private: true, type: 'module' }));
    writeFileSync(join(esm, 'tsconfig.json'), JSON.stringify(tsconfig));
    writeFileSync(join(esm, 'exp.ts'), ts);
    const bin = (n: string) => join(app, 'node_modules', '.bin', n);
    const args = [join(work, 'model'), join(work, 'face.jpg')];

    // ts-node type-checks (strict, tsconfig above) before it runs: the CommonJS typings in the
    // default project, the ESM ones in the module project, the README sample in both.
    // default project: ts-node and tsx load the package through require()
    expect(embedding(ok(bin('ts-node'), ['exp.ts', ...args]))).toEqual(expected);
    expect(embedding(ok(bin('tsx'), ['exp.ts', ...args]))).toEqual(expected);
    // "type": "module" project: ts-node's ESM loader, and tsx
    expect(embedding(ok(node, ['--loader', 'ts-node/esm', 'exp.ts', ...args], { cwd: esm }))).toEqual(expected);
    expect(embedding(ok(bin('tsx'), ['exp.ts', ...args], { cwd: esm }))).toEqual(expected);
  }, 600_000); // four processes that each load libtorch, two of them type-checking: minutes on a loaded 2-core machine

  it('refuses a prebuild made for another libtorch without loading it, and names what it found', () => {
    const dir = join(pkg, 'prebuilds', 'linux-x64');
    const [tag] = readdirSync(dir);
    const other = join(work, 'prebuilds-other');
    cpSync(join(dir, tag!), join(other, 'linux-x64', 'torch-9.9.0-cpu'), { recursive: true });
    const mf = join(other, 'linux-x64', 'torch-9.9.0-cpu', 'manifest.json');
    // a Debian-style CPU prebuild for a libtorch nobody has (whatever this lane's prebuild was)
    const manifest = JSON.parse(readFileSync(mf, 'utf8'));
    delete manifest.pip;
    delete manifest.wheelLibs;
    writeFileSync(mf, JSON.stringify({ ...manifest, torchVersion: '9.9.0', cuda: null, torchLib: 'libtorch_cpu.so.9.9', systemPackage: 'libtorch9.9' }));
    rmSync(join(pkg, 'prebuilds'), { recursive: true });
    cpSync(other, join(pkg, 'prebuilds'), { recursive: true });
    try {
      const r = run(node, [join(app, 'node_modules', '.bin', 'ecacface'), 'info']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/no prebuilt addon for linux-x64 fits the libtorch here; none is loaded:\n  torch-9\.9\.0-cpu: built for libtorch 9\.9\.0 \(CPU\) \(libtorch9\.9\), which is not here \(libtorch_cpu\.so\.9\.9 is not on the library path\)/);
      // names the libtorch found (Debian's; and python3's where a venv is active) and what to run
      expect(r.stderr).toMatch(/libtorch on this machine: .*libtorch 1\.13/);
      const py = pythonTorchDir();
      if (py) expect(r.stderr).toContain(`python3's torch (PyTorch wheel at ${py})`);
      expect(r.stderr).toMatch(/Or install a libtorch a prebuild is made for: sudo apt-get install libtorch9\.9/);
      expect(r.stderr).toMatch(/Next: npx ecacface build-native/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(join(pkg, 'prebuilds'), { recursive: true });
    }
  });

  it.runIf(slow)(
    'builds from source inside node_modules with `npx ecacface build-native` (no prebuild), then embeds (ECF_SLOW_TESTS=1)',
    () => {
      expect(existsSync(join(pkg, 'prebuilds'))).toBe(false);
      // a clean build keeps the rest of build/ (a checkout's build/.stamps)
      mkdirSync(join(pkg, 'build', '.stamps'), { recursive: true });
      writeFileSync(join(pkg, 'build', '.stamps', 'keep'), 'x');
      const t0 = performance.now();
      ok(join(app, 'node_modules', '.bin', 'ecacface'), ['build-native']);
      expect(existsSync(join(pkg, 'build', '.stamps', 'keep'))).toBe(true);
      const seconds = (performance.now() - t0) / 1000;
      console.log(`source build inside node_modules: ${seconds.toFixed(0)} s`);
      const built = JSON.parse(readFileSync(join(pkg, 'build', 'Release', 'ecacface.json'), 'utf8'));
      expect(built.torchVersion).toMatch(/^\d+\.\d+/);
      const args = [join(work, 'model'), join(work, 'face.jpg')];
      expect(embedding(ok(node, ['esm.mjs', ...args]))).toEqual(expected);
      expect(embedding(ok(node, ['cjs.cjs', ...args]))).toEqual(expected);
      expect(ok(node, [join(app, 'node_modules', '.bin', 'ecacface'), '--version'])).toMatch(/built from source, libtorch/);
    },
    1_800_000,
  );
});
