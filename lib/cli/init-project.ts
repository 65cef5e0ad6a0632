/**
 * `ecacface init <dir>`: a new TypeScript project that uses the package, ready for
 * `npm install` and then `npx tsx experiment.ts` or `npx ts-node experiment.ts`.
 *
 * A default `npm init -y` project ("type": "commonjs") with no tsconfig.json cannot run a `.ts`
 * file with ts-node (ERR_UNKNOWN_FILE_EXTENSION); with the tsconfig.json written here it can, and
 * tsx runs it either way. TypeScript is pinned to 5: 7.x (what `npm install typescript` now
 * gives) has no compiler API, which ts-node needs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/** The files `init` writes, relative to the project folder. */
export const INIT_FILES = ['package.json', 'tsconfig.json', 'experiment.ts', '.gitignore'] as const;

interface OwnPackage {
  name: string;
  version: string;
  devDependencies?: Record<string, string>;
}

/** An npm package name made from a folder name. */
function projectName(dir: string): string {
  const n = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '');
  return n || 'ecacface-experiment';
}

/** The contents of each file, for a project in `dir` depending on this package (`own`). */
export function initFiles(dir: string, own: OwnPackage): Record<(typeof INIT_FILES)[number], string> {
  const dev = own.devDependencies ?? {};
  const pin = (name: string, fallback: string) => dev[name] ?? fallback;
  const pkg = {
    name: projectName(dir),
    version: '0.1.0',
    private: true,
    type: 'commonjs',
    scripts: {
      start: 'tsx experiment.ts',
      'start:ts-node': 'ts-node experiment.ts',
      typecheck: 'tsc --noEmit',
    },
    dependencies: { [own.name]: `^${own.version}` },
    devDependencies: {
      '@types/node': pin('@types/node', '^20.0.0'),
      'ts-node': pin('ts-node', '^10.9.2'),
      tsx: pin('tsx', '^4.0.0'),
      // ts-node needs TypeScript's compiler API, which TypeScript 7 does not have
      typescript: /^\^?5\./.test(pin('typescript', '')) ? pin('typescript', '') : '^5.9.3',
    },
  };
  const tsconfig = {
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      strict: true,
      skipLibCheck: true,
      types: ['node'],
    },
  };
  const experiment = `/**
 * A first ECACFace experiment: a small synthetic face set, a few training steps of MobileFaceNet
 * with ESCA attention and the CurricularFace head, then two faces embedded and compared.
 *
 *   npx tsx experiment.ts          (or: npx ts-node experiment.ts, which also type-checks)
 *
 * From here: real data (data.train: { type: 'recordio', path: '…/train.rec' }), the paper's runs
 * (...preset('casia-ir50:ecacface')), a GPU (device: 'cuda', precision: 'bf16').
 */
import { data, generateSynthDataset, loadModel, train } from '${own.name}';

async function main(): Promise<void> {
  const synth = await generateSynthDataset({ identities: 8, imagesPerIdentity: 4, valIdentities: 4, valPairs: 20, imageSize: 32, outDir: 'synth' });
  const run = await train(
    {
      backbone: 'mobilefacenet',
      attention: 'esca',
      head: { type: 'curricularface', options: {} },
      imageSize: 32,
      embeddingSize: 64,
      data: { train: { type: 'recordio', path: synth.rec }, val: synth.bins.map((b) => b.path), workers: 0 },
      batchSize: 8, // 32 images: 4 batches, the 4 steps asked for (stepsPerEpoch caps at what the data gives)
      epochs: 1,
      milestones: [],
      stepsPerEpoch: 4,
      outDir: 'runs',
      name: 'first',
    },
    { overwrite: true },
  );
  console.log(\`trained \${run.steps} steps: \${run.runDir}\`);

  const model = loadModel(run.runDir);
  try {
    const pairs = data.readBin(synth.bins[0]!.path);
    const i = pairs.issame.indexOf(true);
    const [a, b] = await model.embed([pairs.images[2 * i]!, pairs.images[2 * i + 1]!]);
    const r = await model.compare(a!, b!);
    console.log(\`one person's two faces: cosine \${r.cosine.toFixed(3)}, same: \${r.same}\`);
  } finally {
    model.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
`;
  return {
    'package.json': JSON.stringify(pkg, null, 2) + '\n',
    'tsconfig.json': JSON.stringify(tsconfig, null, 2) + '\n',
    'experiment.ts': experiment,
    '.gitignore': 'node_modules/\nruns/\nsynth/\n',
  };
}

/**
 * Writes the project into `dir` (made if missing). Refuses, naming them, to overwrite files that
 * exist unless `force`. Returns the paths written.
 */
export function initProject(dir: string, packageRoot: string, force = false): string[] {
  const own = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as OwnPackage;
  const files = initFiles(dir, own);
  const existing = INIT_FILES.filter((f) => existsSync(join(dir, f)));
  if (existing.length && !force) {
    throw new Error(`init: ${resolve(dir)} already has ${existing.join(', ')}: nothing was written (--force replaces them)`);
  }
  mkdirSync(dir, { recursive: true });
  return INIT_FILES.map((f) => {
    const p = join(dir, f);
    writeFileSync(p, files[f]);
    return p;
  });
}
