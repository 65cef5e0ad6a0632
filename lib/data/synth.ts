/**
 * A synthetic face-identity generator: every identity is a distinct face-like layout drawn from
 * its own seed (face oval, hair, eyes, brows, nose, mouth, skin/hair/iris tones, proportions,
 * optional beard/glasses/mole); every sample varies pose (rotation, shift, scale, yaw-like
 * squeeze), light, blur, noise, background and occlusion, scaled by a per-sample difficulty so
 * that easy and hard samples both exist. Deterministic from the seed; rendered in TypeScript on
 * Float32 buffers (a template per identity, then one warp per sample).
 *
 * The `wild` variant adds, from a separate random stream (so the plain images stay exactly as they
 * are), what real face crops have and the plain set lacks: cluttered backgrounds, frequent and
 * textured occluders (skin-toned hands among them), landmark-style misalignment and stronger
 * yaw-like pose with self-shadowing; see {@link drawWild}.
 *
 * Writing the images in the real formats (RecordIO + .bin) is `synth-files.ts`.
 */

/** Small fast deterministic PRNG (mulberry32) with normal draws. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Mixes integers into a 32-bit seed (splitmix-like). */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

type RGB = [number, number, number];

/** The layout of one identity (all coordinates in the face frame u, v ∈ [−1, 1], v down). */
export interface Identity {
  skin: RGB;
  hair: RGB;
  iris: RGB;
  lips: RGB;
  face: { cy: number; rx: number; ry: number };
  hairTop: number;
  hairSide: number;
  fringe: number;
  eye: { y: number; sep: number; rx: number; ry: number; tilt: number };
  brow: { dy: number; len: number; thick: number; tilt: number };
  nose: { len: number; width: number };
  mouth: { y: number; width: number; thick: number; smile: number };
  beard: number;
  glasses: boolean;
  mole: [number, number] | null;
}

/** Draws the identity layout of `seed`. */
export function makeIdentity(seed: number): Identity {
  const r = new Rng(seed);
  const tone = r.uniform(0.25, 0.95);
  const skin: RGB = [tone * r.uniform(0.9, 1.05), tone * r.uniform(0.68, 0.82), tone * r.uniform(0.5, 0.7)];
  const hv = r.uniform(0.05, 0.75);
  const hair: RGB = [hv * r.uniform(0.8, 1.2), hv * r.uniform(0.6, 0.9), hv * r.uniform(0.35, 0.7)];
  const iris: RGB = r.chance(0.5) ? [0.3, 0.2, 0.1].map((c) => c * r.uniform(0.6, 1.4)) as RGB : [r.uniform(0.1, 0.4), r.uniform(0.3, 0.6), r.uniform(0.4, 0.8)];
  const lips: RGB = [Math.min(1, skin[0] * r.uniform(0.9, 1.1) + 0.1), skin[1] * r.uniform(0.5, 0.75), skin[2] * r.uniform(0.5, 0.8)];
  return {
    skin,
    hair,
    iris,
    lips,
    face: { cy: r.uniform(0.02, 0.1), rx: r.uniform(0.5, 0.66), ry: r.uniform(0.66, 0.82) },
    hairTop: r.uniform(-0.75, -0.35),
    hairSide: r.uniform(0, 1),
    fringe: r.chance(0.35) ? r.uniform(0.05, 0.25) : 0,
    eye: { y: r.uniform(-0.2, -0.06), sep: r.uniform(0.2, 0.34), rx: r.uniform(0.08, 0.13), ry: r.uniform(0.035, 0.065), tilt: r.uniform(-0.25, 0.25) },
    brow: { dy: r.uniform(0.08, 0.16), len: r.uniform(0.1, 0.17), thick: r.uniform(0.015, 0.045), tilt: r.uniform(-0.35, 0.35) },
    nose: { len: r.uniform(0.16, 0.3), width: r.uniform(0.05, 0.11) },
    mouth: { y: r.uniform(0.3, 0.46), width: r.uniform(0.14, 0.26), thick: r.uniform(0.02, 0.05), smile: r.uniform(-0.08, 0.12) },
    beard: r.chance(0.25) ? r.uniform(0.3, 0.8) : 0,
    glasses: r.chance(0.2),
    mole: r.chance(0.3) ? [r.uniform(-0.4, 0.4), r.uniform(-0.1, 0.5)] : null,
  };
}

