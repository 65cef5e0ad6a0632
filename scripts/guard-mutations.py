#!/usr/bin/env python3
"""
Checks that each input guard of issues 17 and 26 (docs/security.md) has a test that fails without it.

For every guard below: turn the guard off in a scratch copy of HEAD (a detached git worktree in a
temporary folder, sharing this checkout's node_modules and native build), run the test that covers
it (it must fail), restore the guard and run it again (it must pass). Prints one line per guard and
exits 1 if a guard's test still passes with the guard off.

    python3 scripts/guard-mutations.py        # after `bash scripts/setup.sh`; ≈25 min on 2 cores
    python3 scripts/guard-mutations.py ZIP    # only the guards whose description matches a regex

Not here: the thread-count bound and the regular-file check. With them off, their tests do what the
guards prevent (spawn 10^4 OpenMP threads; block forever reading a FIFO), which takes the machine
down rather than failing.
"""
import os, re, shutil, subprocess, sys, tempfile

root = subprocess.run(['git', 'rev-parse', '--show-toplevel'], capture_output=True, text=True, check=True).stdout.strip()
if not os.path.exists(os.path.join(root, 'build', 'Release', 'ecacface.node')):
    sys.exit('guard-mutations: build/Release/ecacface.node is missing: run bash scripts/setup.sh first')

# (guard, file, the guard's line, the line with the guard off, test file, test name pattern)
GUARDS = [
 ('align/landmark keys leaving the folder (confinedPath)', 'lib/io/confined-path.ts',
  "export function confinedPath(root: string, name: string, source: string, what = 'file'): string {\n",
  "export function confinedPath(root: string, name: string, source: string, what = 'file'): string {\n  return resolve(root, name);\n",
  'test/security/paths.test.ts', '.'),
 ('model card checked against its weights', 'lib/eval/card-check.ts',
  "export function checkCardAgainstWeights(card: ModelCard, shapes: ReadonlyMap<string, readonly number[]>, source: string): void {\n",
  "export function checkCardAgainstWeights(card: ModelCard, shapes: ReadonlyMap<string, readonly number[]>, source: string): void {\n  if (card) return;\n",
  'test/security/checkpoints.test.ts', 'embeddingSize differs|names a stage'),
 ('.pth view beyond its storage', 'lib/io/pytorch.ts',
  "  if (numel > 0 && maxIndex >= storageNumel) {", "  if (numel < 0 && maxIndex >= storageNumel) {",
  'test/security/checkpoints.test.ts', 'past the end'),
 ('NaN/Inf guard on parameters and buffers before saves', 'lib/train/finite.ts',
  "    if (!ok) bad.push(name);", "    if (!ok && name === '') bad.push(name);",
  'test/train/guards.test.ts', 'Inf buffer'),
 ('checkpoint metadata validated', 'lib/train/checkpoint.ts',
  "  if (bad.length) throw new Error(`${path}: invalid checkpoint metadata", "  if (bad.length < 0) throw new Error(`${path}: invalid checkpoint metadata",
  'test/train/guards.test.ts', 'metadata is validated'),
 ('checkpoint position checked against the run', 'lib/train/checkpoint.ts',
  "  if (problems.length) throw new Error(`cannot resume from", "  if (problems.length < 0) throw new Error(`cannot resume from",
  'test/train/guards.test.ts', 'metadata is validated'),
 ('stale temp files removed', 'lib/io/atomic.ts',
  "  if (!existsSync(dir)) return [];\n", "  if (dir) return [];\n",
  'test/train/guards.test.ts', 'temp files'),
 ('RecordIO labels must be finite non-negative integers', 'lib/data/recordio.ts',
  "  if (v === undefined || !Number.isFinite(v) || v < 0 || !Number.isInteger(v)) {", "  if (v === undefined) {",
  'test/security/recordio.test.ts', 'label is refused'),
 ('class count far beyond the records needs confirmation', 'lib/data/recordio.ts',
  "    if (numClasses > sparseClassLimit(keys.length) && options.numClasses !== numClasses) {", "    if (numClasses < 0 && options.numClasses !== numClasses) {",
  'test/security/recordio.test.ts', 'confirm|refused the same way'),
 ('synth sizes bounded', 'lib/data/synth-files.ts',
  "    if (k !== 'images' && p[k] > max)", "    if (k !== 'images' && p[k] > max * 1e9)",
  'test/security/limits.test.ts', 'synth'),
 ('toArray bounded', 'lib/tensor/tensor.ts',
  "    if (numel > TO_ARRAY_MAX_ELEMENTS) {", "    if (numel > TO_ARRAY_MAX_ELEMENTS * 1e6) {",
  'test/security/limits.test.ts', 'toArray'),
 ('decoded pixels capped from the header', 'lib/data/codec.ts',
  "  return native.dataDecode(bytesArg(buffer, 'decode', 'buffer'), max);", "  return native.dataDecode(bytesArg(buffer, 'decode', 'buffer'), 2 ** 31 - 1);",
  'test/security/limits.test.ts', 'decode'),
 # issue 26
 ('safetensors header nesting depth', 'lib/io/safetensors.ts',
  "      if (++depth > MAX_SAFETENSORS_HEADER_DEPTH) {", "      if (++depth > MAX_SAFETENSORS_HEADER_DEPTH * 1e9) {",
  'test/security/headers.test.ts', 'nested brackets'),
 ('safetensors tensor count', 'lib/io/safetensors.ts',
  "    if (tensors.size === MAX_SAFETENSORS_TENSORS) throw", "    if (tensors.size === -1) throw",
  'test/security/headers.test.ts', 'tensors are refused'),
 ('.pth inflation capped for the whole archive', 'lib/io/zip.ts',
  "    if (inflated > cap) {", "    if (inflated < 0) {",
  'test/security/checkpoints.test.ts', 'many entries'),
 ('in-memory ZIP reads bounds-checked', 'lib/io/zip.ts',
  "      if (offset < 0 || offset + length > b.length) {", "      if (offset < 0) {",
  'test/security/checkpoints.test.ts', 'past the end gives'),
 ('model card size', 'lib/io/model-card.ts',
  "readRegularFile(path, 'model card', 'utf8', { maxBytes: MAX_CARD_BYTES })", "readRegularFile(path, 'model card', 'utf8')",
  'test/security/headers.test.ts', 'model.json'),
 ('symbolic links confined to the input folder', 'lib/io/folder-entries.ts',
  "    if (!this.#inside(real)) this.skipped.push(", "    if (real === '') this.skipped.push(",
  'test/security/symlinks.test.ts', 'openImageFolder|listPhotos'),
 ('output names never collide', 'lib/io/output-names.ts',
  "    if (this.#taken.has(OutputNames.#key(name))) {", "    if (name === '') {",
  'test/cli/inputs.test.ts', 'landmarks: the same'),
 ('decoded pixels in flight within the budget', 'lib/detect/pixel-budget.ts',
  "      if (!this.#closed && this.#used > 0 && this.#used + w.bytes > this.limit) return;", "      if (this.#closed && this.#used < 0) return;",
  'test/detect/stream.test.ts', 'within the budget'),
 ('a file too large for one read refused by name', 'lib/io/regular-file.ts',
  "  if (size > limit) throw new Error(", "  if (size < 0) throw new Error(",
  'test/security/limits.test.ts', 'too large for one read'),
 ('landmarks far outside the image', 'lib/data/align.ts',
  "    if (x < -width || x > 2 * width || y < -height || y > 2 * height) {", "    if (x !== x) {",
  'test/cli/inputs.test.ts', '1e308'),
 ('a run name is one folder inside outDir', 'lib/train/run-dir.ts',
  "  if (name === '' || name === '.' || name === '..' || /[/\\\\\\0]/.test(name)) {", "  if (name === '') {",
  'test/train/run-dir.test.ts', 'one folder'),
 ('--overwrite clears only a folder with the run marker', 'lib/train/run-dir.ts',
  "      if (!hasMarker(runDir)) {", "      if (!hasMarker(runDir) && runDir === '') {",
  'test/train/run-dir.test.ts', 'marker'),
 ('tensor checksums verified on read', 'lib/io/safetensors.ts',
  "  if (want !== undefined && sha256(bytes) !== want) {", "  if (want !== undefined && want === '') {",
  'test/io/safetensors.test.ts', 'checksums'),
 ('a checkpoint holding NaN/Inf is refused on resume', 'lib/train/checkpoint.ts',
  "  const bad = nonFiniteTensors(tensors);\n  if (bad.length) {", "  const bad = nonFiniteTensors(tensors);\n  if (bad.length < 0) {",
  'test/train/guards.test.ts', 'holding NaN'),
 ('launch workers bounded by the node', 'lib/distributed/launch.ts',
  "    if (nproc > limit) {", "    if (nproc > limit * 1e9) {",
  'test/distributed/launch.test.ts', 'bounds the workers'),
]

