/**
 * The picture of `ecacface attention`: the face, then per stage its spatial attention map
 * upsampled (bilinear) over the face in a fixed colour scale (turbo, σ from 0 to 1, so a saturated
 * gate looks saturated), and below the channel-attention profile (σ per channel, one line per
 * stage). Composed as SVG, rendered to PNG with the chart font.
 */
import { encodePng, type DecodedImage } from '../data/codec.js';
import type { FaceAttention } from '../eval/attention.js';
import { lineChart, svgToPng } from './charts.js';

/** Turbo colour map (Google's polynomial approximation), t in [0, 1] → RGB 0..255. */
export function turbo(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const r = 0.13572138 + x * (4.6153926 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))));
  const g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))));
  const b = 0.1066733 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))));
  const c = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));
  return [c(r), c(g), c(b)];
}

/**
 * Bilinear resampling of a one-channel map [h × w] to [H × W] (align_corners = false, as
 * `F.interpolate(mode='bilinear')`).
 */
export function upsampleBilinear(map: ArrayLike<number>, h: number, w: number, H: number, W: number): Float32Array {
  const out = new Float32Array(H * W);
  for (let Y = 0; Y < H; Y++) {
    const sy = Math.min(h - 1, Math.max(0, ((Y + 0.5) * h) / H - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(h - 1, y0 + 1);
    const fy = sy - y0;
    for (let X = 0; X < W; X++) {
      const sx = Math.min(w - 1, Math.max(0, ((X + 0.5) * w) / W - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(w - 1, x0 + 1);
      const fx = sx - x0;
      const top = map[y0 * w + x0]! * (1 - fx) + map[y0 * w + x1]! * fx;
      const bot = map[y1 * w + x0]! * (1 - fx) + map[y1 * w + x1]! * fx;
      out[Y * W + X] = top * (1 - fy) + bot * fy;
    }
  }
  return out;
}

/** The face resampled to `side × side` RGB (bilinear per channel); grey when unknown. */
function faceRgb(face: DecodedImage | null, side: number): Uint8Array {
  const out = new Uint8Array(side * side * 3).fill(128);
  if (!face) return out;
  for (let ch = 0; ch < 3; ch++) {
    const plane = new Float32Array(face.width * face.height);
    for (let i = 0; i < plane.length; i++) plane[i] = face.data[i * 3 + ch]!;
    const up = upsampleBilinear(plane, face.height, face.width, side, side);
    for (let i = 0; i < up.length; i++) out[i * 3 + ch] = Math.round(up[i]!);
  }
  return out;
}

/** The face with a map over it: 45 % face (in grey), 55 % colour of the map. */
export function overlay(face: Uint8Array, map: Float32Array, side: number): Uint8Array {
  const out = new Uint8Array(side * side * 3);
  for (let i = 0; i < side * side; i++) {
    const grey = 0.299 * face[i * 3]! + 0.587 * face[i * 3 + 1]! + 0.114 * face[i * 3 + 2]!;
    const [r, g, b] = turbo(map[i]!);
    out[i * 3] = Math.round(0.45 * grey + 0.55 * r);
    out[i * 3 + 1] = Math.round(0.45 * grey + 0.55 * g);
    out[i * 3 + 2] = Math.round(0.45 * grey + 0.55 * b);
  }
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const dataUri = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

/** Options of {@link renderAttention}. */
export interface AttentionPictureOptions {
  /** Title over the picture (e.g. the file name). */
  title?: string;
  /** Side of each face panel in pixels (default 192). */
  panel?: number;
  fontFile?: string;
}

/** Renders one face's attention picture as SVG and PNG. */
export function renderAttention(a: FaceAttention, options: AttentionPictureOptions = {}): { svg: string; png: Buffer } {
  const side = options.panel ?? 192;
  const gap = 16;
  const n = a.stages.length + 1;
  const width = Math.max(720, n * side + (n + 1) * gap + 70);
  const top = 56;
  const chartH = 300;
  const height = top + side + 48 + chartH + gap;
  const face = faceRgb(a.face, side);
  const parts: string[] = [];
  const text = (x: number, y: number, s: string, size = 13, anchor = 'middle') =>
    `<text x="${x}" y="${y}" font-family="DejaVu Sans" font-size="${size}" text-anchor="${anchor}" fill="#222">${esc(s)}</text>`;
  parts.push(text(width / 2, 24, options.title ? `ESCA attention: ${options.title}` : 'ESCA attention', 16));
  const panelX = (i: number) => gap + i * (side + gap);
  parts.push(`<image x="${panelX(0)}" y="${top}" width="${side}" height="${side}" href="${dataUri(encodePng(face, side, side))}"/>`);
  parts.push(text(panelX(0) + side / 2, top + side + 18, 'input'));
  a.stages.forEach((s, i) => {
    const up = upsampleBilinear(s.spatial, s.height, s.width, side, side);
    let mean = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of s.spatial) {
      mean += v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    mean /= s.spatial.length;
    const x = panelX(i + 1);
    parts.push(`<image x="${x}" y="${top}" width="${side}" height="${side}" href="${dataUri(encodePng(overlay(face, up, side), side, side))}"/>`);
    parts.push(text(x + side / 2, top + side + 18, `stage ${s.stage} (${s.height}×${s.width}): σ̄ ${mean.toFixed(2)}`));
    parts.push(text(x + side / 2, top + side + 34, `${s.block}: σ ${lo.toFixed(2)}–${hi.toFixed(2)}`, 11));
  });
  // colour bar 0..1
  const cbX = panelX(n) - gap + 14;
  const steps = 50;
  for (let k = 0; k < steps; k++) {
    const [r, g, b] = turbo(1 - (k + 0.5) / steps);
    parts.push(`<rect x="${cbX}" y="${(top + (k * side) / steps).toFixed(2)}" width="14" height="${(side / steps + 0.5).toFixed(2)}" fill="rgb(${r},${g},${b})"/>`);
  }
  parts.push(text(cbX + 18, top + 10, '1', 11, 'start'), text(cbX + 18, top + side, '0', 11, 'start'), text(cbX + 18, top + side / 2, 'σ', 11, 'start'));
  const chart = lineChart({
    title: 'Channel attention σ per channel (last ESCA block of each stage)',
    xLabel: 'channel',
    yLabel: 'σ',
    width: width - 2 * gap,
    height: chartH,
    yMin: 0,
    yMax: 1,
    series: a.stages.map((s) => ({ name: `stage ${s.stage}`, x: Array.from(s.channel, (_, k) => k), y: Array.from(s.channel) })),
    ...(options.fontFile ? { fontFile: options.fontFile } : {}),
  });
  parts.push(`<image x="${gap}" y="${top + side + 48}" width="${width - 2 * gap}" height="${chartH}" href="${dataUri(chart.png)}"/>`);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="100%" height="100%" fill="#ffffff"/>${parts.join('')}</svg>`;
  return { svg, png: svgToPng(svg, options.fontFile ? { fontFile: options.fontFile } : {}) };
}
