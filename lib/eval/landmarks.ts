/**
 * Landmark files for batch alignment: five points per image.
 * - JSON: `{ "a/b.jpg": [x0, y0, …, x4, y4] | [[x0, y0], …], … }` or `[{ "file": …, "landmarks": … }, …]`;
 * - text: one line per image, `path x0 y0 x1 y1 x2 y2 x3 y3 x4 y4` (spaces, tabs or commas;
 *   lines starting with '#' and blank lines are skipped). Paths are relative to the image folder.
 * Point order: left eye, right eye, nose tip, left mouth corner, right mouth corner (as in the image).
 */
import { readRegularFile } from '../io/regular-file.js';
import { flattenLandmarks } from '../data/align.js';

/** One image and its five landmarks (10 numbers). */
export interface LandmarkEntry {
  file: string;
  landmarks: number[];
}

/** Parses a landmarks file's text; `source` names it in errors. */
export function parseLandmarks(text: string, source = '<landmarks>'): LandmarkEntry[] {
  const trimmed = text.trimStart();
  const out: LandmarkEntry[] = [];
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`${source}: invalid JSON (${(e as Error).message})`);
    }
    const pairs: [string, unknown][] = Array.isArray(json)
      ? json.map((e, i) => {
          const o = e as { file?: unknown; landmarks?: unknown };
          if (typeof o?.file !== 'string') throw new Error(`${source}: entry ${i} has no "file" string`);
          return [o.file, o.landmarks];
        })
      : Object.entries(json as Record<string, unknown>);
    for (const [file, lm] of pairs) {
      try {
        out.push({ file, landmarks: flattenLandmarks(lm as number[]) });
      } catch (e) {
        throw new Error(`${source}: '${file}': ${(e as Error).message}`);
      }
    }
    return out;
  }
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/[\s,]+/);
    const file = parts[0]!;
    const nums = parts.slice(1).map(Number);
    if (nums.length !== 10 || !nums.every(Number.isFinite)) {
      throw new Error(`${source}:${i + 1}: expected 'path x0 y0 … x4 y4' (a path and 10 numbers), got ${parts.length - 1} values`);
    }
    out.push({ file, landmarks: nums });
  });
  return out;
}

/** Reads a landmarks file (JSON or text, see above). */
export function readLandmarks(path: string): LandmarkEntry[] {
  return parseLandmarks(readRegularFile(path, 'landmarks file', 'utf8'), path);
}