def tests_line(r):
    text = re.sub(r'\x1b\[[0-9;]*m', '', r.stdout + r.stderr)
    return next((l.strip() for l in text.splitlines() if l.strip().startswith('Tests ')), 'no test summary')

if len(sys.argv) > 1:
    GUARDS = [g for g in GUARDS if re.search(sys.argv[1], g[0])]
    if not GUARDS:
        sys.exit(f'guard-mutations: no guard matches {sys.argv[1]!r}')

scratch = tempfile.mkdtemp(prefix='ecf-guards-')
tree = os.path.join(scratch, 'tree')
subprocess.run(['git', '-C', root, 'worktree', 'add', '--quiet', '--detach', tree, 'HEAD'], check=True)
failed = 0
try:
    os.symlink(os.path.join(root, 'node_modules'), os.path.join(tree, 'node_modules'))
    shutil.copytree(os.path.join(root, 'build', 'Release'), os.path.join(tree, 'build', 'Release'))
    os.chdir(tree)
    for (what, f, on, off, test, pattern) in GUARDS:
        src = open(f).read()
        if src.count(on) != 1:
            print(f'{what}: the guard line is not found once in {f} (the code moved: update this script)')
            failed += 1
            continue
        runs = []
        for text in (src.replace(on, off), src):
            open(f, 'w').write(text)
            subprocess.run(['npx', 'tsc', '-p', 'tsconfig.json'], capture_output=True)
            runs.append(subprocess.run(['npx', 'vitest', 'run', test, '-t', pattern], capture_output=True, text=True, timeout=900))
        ok = runs[0].returncode != 0 and runs[1].returncode == 0
        failed += 0 if ok else 1
        print(f"{'ok  ' if ok else 'FAIL'} {what}: guard off → {tests_line(runs[0])}; guard on → {tests_line(runs[1])}", flush=True)
finally:
    os.chdir(root)
    subprocess.run(['git', 'worktree', 'remove', '--force', tree])
    shutil.rmtree(scratch, ignore_errors=True)
sys.exit(1 if failed else 0)
