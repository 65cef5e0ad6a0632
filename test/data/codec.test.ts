import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { data } from '../../lib/index.js';

const fx = (name: string): string => join(__dirname, '..', 'fixtures', 'data', name);

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('decode', () => {
  it.each([
    ['rgb420.jpg', 2],
    ['rgb444.jpg', 2],
    ['grayjpg.jpg', 2],
    ['progressive.jpg', 2],
    ['cmyk.jpg', 2], // Adobe-inverted CMYK (as Photoshop and PIL write it), converted as PIL does
    ['rgb.png', 0],
    ['graypng.png', 0],
    ['palette.png', 0],
  ])('decodes %s like PIL (max |diff| ≤ %i)', (name, tol) => {
    const img = data.decode(readFileSync(fx(`img_${name}`)));
    expect([img.height, img.width]).toEqual([12, 16]);
    const ref = readFileSync(fx(`img_${name.replace(/\.(jpg|png)$/, '')}.rgb`));
    expect(img.data.length).toBe(ref.length);
    expect(maxDiff(img.data, ref)).toBeLessThanOrEqual(tol);
  });

  it('a truncated JPEG decodes with a warning; an intact one without', () => {
    const px = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 37) & 255);
    const jpg = data.encodeJpeg(px, 64, 64, 90);
    expect(data.decode(jpg).warning).toBeUndefined();
    const sos = jpg.indexOf(Buffer.from([0xff, 0xda]));
    const cut = data.decode(jpg.subarray(0, sos + Math.floor((jpg.length - sos) / 2))); // half the scan
    expect([cut.width, cut.height]).toEqual([64, 64]);
    expect(cut.warning).toMatch(/^JPEG: Premature end of JPEG file/);
  });

  it('reads sizes without decoding', () => {
    expect(data.imageDimensions(readFileSync(fx('img_progressive.jpg')))).toEqual([12, 16]);
    expect(data.imageDimensions(readFileSync(fx('img_palette.png')))).toEqual([12, 16]);
    expect(data.imageDimensions(Buffer.from('nope'))).toBeUndefined();
  });

  it('fails clearly on bad data', () => {
    expect(() => data.decode(Buffer.from('hello world'))).toThrow(/decode: not a JPEG or PNG/);
    expect(() => data.decode(Buffer.alloc(0))).toThrow(/empty image data/);
    const jpg = readFileSync(fx('img_rgb420.jpg'));
    expect(() => data.decode(jpg.subarray(0, 40))).toThrow(/decode: JPEG/);
    const png = readFileSync(fx('img_rgb.png'));
    expect(() => data.decode(png.subarray(0, 60))).toThrow(/decode: PNG/);
    expect(() => data.decode('x' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('encodeJpeg / encodePng', () => {
  const ref = readFileSync(fx('img_rgb.rgb'));
  it('PNG round-trips losslessly', () => {
    const png = data.encodePng(ref, 16, 12);
    const back = data.decode(png);
    expect(Buffer.compare(Buffer.from(back.data), ref)).toBe(0);
  });
  it('JPEG round-trips within JPEG error and quality changes the size', () => {
    const hi = data.encodeJpeg(ref, 16, 12, 98);
    const lo = data.encodeJpeg(ref, 16, 12, 20);
    expect(lo.length).toBeLessThan(hi.length);
    const back = data.decode(hi);
    expect([back.width, back.height]).toEqual([16, 12]);
    let sum = 0;
    for (let i = 0; i < ref.length; i++) sum += Math.abs(back.data[i]! - ref[i]!);
    expect(sum / ref.length).toBeLessThan(6);
  });
  it('validates arguments', () => {
    expect(() => data.encodeJpeg(ref, 16, 11)).toThrow(/rgb has 576 bytes, expected width·height·3 = 528/);
    expect(() => data.encodeJpeg(ref, 16, 12, 0)).toThrow(/quality must be in 1\.\.100/);
    expect(() => data.encodePng(ref, 0, 12)).toThrow(/width and height/);
  });
});
