/**
 * Line charts without a browser: echarts 6 server-side SVG rendering, @resvg/resvg-js for the PNG.
 * Shared by evaluation (ROC curves) and training (loss and accuracy curves).
 *
 * The font is loaded explicitly from a file (DejaVu Sans by default, Debian's fonts-dejavu-core),
 * so the PNG looks the same on every machine and never depends on system font discovery.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Echarts from 'echarts';
import type * as ResvgJs from '@resvg/resvg-js';
import { checkInt } from '../check.js';

// echarts (≈1.5 s and most of the install) and resvg load on the first chart, not on `import`.
const lazyRequire = createRequire(import.meta.url);
let echartsModule: typeof Echarts | undefined;
let resvgModule: typeof ResvgJs | undefined;
const echartsLib = (): typeof Echarts => (echartsModule ??= lazyRequire('echarts') as typeof Echarts);
const resvgLib = (): typeof ResvgJs => (resvgModule ??= lazyRequire('@resvg/resvg-js') as typeof ResvgJs);

/** One line of a chart. */
export interface LineSeries {
  /** Legend name. */
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Draw as a step line: the value holds from each x until the next (`end`: until, i.e. drawn at the next x). */
  step?: 'start' | 'end' | 'middle';
  /** A shaded band around the line (e.g. mean ± std), at the same x as the line. */
  band?: { lower: ArrayLike<number>; upper: ArrayLike<number> };
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Pixels (default 800 × 560). */
  width?: number;
  height?: number;
  /** Logarithmic x axis (points with x ≤ 0 are left out: a log axis cannot show them). */
  logX?: boolean;
  /** Axis ranges (default: fitted to the data). */
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  /** PNG scale factor (default 1). */
  pixelRatio?: number;
  /** A TrueType font file (default DejaVu Sans, or the ECACFACE_FONT environment variable). */
  fontFile?: string;
}

/** A rendered chart. */
export interface RenderedChart {
  svg: string;
  png: Buffer;
}

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/Library/Fonts/DejaVuSans.ttf',
];

/** The font file used for chart text; throws a clear error when none is found. */
export function chartFont(fontFile?: string): string {
  const wanted = fontFile ?? process.env.ECACFACE_FONT;
  if (wanted !== undefined) {
    if (!existsSync(wanted)) throw new Error(`lineChart: font file '${wanted}' does not exist`);
    return wanted;
  }
  const found = FONT_CANDIDATES.find((f) => existsSync(f));
  if (found === undefined) {
    throw new Error(
      `lineChart: no font found (looked for ${FONT_CANDIDATES[0]} and others). Install DejaVu ` +
        `(Debian: apt-get install fonts-dejavu-core) or pass fontFile / set ECACFACE_FONT to a .ttf file.`,
    );
  }
  return found;
}

const FAMILY = 'DejaVu Sans';
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function points(s: LineSeries, logX: boolean, i: number): Array<[number, number]> {
  if (s.x.length !== s.y.length) {
    throw new RangeError(`lineChart: series[${i}] '${s.name}' has ${s.x.length} x values and ${s.y.length} y values`);
  }
  const out: Array<[number, number]> = [];
  for (let k = 0; k < s.x.length; k++) {
    const x = s.x[k]!;
    const y = s.y[k]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (logX && x <= 0) continue;
    out.push([x, y]);
  }
  return out;
}

/**
 * The shaded band of a series: an invisible line at the lower bound and, stacked on it, the band's
 * height as a filled area (echarts stacks series of one `stack` name point by point).
 */
function bandSeries(s: LineSeries, i: number, logX: boolean, color: string): object[] {
  const b = s.band!;
  if (b.lower.length !== s.x.length || b.upper.length !== s.x.length) {
    throw new RangeError(`lineChart: series[${i}] '${s.name}' band has ${b.lower.length}/${b.upper.length} values for ${s.x.length} x values`);
  }
  const lower: Array<[number, number]> = [];
  const height: Array<[number, number]> = [];
  for (let k = 0; k < s.x.length; k++) {
    const x = s.x[k]!;
    const lo = b.lower[k]!;
    const hi = b.upper[k]!;
    if (!Number.isFinite(x) || !Number.isFinite(lo) || !Number.isFinite(hi) || (logX && x <= 0)) continue;
    lower.push([x, lo]);
    height.push([x, hi - lo]);
  }
  const common = { type: 'line', showSymbol: false, silent: true, stack: `band-${i}`, lineStyle: { opacity: 0 }, color, z: 1, ...(s.step ? { step: s.step } : {}) };
  return [
    { ...common, name: `${s.name} band lower`, data: lower },
    { ...common, name: `${s.name} band`, data: height, areaStyle: { color, opacity: 0.18 } },
  ];
}