/** An RGBA template in the face frame, `size × size`, premultiplied-free (alpha 0 = background). */
export interface Template {
  size: number;
  rgba: Float32Array;
}

function ell(u: number, v: number, cx: number, cy: number, rx: number, ry: number, rot = 0): number {
  const du = u - cx;
  const dv = v - cy;
  const c = Math.cos(rot);
  const s = Math.sin(rot);
  const a = (du * c + dv * s) / rx;
  const b = (-du * s + dv * c) / ry;
  return a * a + b * b; // < 1 inside
}

/** Renders the identity's template (the face frame spans the image; the sample warp frames it). */
export function renderTemplate(id: Identity, size: number): Template {
  const rgba = new Float32Array(size * size * 4);
  const f = id.face;
  for (let y = 0; y < size; y++) {
    const v = ((y + 0.5) / size) * 2.4 - 1.2;
    for (let x = 0; x < size; x++) {
      const u = ((x + 0.5) / size) * 2.4 - 1.2;
      let col: RGB | null = null;
      // hair behind the head
      if (ell(u, v, 0, f.cy - 0.08, f.rx + 0.1, f.ry + 0.1) < 1 && (v < f.cy + id.hairSide * 0.5 - 0.1)) col = id.hair;
      // neck
      if (Math.abs(u) < f.rx * 0.55 && v > f.cy + f.ry * 0.6) col = [id.skin[0] * 0.85, id.skin[1] * 0.85, id.skin[2] * 0.85];
      // ears
      if (ell(u, v, -f.rx, id.eye.y + 0.08, 0.07, 0.14) < 1 || ell(u, v, f.rx, id.eye.y + 0.08, 0.07, 0.14) < 1) col = [id.skin[0] * 0.93, id.skin[1] * 0.9, id.skin[2] * 0.9];
      const inFace = ell(u, v, 0, f.cy, f.rx, f.ry);
      if (inFace < 1) {
        // shading towards the rim
        const shade = 1 - 0.18 * inFace;
        col = [id.skin[0] * shade, id.skin[1] * shade, id.skin[2] * shade];
        // hairline and fringe
        if (v < id.hairTop + 0.12 * u * u + id.fringe * (1 - Math.abs(u) * 2)) col = id.hair;
        // beard
        if (id.beard > 0 && v > id.mouth.y - 0.12 && inFace > 0.35) {
          const k = id.beard;
          col = [col[0] * (1 - k) + id.hair[0] * k, col[1] * (1 - k) + id.hair[1] * k, col[2] * (1 - k) + id.hair[2] * k];
        }
        for (const side of [-1, 1]) {
          const ex = side * id.eye.sep;
          const tilt = side * id.eye.tilt;
          // brow
          if (ell(u, v, ex, id.eye.y - id.brow.dy, id.brow.len, id.brow.thick, side * id.brow.tilt) < 1) col = [id.hair[0] * 0.8, id.hair[1] * 0.8, id.hair[2] * 0.8];
          // eye: white, iris, pupil
          const e = ell(u, v, ex, id.eye.y, id.eye.rx, id.eye.ry, tilt);
          if (e < 1) {
            col = [0.92, 0.9, 0.86];
            const ir = ell(u, v, ex, id.eye.y, id.eye.ry * 1.05, id.eye.ry * 1.05);
            if (ir < 1) col = ir < 0.3 ? [0.05, 0.04, 0.04] : id.iris;
          }
          // glasses rim
          if (id.glasses) {
            const g = ell(u, v, ex, id.eye.y, id.eye.rx * 1.7, id.eye.ry * 2.6);
            if (g > 0.8 && g < 1.1) col = [0.08, 0.08, 0.1];
          }
          // nostrils
          if (ell(u, v, side * id.nose.width * 0.55, id.eye.y + id.nose.len + 0.1, 0.025, 0.015) < 1) col = [id.skin[0] * 0.45, id.skin[1] * 0.4, id.skin[2] * 0.4];
        }
        if (id.glasses && Math.abs(v - id.eye.y) < 0.015 && Math.abs(u) < id.eye.sep - id.eye.rx * 1.5) col = [0.08, 0.08, 0.1];
        // nose ridge shadow
        if (Math.abs(u - 0.02) < id.nose.width * 0.35 && v > id.eye.y + 0.05 && v < id.eye.y + id.nose.len + 0.06) col = [col[0] * 0.85, col[1] * 0.83, col[2] * 0.83];
        // mouth: a curved band
        const mu = u / id.mouth.width;
        if (Math.abs(mu) < 1) {
          const mv = id.mouth.y - id.mouth.smile * (1 - mu * mu);
          if (Math.abs(v - mv) < id.mouth.thick * (1 - 0.5 * mu * mu)) col = id.lips;
        }
        if (id.mole && ell(u, v, id.mole[0], id.mole[1], 0.022, 0.022) < 1) col = [0.2, 0.12, 0.08];
      }
      if (col) {
        const o = (y * size + x) * 4;
        rgba[o] = col[0];
        rgba[o + 1] = col[1];
        rgba[o + 2] = col[2];
        rgba[o + 3] = 1;
      }
    }
  }
  return { size, rgba };
}

