/**
 * `ecacface train --config run.yaml [--preset name] [--set key=value …] [--resume [runDir] | --overwrite]`.
 * Writes report.md into the run directory; exits 130 when stopped by Ctrl-C (after saving a checkpoint).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { applyOverrides, mergeConfig, readConfigFile, type TrainConfigInput } from '../../train/config.js';
import { preset } from '../../train/presets.js';
import { formatValidation, progressReporter } from '../../train/progress.js';
import { writeReport } from '../../train/report.js';
import { train } from '../../train/train.js';

function collect(v: string, acc: string[]): string[] {
  return [...acc, v];
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a face-recognition model (SGD, multi-step LR, validation, checkpoints)')
    .option('-c, --config <file>', 'run configuration (JSON or YAML)')
    .option('-p, --preset <name>', "a paper recipe, e.g. 'casia-ir50' or 'ms1mv2-ir101:arcface' (the config and --set win)")
    .option('-s, --set <key=value>', 'override a config key (dotted keys reach into objects); repeatable', collect, [] as string[])
    .option('-r, --resume [runDir]', "continue a run from its checkpoint (runDir: use that run's saved config)")
    .option('--overwrite', 'replace an existing run of the same name (without it, or --resume, a non-empty run directory is refused)')
    .option('--plain', 'plain log lines even on a terminal')
    .action(async (o: { config?: string; preset?: string; set: string[]; resume?: string | boolean; overwrite?: boolean; plain?: boolean }) => {
      let raw: Record<string, unknown> = {};
      if (typeof o.resume === 'string') {
        const saved = join(o.resume, 'config.json');
        if (!existsSync(saved)) throw new Error(`--resume ${o.resume}: no config.json in that folder (is it a run directory?)`);
        raw = readConfigFile(saved);
      }
      if (o.preset) raw = mergeConfig(raw, preset(o.preset));
      if (o.config) raw = mergeConfig(raw, readConfigFile(o.config));
      raw = applyOverrides(raw, o.set);
      if (!o.config && !o.preset && typeof o.resume !== 'string') throw new Error('train: give --config <file>, --preset <name> or --resume <runDir>');
      const reporter = progressReporter({ plain: o.plain ?? false });
      try {
        // train() validates the merged configuration and reports every problem at once
        const r = await train(raw as TrainConfigInput, {
          onProgress: reporter.onProgress,
          ...(o.resume ? { resume: typeof o.resume === 'string' ? o.resume : true } : {}),
          ...(o.overwrite ? { overwrite: true } : {}),
        });
        reporter.stop();
        console.log(`${r.interrupted ? 'interrupted' : 'done'}: ${r.steps} steps in ${r.seconds.toFixed(0)} s, run directory ${r.runDir}`);
        if (r.rank !== 0) {
          // rank 0 validates, exports and writes the report; the other ranks only say that they ended
          if (r.interrupted) process.exitCode = 130;
          return;
        }
        const report = writeReport(r, r.config);
        if (r.validation.length) console.log(`last validation: ${formatValidation(r.validation)}`);
        if (r.best) console.log(`best (step ${r.best.step}): ${formatValidation(r.best.results)} → ${r.best.modelDir}`);
        if (r.plots.length) console.log(`plots: ${join(r.runDir, 'plots')}`);
        console.log(`report: ${report}; log: ${join(r.runDir, 'training.log')}; TensorBoard: tensorboard --logdir ${join(r.runDir, '..')}`);
        if (r.interrupted) {
          console.log(`resume with: ecacface train --resume ${r.runDir}`);
          process.exitCode = 130; // stopped by Ctrl-C (the shell's convention for SIGINT)
        }
      } finally {
        reporter.stop();
      }
    });
}
