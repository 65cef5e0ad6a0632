/**
 * Every command docs/install.md gives is run by a test or a CI lane: each command line of its `sh`
 * blocks must match one entry below, which names the file that runs it and a piece of that file
 * that shows it does. A new command in the guide fails here until it has a runner.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** [the command (whole line, comments and spaces normalised), the file that runs it, what there shows it] */
const RUN_BY: [RegExp, string, string][] = [
  // the consumer project installs the packed tarball, offline (npm ci of a lock that names it)
  [/^npm install ecacface-torch$/, 'test/package/pack.test.ts', "ok('npm', ['ci', '--offline'"],
  [/^npx ecacface --version$/, 'test/package/pack.test.ts', "'ecacface'), '--version']"],
  // the venvs of both wheel lanes; lane.sh's use_venv is what `activate` does
  [/^python3 -m venv \.venv && \. \.venv\/bin\/activate$/, 'scripts/torch-venv.sh', '-m venv "$venv"'],
  [/^pip install torch==2\.13\.0\+cpu --extra-index-url https:\/\/download\.pytorch\.org\/whl\/cpu$/, 'scripts/torch-venv.sh', '"${torch_reqs[@]}" --extra-index-url "$index" "${common[@]}"'],
  // the same, then the wheel's requirements by name (the CI mirror lacks cuda-bindings)
  [/^pip install torch==2\.14\.1 --extra-index-url https:\/\/download\.pytorch\.org\/whl\/cu130$/, 'scripts/torch-venv.sh', '"${torch_reqs[@]}" --extra-index-url "$index" --no-deps'],
  [/^npx ecacface build-native$/, 'scripts/test-torch2.sh', 'npx --no-install ecacface build-native --incremental'],
  // the options' forwarding, with --dry-run (the lanes build for real)
  [/^npx ecacface build-native (--cuda-archs|--cxx-standard|-D|--incremental)/, 'test/package/build-native.test.ts', "'--cuda-archs', '80,90', '--cxx-standard', '20', '--cpu', '-D'"],
  [/^sudo apt-get install libtorch-dev libturbojpeg0-dev libpng-dev libgloo-dev cmake g\+\+$/, 'scripts/setup.sh', 'apt-get install -y -qq --no-install-recommends "${missing[@]}"'],
  [/^npm install-scripts approve ecacface-torch$/, 'test/package/pack.test.ts', "['install-scripts', 'approve', 'ecacface-torch'"],
  [/^npm rebuild ecacface-torch$/, 'test/package/pack.test.ts', "['rebuild', 'ecacface-torch'"],
  [/^npx ecacface init my-experiment$/, 'test/package/pack.test.ts', "[cli, 'init', exp]"],
  [/^cd my-experiment$/, 'test/package/pack.test.ts', '{ cwd: exp }'],
  // the consumer installs ts-node, tsx, typescript@5 and @types/node beside the package
  [/^npm install$/, 'test/package/pack.test.ts', "writeConsumer(app, root, tgz, ['ts-node', 'tsx', 'typescript', '@types/node'])"],
  [/^npm install --save-dev tsx$/, 'test/package/pack.test.ts', "writeConsumer(app, root, tgz, ['ts-node', 'tsx', 'typescript', '@types/node'])"],
  [/^npx tsx experiment\.ts$/, 'test/package/pack.test.ts', "for (const runner of ['ts-node', 'tsx'])"],
  [/^npx ts-node experiment\.ts$/, 'test/package/pack.test.ts', "for (const runner of ['ts-node', 'tsx'])"],
  [/^node --loader ts-node\/esm experiment\.ts$/, 'test/package/pack.test.ts', "['--loader', 'ts-node/esm', 'exp.ts'"],
  [/^npx tsx node_modules\/ecacface-torch\/examples\/(train-preset|evaluate|embed-compare)\.ts/, 'test/package/examples.test.ts', "join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'examples', script)"],
  // per target, by the wheel lanes (a release runs all of them)
  [/^npm run prebuild( -- --only [\w.+,]+)?$/, 'scripts/test-torch2.sh', 'npm run prebuild -- --only "$version"'],
  [/^npm run build$/, 'test/package/pack.test.ts', "ok('npm', ['run', 'build']"],
  [/^npm pack$/, 'test/package/pack.test.ts', "ok('npm', ['pack', '--dry-run', '--json'"],
  [/^npm test$/, '.ci/run', 'lane default npm test'],
  [/^npm run test:torch2$/, '.ci/run', 'lane torch2 npm run test:torch2'],
  [/^npm run check:cuda-link$/, '.ci/run', 'lane cuda-link npm run check:cuda-link'],
];

/** The command lines of a markdown file's sh blocks, without comments. */
function commands(markdown: string): string[] {
  const out: string[] = [];
  for (const block of markdown.matchAll(/^```(?:sh|bash)\n([\s\S]*?)^```/gm)) {
    for (const raw of block[1]!.split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').replace(/^#.*$/, '').replace(/\s+/g, ' ').trim();
      if (line) out.push(line);
    }
  }
  return out;
}

describe('docs/install.md', () => {
  const doc = readFileSync(join(root, 'docs', 'install.md'), 'utf8');
  const lines = commands(doc);

  it('has commands (its sh blocks are read)', () => {
    expect(lines.length).toBeGreaterThan(15);
  });

  it('runs every command it gives in a test or a CI lane', () => {
    const unrun = lines.filter((l) => !RUN_BY.some(([re]) => re.test(l)));
    expect(unrun, 'commands of docs/install.md that no test runs: add the runner to RUN_BY').toEqual([]);
    for (const [re, file, evidence] of RUN_BY) {
      if (!lines.some((l) => re.test(l))) continue;
      expect(readFileSync(join(root, file), 'utf8'), `${re} is run by ${file}`).toContain(evidence);
    }
  });

  it('names the environment variables the loader and the build read', () => {
    const load = readFileSync(join(root, 'lib', 'native-load.ts'), 'utf8') + readFileSync(join(root, 'CMakeLists.txt'), 'utf8');
    for (const v of ['LIBTORCH', 'ECACFACE_PYTHON', 'ECACFACE_BUILD_DIR', 'ECACFACE_NATIVE']) {
      expect(doc).toContain(`\`${v}=`);
      expect(load).toContain(v);
    }
  });
});