/** The per-sample variations, all scaled by `difficulty` ∈ [0, 1]. */
export interface SampleParams {
  difficulty: number;
  rotation: number;
  scale: number;
  shiftX: number;
  shiftY: number;
  squeeze: number;
  gain: number;
  lightDir: number;
  lightStrength: number;
  tint: RGB;
  background: [RGB, RGB];
  blur: number;
  noise: number;
  occlusion: { x: number; y: number; w: number; h: number; color: RGB; ellipse: boolean } | null;
}

/** Draws sample variations; `difficulty` defaults to a draw skewed towards easy (u^1.5). */
export function drawSample(r: Rng, difficulty?: number): SampleParams {
  const d = difficulty ?? Math.pow(r.next(), 1.5);
  const bg = (): RGB => [r.uniform(0.05, 0.95), r.uniform(0.05, 0.95), r.uniform(0.05, 0.95)];
  return {
    difficulty: d,
    rotation: r.normal() * (0.05 + 0.25 * d),
    scale: 1 + r.normal() * (0.03 + 0.1 * d),
    shiftX: r.normal() * (0.02 + 0.08 * d),
    shiftY: r.normal() * (0.02 + 0.08 * d),
    squeeze: r.normal() * 0.18 * d,
    gain: Math.exp(r.normal() * (0.08 + 0.3 * d)),
    lightDir: r.uniform(0, 2 * Math.PI),
    lightStrength: r.uniform(0, 0.15 + 0.45 * d),
    tint: [1 + r.normal() * 0.05 * (1 + d), 1 + r.normal() * 0.05 * (1 + d), 1 + r.normal() * 0.05 * (1 + d)],
    background: [bg(), bg()],
    blur: Math.max(0, Math.round(r.uniform(-1, 3.5 * d))),
    noise: r.uniform(0.005, 0.02 + 0.1 * d),
    occlusion: r.chance(0.08 + 0.5 * d)
      ? { x: r.uniform(0.1, 0.9), y: r.uniform(0.2, 0.9), w: r.uniform(0.1, 0.25 + 0.25 * d), h: r.uniform(0.08, 0.2 + 0.2 * d), color: bg(), ellipse: r.chance(0.5) }
      : null,
  };
}

