/** Options shared by the commands that load a model: --model, --arch/--attention/--spec (for .pt), --device. */
import { readRegularFile } from '../io/regular-file.js';
import { InvalidArgumentError, type Command } from 'commander';
import { loadModel, type FaceModel } from '../eval/model.js';
import { ARCHS } from '../models/archs.js';
import { backboneSpec } from '../models/presets.js';
import { parseBackboneSpec, type BackboneSpec } from '../models/spec.js';
import { ATTENTION_KINDS } from '../nn/attention/kinds.js';
import { checkDevice } from '../tensor/device.js';
import { checkIntText } from '../check.js';

export interface ModelOptions {
  model: string;
  arch?: string;
  attention?: string;
  spec?: string;
  device?: string;
  batchSize?: string;
  threads?: string;
}

/** Adds the model options to a command. */
export function addModelOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-m, --model <path>', 'model folder (model.json + model.safetensors, or a training export), model card .json, .safetensors with a card, or PyTorch .pt/.pth')
    .option('--arch <arch>', `for a PyTorch checkpoint: the preset it was trained with (${ARCHS.join(', ')})`)
    .option('--attention <kind>', `for a PyTorch checkpoint with --arch: attention in every block (${ATTENTION_KINDS.join(', ')})`, 'none')
    .option('--spec <file>', 'for a PyTorch checkpoint: a backbone spec JSON file (instead of --arch)')
    .option('--device <device>', "'cpu', 'cuda' or 'cuda:N'", 'cpu')
    .option('--batch-size <n>', 'images per forward pass', '64')
    .option('--threads <n>', 'image decoder threads', '2');
}

/** Commander's parser of an integer option (commander's error names the option and the text). */
export function integerArg(text: string): number {
  try {
    return checkIntText('the value', text);
  } catch {
    throw new InvalidArgumentError('expected an integer');
  }
}

/** A positive integer option, or an error naming it. */
export function intOption(v: string | undefined, name: string, dflt: number): number {
  return v === undefined ? dflt : checkIntText(name, v, 1);
}

/** `value` when it is one of `choices`; else an error naming the option and listing the choices. */
export function choiceOption<T extends string>(value: string, choices: readonly T[], name: string): T {
  const found = choices.find((c) => c === value);
  if (found === undefined) throw new Error(`${name} must be one of ${choices.join(', ')}, got '${value}'`);
  return found;
}

/** The backbone spec named by --spec or --arch/--attention (for a PyTorch checkpoint), if any. */
export function specFromOptions(o: Pick<ModelOptions, 'spec' | 'arch' | 'attention'>): BackboneSpec | undefined {
  if (o.spec) return parseBackboneSpec(JSON.parse(readRegularFile(o.spec, '--spec file', 'utf8')));
  if (o.arch) return backboneSpec({ arch: choiceOption(o.arch, ARCHS, '--arch'), attention: choiceOption(o.attention ?? 'none', ATTENTION_KINDS, '--attention') });
  return undefined;
}

/** Loads the model named by the options. */
export function modelFromOptions(o: ModelOptions): FaceModel {
  const device = checkDevice(o.device ?? 'cpu', '--device');
  return loadModel(o.model, { device, spec: specFromOptions(o) });
}
