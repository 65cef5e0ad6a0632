// --arch and --attention of the model-loading commands are checked against the one list of each
// (models/archs.ts, nn/attention/kinds.ts) before any file is read.
import { describe, expect, it } from 'vitest';
import { detectOptionsFrom } from '../../lib/cli/commands/detect.js';
import { choiceOption, modelFromOptions } from '../../lib/cli/model-option.js';
import { ARCHS } from '../../lib/models/archs.js';
import { ATTENTION_KINDS } from '../../lib/nn/attention/kinds.js';

describe('model options', () => {
  it('choiceOption returns a listed value and names the option and every choice otherwise', () => {
    expect(choiceOption('b', ['a', 'b'], '--x')).toBe('b');
    expect(() => choiceOption('B', ['a', 'b'], '--x')).toThrow("--x must be one of a, b, got 'B'");
  });

  it('--min-face and --select of the detecting commands: defaults, an integer ≥ 12, one of the selections', () => {
    expect(detectOptionsFrom({}, 'largest')).toEqual({ minFaceSize: 20, select: 'largest' });
    expect(detectOptionsFrom({ minFace: '40', select: 'all' }, 'largest')).toEqual({ minFaceSize: 40, select: 'all' });
    expect(() => detectOptionsFrom({ minFace: '8' }, 'largest')).toThrow("--min-face (pixels) must be an integer ≥ 12, got '8'");
    expect(() => detectOptionsFrom({ minFace: '20.5' }, 'largest')).toThrow(/got '20\.5'/);
    expect(() => detectOptionsFrom({ select: 'biggest' }, 'largest')).toThrow("--select must be one of all, largest, central, best, got 'biggest'");
  });

  it('an unknown --arch or --attention is an error listing the choices, before the model file is read', () => {
    const missing = '/nonexistent/model.pt';
    expect(() => modelFromOptions({ model: missing, arch: 'ir51' })).toThrow(`--arch must be one of ${ARCHS.join(', ')}, got 'ir51'`);
    expect(() => modelFromOptions({ model: missing, arch: 'ir50', attention: 'esca2' })).toThrow(
      `--attention must be one of ${ATTENTION_KINDS.join(', ')}, got 'esca2'`,
    );
    // valid choices get as far as the file
    expect(() => modelFromOptions({ model: missing, arch: 'ir50', attention: 'esca' })).toThrow(/nonexistent/);
  });
});
