#!/usr/bin/env node
// Checks that the addon's Gloo process group, compiled against a PyTorch 2.x wheel with the
// system's gloo headers (Debian's libgloo-dev: the wheels ship none), agrees with the gloo that
// the wheel vendored, wherever our code depends on it.
//
// Our code (native/distributed/process_group.cc) allocates two c10d classes whose definitions
// name gloo types: c10d::ProcessGroupGloo and c10d::ProcessGroupGloo::Options. It holds gloo types
// only through pointers (std::shared_ptr<gloo::transport::Device>), and never constructs or calls
// into a gloo class itself. So the layouts that must agree are those two sizes (a gloo macro in
// ProcessGroupGloo.hpp could add members) and the offsets of the Options fields we write. This
// script:
//   1. compiles a probe with exactly the flags of the build's process_group.cc (its
//      compile_commands.json) that records sizeof/offsetof as the addon sees them;
//   2. reads the same numbers from the wheel's libtorch_cpu.so machine code: the operator new()
//      size before each constructor call in ProcessGroupGloo::merge/split and
//      Options::create_default, and the devices vector that create_default pushes into;
//   3. fails, naming the number, when any differs (or cannot be found).
// That the addon defines and uses no gloo symbol of its own (no gloo code from the system headers
// inside it) is test/distributed/gloo-abi.test.ts.
//
//   node scripts/check-gloo-abi.mjs --build <build folder>      (x86-64 Linux, binutils)
// Exit 0: checked (or nothing to check: libtorch 1.x, built against the system's gloo itself).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const at = args.indexOf('--build');
if (at < 0 || !args[at + 1]) {
  console.error('usage: node scripts/check-gloo-abi.mjs --build <build folder>');
  process.exit(2);
}
const build = resolve(args[at + 1]);
const say = (s) => console.log(`check-gloo-abi: ${s}`);

const manifest = JSON.parse(readFileSync(join(build, 'Release', 'ecacface.json'), 'utf8'));
if (Number(manifest.torchVersion.split('.')[0]) < 2) {
  say(`libtorch ${manifest.torchVersion}: built against the system's libgloo itself, nothing to compare`);
  process.exit(0);
}
const torchCpu = join(manifest.torchLibDir, 'libtorch_cpu.so');
if (!existsSync(torchCpu)) throw new Error(`${torchCpu} is missing (the build's libtorch is gone)`);
const commands = JSON.parse(readFileSync(join(build, 'compile_commands.json'), 'utf8'));
const pg = commands.find((c) => c.file.endsWith('native/distributed/process_group.cc'));
if (!pg) throw new Error(`no compile command for process_group.cc in ${build}/compile_commands.json`);
if (!/-DUSE_C10D_GLOO\b/.test(pg.command)) {
  say('this build has no Gloo backend (no gloo headers were found): nothing to compare');
  process.exit(0);
}

// -- 1. what the addon's compile sees -----------------------------------------------------------
const work = mkdtempSync(join(tmpdir(), 'ecf-gloo-abi-'));
let ours;
try {
  const probe = join(work, 'probe.cc');
  writeFileSync(
    probe,
    `#include <cstddef>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
using O = c10d::ProcessGroupGloo::Options;
extern "C" const unsigned long ecf_gloo_probe[] = {
  sizeof(c10d::ProcessGroupGloo), sizeof(O), offsetof(O, devices), offsetof(O, threads)};
`,
  );
  // the build's own command, with the probe for the source and assembly for the output
  const cmd = pg.command
    .replace(/\s-o\s+\S+/g, ' ')
    .replace(/\s-(MF|MT)\s+\S+/g, ' ')
    .replace(/\s-MD\b/g, ' ')
    .replace(/\s-c\s+\S*process_group\.cc\b/, ' ')
    .replace(/\s\S*process_group\.cc\b/, ' ');
  const asm = execFileSync('/bin/sh', ['-c', `${cmd} -Wno-invalid-offsetof -S -o - '${probe}'`], { cwd: pg.directory, encoding: 'utf8', maxBuffer: 1 << 26 });
  const block = asm.slice(asm.indexOf('ecf_gloo_probe:'));
  ours = [...block.matchAll(/^\s*\.quad\s+(\d+)/gm)].slice(0, 4).map((m) => Number(m[1]));
  if (ours.length !== 4) throw new Error('could not read the probe values from its assembly');
} finally {
  rmSync(work, { recursive: true, force: true });
}
const [pgSize, optSize, devicesOff, threadsOff] = ours;
say(`the addon's view (system gloo headers): sizeof(ProcessGroupGloo) ${pgSize}, sizeof(Options) ${optSize}, Options::devices at ${devicesOff}, Options::threads at ${threadsOff}`);