/** Renders the chart's SVG only (no PNG). */
export function lineChartSvg(options: LineChartOptions): string {
  const width = options.width ?? 800;
  const height = options.height ?? 560;
  checkInt('lineChart: width', width, 50);
  checkInt('lineChart: height', height, 50);
  if (!Array.isArray(options.series) || options.series.length === 0) throw new RangeError('lineChart: series must be a non-empty array');
  const logX = options.logX ?? false;
  const text = { fontFamily: FAMILY, color: '#222' };
  const chart = echartsLib().init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      color: PALETTE,
      textStyle: text,
      title: { text: options.title, left: 'center', top: 8, textStyle: { ...text, fontSize: 16 } },
      legend: {
        top: 36,
        itemGap: 24,
        textStyle: text,
        data: options.series.map((s) => s.name),
      },
      grid: { left: 80, right: 30, top: 80, bottom: 60 },
      xAxis: {
        type: logX ? 'log' : 'value',
        name: options.xLabel,
        nameLocation: 'middle',
        nameGap: 32,
        nameTextStyle: text,
        // a log axis's small values print as 1e-5, not 0.000009999999999999999
        axisLabel: logX ? { ...text, formatter: (v: number) => (v >= 0.001 ? String(Number(v.toPrecision(3))) : v.toExponential(0)) } : text,
        min: options.xMin,
        max: options.xMax,
        splitLine: { show: true, lineStyle: { color: '#e5e5e5' } },
      },
      yAxis: {
        type: 'value',
        name: options.yLabel,
        nameLocation: 'middle',
        nameGap: 52,
        nameTextStyle: text,
        axisLabel: text,
        min: options.yMin,
        max: options.yMax,
        scale: options.yMin === undefined && options.yMax === undefined,
        splitLine: { show: true, lineStyle: { color: '#e5e5e5' } },
      },
      series: options.series.flatMap((s, i) => {
        const color = PALETTE[i % PALETTE.length]!;
        const line = {
          type: 'line',
          name: s.name,
          data: points(s, logX, i),
          showSymbol: points(s, logX, i).length === 1,
          color,
          lineStyle: { width: 2, color },
          ...(s.step ? { step: s.step } : {}),
          z: 3,
        };
        return s.band ? [...bandSeries(s, i, logX, color), line] : [line];
      }),
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Renders an SVG to PNG with the chart font. */
export function svgToPng(svg: string, options: { fontFile?: string; pixelRatio?: number; width?: number } = {}): Buffer {
  const font = chartFont(options.fontFile);
  const ratio = options.pixelRatio ?? 1;
  const resvg = new (resvgLib().Resvg)(svg, {
    background: '#ffffff',
    fitTo: options.width !== undefined ? { mode: 'width', value: Math.round(options.width * ratio) } : { mode: 'zoom', value: ratio },
    font: { fontFiles: [font], loadSystemFonts: false, defaultFontFamily: FAMILY, sansSerifFamily: FAMILY },
  });
  return Buffer.from(resvg.render().asPng());
}

/**
 * A line chart as SVG text and PNG bytes.
 * @example
 * const { svg, png } = lineChart({ title: 'ROC', xLabel: 'FPR', yLabel: 'TPR', logX: true,
 *   series: [{ name: 'lfw', x: roc.fpr, y: roc.tpr }] });
 */
export function lineChart(options: LineChartOptions): RenderedChart {
  const svg = lineChartSvg(options);
  const png = svgToPng(svg, { fontFile: options.fontFile, pixelRatio: options.pixelRatio });
  return { svg, png };
}
