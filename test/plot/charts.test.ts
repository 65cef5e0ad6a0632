import { describe, expect, it } from 'vitest';
import { lineChart, lineChartSvg, svgToPng } from '../../lib/plot/charts.js';

function pngSize(png: Buffer): { w: number; h: number } {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { w: png.readUInt32BE(16), h: png.readUInt32BE(20) };
}

describe('lineChart', () => {
  const base = {
    title: 'Loss curve',
    xLabel: 'step',
    yLabel: 'loss',
    series: [
      { name: 'train', x: [0, 1, 2, 3], y: [4, 3, 2.5, 2] },
      { name: 'val', x: [0, 1, 2, 3], y: [4.2, 3.4, 2.9, 2.8] },
    ],
  };

  it('renders SVG with the title, labels, legend and one path per series, and a PNG of the asked size', () => {
    const { svg, png } = lineChart({ ...base, width: 640, height: 400 });
    expect(svg.startsWith('<svg')).toBe(true);
    for (const s of ['Loss curve', 'step', 'loss', 'train', 'val']) expect(svg).toContain(`>${s}<`);
    expect(svg).toContain('DejaVu Sans');
    expect(pngSize(png)).toEqual({ w: 640, h: 400 });
    expect(pngSize(svgToPng(svg, { pixelRatio: 2 }))).toEqual({ w: 1280, h: 800 });
  });

  it('draws text with the loaded font (a PNG with a title differs from one without)', () => {
    const a = lineChart({ ...base, width: 300, height: 200 }).png;
    const b = lineChart({ ...base, title: '', width: 300, height: 200 }).png;
    expect(a.equals(b)).toBe(false);
  });

  it('log x axis drops x ≤ 0 points', () => {
    const svg = lineChartSvg({ ...base, logX: true, series: [{ name: 'roc', x: [0, 1e-4, 1e-2, 1], y: [0, 0.5, 0.9, 1] }] });
    expect(svg).toContain('>roc<');
  });

  it('rejects mismatched series and bad sizes with clear errors', () => {
    expect(() => lineChartSvg({ ...base, series: [{ name: 'bad', x: [1, 2], y: [1] }] })).toThrow(/series\[0\] 'bad' has 2 x values and 1 y values/);
    expect(() => lineChartSvg({ ...base, width: 10 })).toThrow(new RangeError('lineChart: width must be an integer ≥ 50, got 10'));
    expect(() => lineChart({ ...base, fontFile: '/nonexistent.ttf' })).toThrow(/font file '\/nonexistent.ttf' does not exist/);
  });
});