// -- 2. what the wheel's libtorch_cpu was compiled with -----------------------------------------
const syms = execFileSync('nm', ['-S', '--defined-only', torchCpu], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
/** Disassembly of the (non-.cold) function whose mangled name starts with `prefix`. */
function disassemble(prefix) {
  const line = syms.split('\n').find((l) => {
    const name = l.split(' ')[3] ?? '';
    return name.startsWith(prefix) && !name.endsWith('.cold');
  });
  if (!line) return null;
  const [addr, size] = line.split(' ');
  const start = parseInt(addr, 16);
  const stop = start + parseInt(size, 16);
  return execFileSync('objdump', ['-d', '--no-show-raw-insn', `--start-address=${start}`, `--stop-address=${stop}`, torchCpu], { encoding: 'utf8', maxBuffer: 1 << 26 });
}
/** operator new() sizes right before each call to a constructor whose symbol starts with `ctor`. */
function allocSizes(dis, ctor) {
  const lines = dis.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].includes(`<${ctor}`)) continue;
    let j = i;
    while (j > 0 && !/call.*<_Znwm@plt>/.test(lines[j])) j--;
    for (let k = j; k > j - 12 && k > 0; k--) {
      const m = /mov\s+\$0x([0-9a-f]+),%edi/.exec(lines[k]);
      if (m) {
        out.push(parseInt(m[1], 16));
        break;
      }
    }
  }
  return out;
}

const pgCtor = '_ZN4c10d16ProcessGroupGlooC';
const optCtor = '_ZN4c10d16ProcessGroupGloo7OptionsC';
const theirsPg = [
  ...allocSizes(disassemble('_ZN4c10d16ProcessGroupGloo5mergeE') ?? '', pgCtor),
  ...allocSizes(disassemble('_ZN4c10d16ProcessGroupGloo5splitE') ?? '', pgCtor),
];
const createDefault = disassemble('_ZN4c10d16ProcessGroupGloo7Options14create_defaultE') ?? '';
const theirsOpt = allocSizes(createDefault, optCtor);
// create_default pushes the default device into `devices`: push_back compares the vector's
// end (offset + 8) with its capacity end (offset + 16), read from the new Options.
const afterDevice = createDefault.slice(createDefault.indexOf('createDefaultDevice'));
const pair = /mov\s+0x([0-9a-f]+)\((%r\w+)\),%r\w+\s*\n[^\n]*mov\s+0x([0-9a-f]+)\(\2\),%r\w+/.exec(afterDevice);
const theirsDevices = pair && parseInt(pair[3], 16) - parseInt(pair[1], 16) === 8 ? parseInt(pair[1], 16) - 8 : null;
say(`the wheel's libtorch_cpu (${torchCpu}): sizeof(ProcessGroupGloo) ${theirsPg.join(', ') || '?'}, sizeof(Options) ${theirsOpt.join(', ') || '?'}, Options::devices at ${theirsDevices ?? '?'}`);

const problems = [];
if (!theirsPg.length) problems.push("no ProcessGroupGloo construction found in libtorch_cpu's merge/split");
else if (theirsPg.some((n) => n !== pgSize)) problems.push(`sizeof(c10d::ProcessGroupGloo): addon ${pgSize}, libtorch ${theirsPg.join('/')}`);
if (!theirsOpt.length) problems.push("no Options construction found in libtorch_cpu's Options::create_default");
else if (theirsOpt.some((n) => n !== optSize)) problems.push(`sizeof(c10d::ProcessGroupGloo::Options): addon ${optSize}, libtorch ${theirsOpt.join('/')}`);
if (theirsDevices === null) problems.push("Options::devices not found in libtorch_cpu's Options::create_default");
else if (theirsDevices !== devicesOff) problems.push(`offsetof(Options, devices): addon ${devicesOff}, libtorch ${theirsDevices}`);
// threads is the last member: it ends where the (8-aligned) object does
if (threadsOff + 4 > optSize || optSize - (threadsOff + 4) >= 8) problems.push(`Options::threads at ${threadsOff} is not the last member of a ${optSize}-byte Options`);
if (problems.length) {
  console.error(`check-gloo-abi: the system's gloo headers do not match the gloo in ${torchCpu}:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
say('ok: the layouts the addon uses are the ones the wheel was built with');
