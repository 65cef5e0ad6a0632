#!/usr/bin/env node
/**
 * The `ecacface` command line. Each command lives in `lib/cli/commands/<name>.ts` and only parses
 * arguments and prints: the work itself is in the library (train(), evaluate(), data.*).
 */
import { Command } from 'commander';
import { registerInfo } from './commands/info.js';
import { registerDemo } from './commands/demo.js';
// commands of later areas register here, one import and one call each
import { registerSummary } from './commands/summary.js';
import { registerPack } from './commands/pack.js';
import { registerEval } from './commands/eval.js';
import { registerEmbed } from './commands/embed.js';
import { registerCompare } from './commands/compare.js';
import { registerAlign } from './commands/align.js';
import { registerTrain } from './commands/train.js';
import { registerPlot } from './commands/plot.js';
import { registerSynth } from './commands/synth.js';
import { registerAttention } from './commands/attention.js';
import { registerDetect } from './commands/detect.js';
// (end command imports)

export function buildProgram(): Command {
  const program = new Command('ecacface')
    .description('Face recognition with ECACFace (ESCA attention + CurricularFace) on libtorch')
    .showHelpAfterError();
  registerInfo(program);
  registerDemo(program);
  registerSummary(program);
  registerPack(program);
  registerEval(program);
  registerEmbed(program);
  registerCompare(program);
  registerAlign(program);
  registerTrain(program);
  registerPlot(program);
  registerSynth(program);
  registerAttention(program);
  registerDetect(program);
  // (end command registration)
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`ecacface: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