/** Renders one sample (RGB uint8, HWC, `size × size`) of a template under `p` (and the wild additions `w`). */
export function renderSample(t: Template, p: SampleParams, size: number, r: Rng, w: WildParams | null = null): Uint8Array {
  if (w) p = { ...p, rotation: p.rotation + w.rotation, scale: p.scale * w.scale, shiftX: p.shiftX + w.shiftX, shiftY: p.shiftY + w.shiftY, squeeze: p.squeeze + w.squeeze };
  const buf = new Float32Array(size * size * 3);
  const clutter = w ? clutterBackground(p.background, w.clutter, size) : null;
  const T = t.size;
  const c = Math.cos(p.rotation);
  const s = Math.sin(p.rotation);
  // Output pixel (x, y) → face-frame point → template pixel. The output spans [−1.2, 1.2]² of the face frame.
  for (let y = 0; y < size; y++) {
    const oy = ((y + 0.5) / size) * 2 - 1;
    for (let x = 0; x < size; x++) {
      const ox = ((x + 0.5) / size) * 2 - 1;
      // inverse of: scale, rotate, shift, yaw squeeze
      const qx = (ox - p.shiftX) / p.scale;
      const qy = (oy - p.shiftY) / p.scale;
      let u = c * qx + s * qy;
      const v = -s * qx + c * qy;
      u = u * (1 + p.squeeze * u);
      // template coordinates (template covers [−1.2, 1.2])
      const tx = ((u * 1.2 + 1.2) / 2.4) * T - 0.5;
      const ty = ((v * 1.2 + 1.2) / 2.4) * T - 0.5;
      const o = (y * size + x) * 3;
      const bgk = y / size;
      let R = clutter ? clutter[o]! : p.background[0][0] * (1 - bgk) + p.background[1][0] * bgk;
      let G = clutter ? clutter[o + 1]! : p.background[0][1] * (1 - bgk) + p.background[1][1] * bgk;
      let B = clutter ? clutter[o + 2]! : p.background[0][2] * (1 - bgk) + p.background[1][2] * bgk;
      const x0 = Math.floor(tx);
      const y0 = Math.floor(ty);
      if (x0 >= -1 && y0 >= -1 && x0 < T && y0 < T) {
        const fx = tx - x0;
        const fy = ty - y0;
        let r0 = 0, g0 = 0, b0 = 0, a0 = 0;
        for (let k = 0; k < 4; k++) {
          const xx = x0 + (k & 1);
          const yy = y0 + (k >> 1);
          if (xx < 0 || yy < 0 || xx >= T || yy >= T) continue;
          const w = ((k & 1) ? fx : 1 - fx) * ((k >> 1) ? fy : 1 - fy);
          const i = (yy * T + xx) * 4;
          const a = t.rgba[i + 3]! * w;
          r0 += t.rgba[i]! * a;
          g0 += t.rgba[i + 1]! * a;
          b0 += t.rgba[i + 2]! * a;
          a0 += a;
        }
        if (a0 > 0) {
          R = r0 + R * (1 - a0);
          G = g0 + G * (1 - a0);
          B = b0 + B * (1 - a0);
        }
      }
      // directional light (wild: plus the self-shadow of a turned head on the side it turns away from)
      let l = p.gain * (1 + p.lightStrength * (Math.cos(p.lightDir) * ox + Math.sin(p.lightDir) * oy));
      if (w && w.shadow > 0) l *= 1 - w.shadow * Math.max(0, Math.sign(w.squeeze) * ox);
      buf[o] = R * l * p.tint[0];
      buf[o + 1] = G * l * p.tint[1];
      buf[o + 2] = B * l * p.tint[2];
    }
  }
  if (p.occlusion) {
    const oc = p.occlusion;
    for (let y = 0; y < size; y++) {
      const fy = (y + 0.5) / size;
      for (let x = 0; x < size; x++) {
        const fx = (x + 0.5) / size;
        const dx = (fx - oc.x) / (oc.w / 2);
        const dy = (fy - oc.y) / (oc.h / 2);
        const inside = oc.ellipse ? dx * dx + dy * dy < 1 : Math.abs(dx) < 1 && Math.abs(dy) < 1;
        if (inside) {
          const o = (y * size + x) * 3;
          buf[o] = oc.color[0];
          buf[o + 1] = oc.color[1];
          buf[o + 2] = oc.color[2];
        }
      }
    }
  }
  if (w) for (const oc of w.occluders) paintOccluder(buf, size, oc);
  if (p.blur > 0) boxBlur(buf, size, p.blur);
  const out = new Uint8Array(size * size * 3);
  // Gaussian noise from a fixed table at a random offset and odd stride (a fresh draw per value costs ~2 ms/image).
  const table = noiseTable();
  const mask = table.length - 1;
  let j = r.int(table.length);
  const stride = 2 * r.int(table.length / 2) + 1;
  for (let i = 0; i < out.length; i++) {
    j = (j + stride) & mask;
    const v = buf[i]! + p.noise * table[j]!;
    out[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return out;
}

/** A shape of the `wild` variant, in image coordinates [0, 1]² (clutter behind the face, occluders over it). */
export interface WildShape {
  kind: 'ellipse' | 'rect' | 'bar';
  x: number;
  y: number;
  w: number;
  h: number;
  /** Rotation of the shape (radians). */
  angle: number;
  color: RGB;
  /** Stripes across the shape: amplitude (0 = flat) and period (image fraction). */
  stripes: number;
  period: number;
}

/** What the `wild` variant adds to a sample (drawn by {@link drawWild}). */
export interface WildParams {
  /** Misalignment on top of the sample's own: rotation (rad), scale factor, shifts (image half-widths). */
  rotation: number;
  scale: number;
  shiftX: number;
  shiftY: number;
  /** Yaw-like squeeze added to the sample's. */
  squeeze: number;
  /** Darkening of the side the face turns away from, in [0, 1). */
  shadow: number;
  clutter: WildShape[];
  occluders: WildShape[];
}

/** Synthetic set variants: `plain` (the default) and `wild` ({@link drawWild}). */
export const SYNTH_VARIANTS = ['plain', 'wild'] as const;
export type SynthVariant = (typeof SYNTH_VARIANTS)[number];

function drawShape(r: Rng, kind: WildShape['kind'], color: RGB, size: [number, number]): WildShape {
  const textured = r.chance(0.5);
  return {
    kind,
    x: r.uniform(0, 1),
    y: r.uniform(0, 1),
    w: r.uniform(size[0], size[1]),
    h: kind === 'bar' ? r.uniform(0.04, 0.09) : r.uniform(size[0], size[1]),
    angle: r.uniform(-Math.PI, Math.PI),
    color,
    stripes: textured ? r.uniform(0.15, 0.45) : 0,
    period: r.uniform(0.03, 0.12),
  };
}

/**
 * The `wild` additions to a sample, each motivated by aligned crops of real photos (CASIA-WebFace,
 * MS1M, the LFW/CFP-FP/AgeDB pairs):
 * - clutter: 6–14 flat or striped shapes behind the face (real crops show scenes, text, other
 *   people, where the plain set has a smooth two-colour gradient);
 * - occluders: in 60 % of the samples one or two shapes over the face, a third of them skin-toned
 *   (hands, arms) and some thin bars (microphones, glasses' temples, hair strands), where the plain
 *   set has one flat occluder in 8–58 % of the samples;
 * - misalignment: extra rotation (σ 0.12 rad), scale (σ 8 %) and shift (σ 8 % of the image), the
 *   order of a five-point alignment's error on detector landmarks, larger still on turned heads;
 * - pose: a yaw-like squeeze up to ±0.5 (plain: σ 0.18·difficulty) with the face shifted towards
 *   the side it turns to and the far side shadowed (half-profile faces of CFP-FP and CPLFW).
 * The same draws happen for every sample of every split, whatever trains on them.
 */
export function drawWild(r: Rng): WildParams {
  const yaw = r.uniform(-0.5, 0.5);
  const bg = (): RGB => [r.uniform(0.05, 0.95), r.uniform(0.05, 0.95), r.uniform(0.05, 0.95)];
  const skin = (): RGB => {
    const tone = r.uniform(0.25, 0.95);
    return [tone * r.uniform(0.9, 1.05), tone * r.uniform(0.68, 0.82), tone * r.uniform(0.5, 0.7)];
  };
  const clutter = Array.from({ length: 6 + r.int(9) }, () => drawShape(r, r.chance(0.5) ? 'ellipse' : 'rect', bg(), [0.08, 0.45]));
  const occluders: WildShape[] = [];
  if (r.chance(0.6)) {
    for (let i = 0, n = 1 + r.int(2); i < n; i++) {
      const u = r.next();
      occluders.push(u < 1 / 3 ? drawShape(r, 'ellipse', skin(), [0.15, 0.4]) : u < 0.5 ? drawShape(r, 'bar', bg(), [0.4, 0.9]) : drawShape(r, r.chance(0.5) ? 'ellipse' : 'rect', bg(), [0.12, 0.35]));
    }
  }
  return {
    rotation: r.normal() * 0.12,
    scale: Math.exp(r.normal() * 0.08),
    shiftX: r.normal() * 0.08 + 0.25 * yaw,
    shiftY: r.normal() * 0.08,
    squeeze: yaw,
    shadow: r.uniform(0, 0.5) * Math.min(1, 2 * Math.abs(yaw)),
    clutter,
    occluders,
  };
}

/** Whether image point (fx, fy) ∈ [0, 1]² lies in the shape, and its stripe factor there. */
function shapeAt(s: WildShape, fx: number, fy: number): number | null {
  const c = Math.cos(s.angle);
  const sn = Math.sin(s.angle);
  const du = (fx - s.x) * c + (fy - s.y) * sn;
  const dv = -(fx - s.x) * sn + (fy - s.y) * c;
  const a = du / (s.w / 2);
  const b = dv / (s.h / 2);
  const inside = s.kind === 'ellipse' ? a * a + b * b < 1 : Math.abs(a) < 1 && Math.abs(b) < 1;
  if (!inside) return null;
  return s.stripes > 0 ? 1 + s.stripes * Math.sin((2 * Math.PI * du) / s.period) : 1;
}

/** The plain gradient background with the clutter shapes painted over it, RGB HWC. */
function clutterBackground(background: [RGB, RGB], shapes: readonly WildShape[], size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const bgk = y / size;
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      for (let ch = 0; ch < 3; ch++) out[o + ch] = background[0][ch]! * (1 - bgk) + background[1][ch]! * bgk;
    }
  }
  for (const s of shapes) paintOccluder(out, size, s);
  return out;
}

