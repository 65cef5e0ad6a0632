/**
 * TensorBoard logging of a run (`runDir/tensorboard/events.out.tfevents.*`, lib/io/tfevents.ts):
 *
 * | tag | when |
 * |---|---|
 * | `train/loss`, `train/lr`, `train/t`, `train/positive_cosine`, `train/hard_fraction`, `train/images_per_sec`, `train/data_wait` | every logging step |
 * | `esca/<block>/{channel,spatial}_{mean,below_0.01,above_0.99}` | logging steps with gate statistics |
 * | `val/<set>/accuracy`, `val/<set>/std` | every validation |
 *
 * A resumed run starts a new event file with a SessionLog START at its first step, so TensorBoard
 * drops what the earlier files logged from that step on (the steps trained again).
 * `tensorboard --logdir runs` shows all runs side by side.
 */
import { join } from 'node:path';
import { EventFileWriter, type ScalarValue } from '../io/tfevents.js';
import type { BlockGateStats } from './gate-stats.js';
import type { ProgressEvent } from './types.js';

/** The scalars of one block's gate statistics. */
export function gateScalars(stats: readonly BlockGateStats[]): ScalarValue[] {
  const out: ScalarValue[] = [];
  for (const s of stats) {
    for (const kind of ['channel', 'spatial'] as const) {
      const g = s[kind];
      out.push(
        { tag: `esca/${s.block}/${kind}_mean`, value: g.mean },
        { tag: `esca/${s.block}/${kind}_below_0.01`, value: g.low },
        { tag: `esca/${s.block}/${kind}_above_0.99`, value: g.high },
      );
    }
  }
  return out;
}

/** Writes a run's progress events as TensorBoard scalars. */
export class TensorBoardLogger {
  private writer: EventFileWriter | null = null;

  /** @param dir the event-file folder (the trainer uses `runDir/tensorboard`) */
  constructor(readonly dir: string) {}

  /** The event file (created at the run's start event). */
  get path(): string | null {
    return this.writer?.path ?? null;
  }

  private file(): EventFileWriter {
    this.writer ??= new EventFileWriter(this.dir);
    return this.writer;
  }

  onProgress = (e: ProgressEvent): void => {
    switch (e.kind) {
      case 'start': {
        const w = this.file();
        if (e.resumed) w.write({ wallTime: Date.now() / 1000, step: e.startStep + 1, sessionStart: true });
        break;
      }
      case 'step': {
        const gates = e.gates ?? [];
        this.file().scalars(e.step, [
          { tag: 'train/loss', value: e.loss },
          { tag: 'train/lr', value: e.lr },
          { tag: 'train/t', value: e.t },
          { tag: 'train/positive_cosine', value: e.positiveCosine },
          { tag: 'train/hard_fraction', value: e.hardFraction },
          { tag: 'train/images_per_sec', value: e.imagesPerSec },
          { tag: 'train/data_wait', value: e.dataWait },
          ...gateScalars(gates),
        ]);
        break;
      }
      case 'validation':
        this.file().scalars(
          e.step,
          e.results.flatMap((r) => [
            { tag: `val/${r.name}/accuracy`, value: r.accuracy },
            { tag: `val/${r.name}/std`, value: r.std },
          ]),
        );
        break;
      default:
        break;
    }
  };

  close(): void {
    this.writer?.close();
    this.writer = null;
  }
}

/** The event-file folder of a run directory. */
export function tensorboardDir(runDir: string): string {
  return join(runDir, 'tensorboard');
}
