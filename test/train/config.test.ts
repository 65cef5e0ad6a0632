import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backboneSpec } from '../../lib/models/presets.js';
import { applyOverrides, ConfigError, mergeConfig, readConfigFile, validateConfig } from '../../lib/train/config.js';
import { preset, presetNames } from '../../lib/train/presets.js';

const dir = mkdtempSync(join(tmpdir(), 'ecf-config-'));
const rec = join(dir, 'train.rec');
writeFileSync(rec, '');
const bin = join(dir, 'lfw.bin');
writeFileSync(bin, '');

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('training config', () => {
  it('fills the recipe defaults', () => {
    const c = validateConfig({ backbone: 'ir50', data: { train: { type: 'recordio', path: rec }, val: [bin] } });
    expect(c.attention).toBe('esca');
    expect(c.head.type).toBe('curricularface');
    expect([c.batchSize, c.epochs, c.lr, c.momentum, c.weightDecay, c.warmup]).toEqual([512, 50, 0.1, 0.9, 5e-4, 0]);
    expect(c.milestones).toEqual([28, 38, 46]);
    expect(c.precision).toBe('fp32');
  });

  it('lists every problem at once: unknown keys, wrong types, missing files, impossible values', () => {
    const e = errorOf(() =>
      validateConfig({
        backbone: 'ir50',
        attention: 'transformer',
        batchSize: 'big',
        lr: -1,
        colour: 'red',
        data: { train: { type: 'recordio', path: rec, extra: 1 } },
      }),
    );
    const msg = e.message;
    expect(e.problems.length).toBe(5);
    expect(msg).toMatch(/attention: /);
    expect(msg).toMatch(/batchSize: /);
    expect(msg).toMatch(/lr: /);
    expect(msg).toMatch(/colour: unknown key/);
    expect(msg).toMatch(/data\.train\.extra: unknown key/);

    const e2 = errorOf(() =>
      validateConfig({
        backbone: 'mobilefacenet',
        epochs: 10,
        milestones: [4, 4, 12],
        precision: 'bf16',
        batchSize: 1,
        imageSize: 100,
        colour: 'red',
        data: { train: { type: 'recordio', path: join(dir, 'missing.rec') }, val: [bin, join(dir, 'nope.bin')] },
      }),
    );
    const m2 = e2.message;
    // the schedule's own wording (lib/train/schedule.ts milestoneProblems), not a second one
    expect(m2).toContain('milestones[1] must be greater than milestones[0] (4), got 4');
    expect(m2).toContain('milestones[2] must be an epoch in [1, 9] (epochs = 10), got 12');
    expect(m2).toMatch(/precision: 'bf16' needs a CUDA device/);
    expect(m2).toMatch(/batchSize: must be at least 2/);
    expect(m2).toMatch(/imageSize: MobileFaceNet needs a multiple of 16/);
    expect(m2).toMatch(/RecordIO file not found: .*missing\.rec/);
    expect(m2).toMatch(/data\.val\[1\]: \.bin file not found/);
    expect(m2).toMatch(/colour: unknown key/); // schema errors and the other checks in one message
    expect(e2.problems.length).toBe(8);
  });

  it('checks head.options against the head\'s own options and backboneSpec against the models\' schema, with the rest', () => {
    const e = errorOf(() =>
      validateConfig({
        backbone: 'mobilefacenet',
        imageSize: 112,
        lr: -1,
        head: { type: 'curricularface', options: { tMomentum: 0.99, alpha: 2, s: 'big' } },
        data: { train: { type: 'recordio', path: rec } },
      }),
    );
    expect(e.message).toMatch(/head\.options\.tMomentum: unknown option of the curricularface head \(it takes [^)]*tUpdate, alpha, tStatistic/);
    expect(e.message).toMatch(/head\.options\.alpha: /);
    expect(e.message).toMatch(/head\.options\.s: /);
    expect(e.message).toMatch(/lr: /);
    expect(e.problems.length).toBe(4);
    // the real options pass, and reach the head unchanged
    const ok = validateConfig({ backbone: 'mobilefacenet', head: { type: 'curricularface', options: { alpha: 0.9, tUpdate: 'paper' } }, data: { train: { type: 'recordio', path: rec } } });
    expect(ok.head.options).toEqual({ alpha: 0.9, tUpdate: 'paper' });
    // numClasses/embeddingSize come from the data and the backbone, not from head.options
    expect(errorOf(() => validateConfig({ backbone: 'ir50', head: { type: 'arcface', options: { embeddingSize: 128 } }, data: { train: { type: 'recordio', path: rec } } })).message).toMatch(
      /head\.options\.embeddingSize: unknown option of the arcface head/,
    );

    const spec = { ...backboneSpec({ arch: 'mobilefacenet', attention: 'esca', embeddingSize: 512 }) } as Record<string, unknown>;
    const stages = (spec.stages as Record<string, unknown>[]).map((st) => ({ ...st }));
    stages[1]!.stride = 2; // a residual stage with stride 2
    const e2 = errorOf(() =>
      validateConfig({ backbone: 'mobilefacenet', backboneSpec: { ...spec, stages, attention: 'transformer' }, epochs: 0, data: { train: { type: 'recordio', path: rec } } }),
    );
    expect(e2.message).toMatch(/backboneSpec\.attention: /);
    expect(e2.message).toMatch(/epochs: /);
    expect(errorOf(() => validateConfig({ backbone: 'mobilefacenet', backboneSpec: { ...spec, stages }, data: { train: { type: 'recordio', path: rec } } })).message).toMatch(
      /backboneSpec\.stages\[1\]\.stride: a residual stage must have stride 1, got 2/,
    );
  });

  it('applies --set overrides with dotted keys and loads YAML and JSON files', () => {
    const yml = join(dir, 'run.yaml');
    writeFileSync(yml, 'backbone: mobilefacenet\nimageSize: 112\ndata:\n  train: { type: recordio, path: train.rec }\n  val: [lfw.bin]\n');
    const raw = readConfigFile(yml);
    const over = applyOverrides(raw, ['lr=0.05', 'milestones=2,4', 'epochs=6', 'head.options.m=0.4', 'head.type=arcface', 'name=run-1']);
    const c = validateConfig(over);
    expect(c.lr).toBe(0.05);
    expect(c.milestones).toEqual([2, 4]);
    expect(c.head).toEqual({ type: 'arcface', options: { m: 0.4 } });
    expect(c.data.train.path).toBe(rec);
    expect(c.name).toBe('run-1');
    const js = join(dir, 'run.json');
    writeFileSync(js, JSON.stringify({ backbone: 'ir101', data: { train: { type: 'recordio', path: 'train.rec' } } }));
    expect(validateConfig(readConfigFile(js)).backbone).toBe('ir101');
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(() => readConfigFile(join(dir, 'bad.json'))).toThrow(/cannot parse/);
    expect(() => applyOverrides({}, ['novalue'])).toThrow(/expected key=value/);
    expect(() => applyOverrides({ lr: 1 }, ['lr.x=1'])).toThrow(/'lr' is not an object/);
  });

  it('has the paper presets with their schedules', () => {
    const names = presetNames();
    expect(names.length).toBe(4 * 12);
    const c = validateConfig(mergeConfig(preset('ms1mv2-ir101'), { data: { train: { type: 'recordio', path: rec } } }));
    expect([c.backbone, c.attention, c.head.type, c.epochs]).toEqual(['ir101', 'esca', 'curricularface', 24]);
    expect(c.milestones).toEqual([10, 18, 22]);
    const a = preset('casia-ir50:arcface');
    expect([a.attention, (a.head as { type: string }).type, a.epochs, a.milestones]).toEqual(['none', 'arcface', 50, [28, 38, 46]]);
    expect(preset('casia-mobilefacenet:sk').attention).toBe('sk');
    expect(() => preset('imagenet-ir50')).toThrow(/unknown preset/);
  });
});