/** Paints a shape over an RGB HWC float buffer. */
function paintOccluder(buf: Float32Array, size: number, s: WildShape): void {
  for (let y = 0; y < size; y++) {
    const fy = (y + 0.5) / size;
    for (let x = 0; x < size; x++) {
      const k = shapeAt(s, (x + 0.5) / size, fy);
      if (k === null) continue;
      const o = (y * size + x) * 3;
      buf[o] = s.color[0] * k;
      buf[o + 1] = s.color[1] * k;
      buf[o + 2] = s.color[2] * k;
    }
  }
}

let NOISE: Float32Array | undefined;
function noiseTable(): Float32Array {
  if (!NOISE) {
    const r = new Rng(0x5eed);
    NOISE = new Float32Array(1 << 16);
    for (let i = 0; i < NOISE.length; i++) NOISE[i] = r.normal();
  }
  return NOISE;
}

/** Separable box blur of radius `rad` in place (clamped edges). */
function boxBlur(buf: Float32Array, size: number, rad: number): void {
  const tmp = new Float32Array(buf.length);
  const n = 2 * rad + 1;
  for (let pass = 0; pass < 2; pass++) {
    const src = pass === 0 ? buf : tmp;
    const dst = pass === 0 ? tmp : buf;
    for (let a = 0; a < size; a++) {
      for (let ch = 0; ch < 3; ch++) {
        for (let b = 0; b < size; b++) {
          let acc = 0;
          for (let k = -rad; k <= rad; k++) {
            const bb = Math.min(size - 1, Math.max(0, b + k));
            const idx = pass === 0 ? (a * size + bb) * 3 + ch : (bb * size + a) * 3 + ch;
            acc += src[idx]!;
          }
          const di = pass === 0 ? (a * size + b) * 3 + ch : (b * size + a) * 3 + ch;
          dst[di] = acc / n;
        }
      }
    }
  }
}

/** Identity seeds: training and validation identities come from disjoint streams of the same seed. */
export function identitySeed(seed: number, split: 'train' | 'val', index: number): number {
  return hashSeed(seed, split === 'train' ? 1 : 2, index);
}

/** Renders sample `k` of identity `index` of a split, deterministically. */
export function renderFace(
  seed: number,
  split: 'train' | 'val',
  index: number,
  k: number,
  size: number,
  opts: { template?: Template; difficulty?: number; variant?: SynthVariant } = {},
): Uint8Array {
  const t = opts.template ?? renderTemplate(makeIdentity(identitySeed(seed, split, index)), Math.round(size * 1.25));
  const r = new Rng(hashSeed(seed, split === 'train' ? 3 : 4, index, k));
  // the wild additions come from their own stream: the plain draws (and images) stay as they are
  const w = opts.variant === 'wild' ? drawWild(new Rng(hashSeed(seed, split === 'train' ? 5 : 6, index, k))) : null;
  return renderSample(t, drawSample(r, opts.difficulty), size, r, w);
}
