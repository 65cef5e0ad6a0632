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
import { registerLaunch } from './commands/launch.js';
import { registerBuildNative } from './commands/build-native.js';
import { versionText } from './version.js';
import { registerAttention } from './commands/attention.js';
import { registerDetect } from './commands/detect.js';
import { registerExport } from './commands/export.js';

export function buildProgram(): Command {
  const program = new Command('ecacface')
    .description('Face recognition with ECACFace (ESCA attention + CurricularFace) on libtorch')
    .option('-V, --version', 'print the version and which native addon loads')
    .on('option:version', () => {
      console.log(versionText());
      process.exit(0);
    })
    .showHelpAfterError()
    // `ecacface launch … train -c x.yaml`: options after launch's command belong to that command.
    .enablePositionalOptions();
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
  registerLaunch(program);
  registerBuildNative(program);
  registerAttention(program);
  registerDetect(program);
  registerExport(program);
  return program;
}

// Errors are printed as their message, never a stack trace (set ECACFACE_DEBUG=1 for the stack);
// the exit status is 1. A native load error's message already names the next command to run.
buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    const text = err instanceof Error ? (process.env.ECACFACE_DEBUG ? (err.stack ?? err.message) : err.message) : String(err);
    process.stderr.write(text.startsWith('ecacface') ? `${text}\n` : `ecacface: ${text}\n`);
    process.exitCode = 1;
  });
