/**
 * Seeded mutations of a file's bytes: bit flips, byte overwrites, truncation, length-like fields
 * set huge, spliced chunks (from the input itself or another seed), inserted and deleted runs,
 * and, for text, numbers replaced by extreme values. Deterministic in (input, seed).
 */

/** splitmix32-style generator: a uint32 stream from a seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const HUGE_U32 = [0xffffffff, 0xfffffffe, 0x7fffffff, 0x80000000, 0x10000000, 0x00ffffff];
const EXTREME_NUMBERS = ['1e308', '-1', '0', '4294967296', '10000000', '1e9', 'NaN', '-0', '9007199254740993', '0.5', '99999999999999999999'];

/** One mutated copy of `input` (with `others` as splice donors) and a description of what was done. */
export function mutate(input: Uint8Array, seed: number, others: readonly Uint8Array[] = [], text = false): { bytes: Buffer; ops: string[] } {
  const r = rng(seed);
  const pick = (n: number): number => (n <= 0 ? 0 : r() % n);
  let b = Buffer.from(input);
  const ops: string[] = [];
  const rounds = 1 + pick(4);
  for (let k = 0; k < rounds; k++) {
    const kind = text && pick(2) ? 8 : pick(8); // text: half the rounds keep the syntax and change a number
    const at = pick(b.length);
    switch (kind) {
      case 0: { // bit flips
        const n = 1 + pick(8);
        for (let i = 0; i < n && b.length; i++) b[pick(b.length)]! ^= 1 << pick(8);
        ops.push(`flip×${n}`);
        break;
      }
      case 1: { // byte overwrites
        const n = 1 + pick(4);
        for (let i = 0; i < n && b.length; i++) b[pick(b.length)] = [0, 0xff, 0x7f, 0x80, r() & 0xff][pick(5)]!;
        ops.push(`byte×${n}`);
        break;
      }
      case 2: // truncation
        b = b.subarray(0, pick(b.length + 1));
        ops.push(`truncate@${b.length}`);
        break;
      case 3: { // a length-like field set huge (32-bit LE or BE, or 64-bit LE)
        if (b.length < 8) break;
        const o = pick(b.length - 7) & ~(pick(2) ? 3 : 0);
        const v = HUGE_U32[pick(HUGE_U32.length)]!;
        const form = pick(3);
        if (form === 0) b.writeUInt32LE(v, o);
        else if (form === 1) b.writeUInt32BE(v, o);
        else b.writeBigUInt64LE(BigInt(v) * BigInt(1 + pick(0x10000)), o);
        ops.push(`huge${['LE', 'BE', 'LE64'][form]}@${o}=${v.toString(16)}`);
        break;
      }
      case 4: { // splice a chunk from another seed (or this input) over a random place
        const donor = others.length && pick(2) ? others[pick(others.length)]! : input;
        if (!donor.length || !b.length) break;
        const from = pick(donor.length);
        const len = 1 + pick(Math.min(512, donor.length - from));
        const chunk = Buffer.from(donor.subarray(from, from + len));
        b = Buffer.concat([b.subarray(0, at), chunk, b.subarray(Math.min(b.length, at + pick(len + 1)))]);
        ops.push(`splice${len}@${at}`);
        break;
      }
      case 5: { // duplicate a run (a repeated record)
        const len = 1 + pick(Math.min(1024, b.length - at));
        b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
        ops.push(`dup${len}@${at}`);
        break;
      }
      case 6: { // delete a run
        const len = 1 + pick(Math.min(256, b.length - at));
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
        ops.push(`del${len}@${at}`);
        break;
      }
      case 7: { // insert random bytes
        const len = 1 + pick(64);
        const ins = Buffer.alloc(len);
        for (let i = 0; i < len; i++) ins[i] = r() & 0xff;
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        ops.push(`ins${len}@${at}`);
        break;
      }
      case 8: { // text: a number replaced by an extreme one
        const s = b.toString('latin1');
        const nums = [...s.matchAll(/-?\d+(\.\d+)?(e[-+]?\d+)?/gi)];
        if (!nums.length) break;
        const m = nums[pick(nums.length)]!;
        const v = EXTREME_NUMBERS[pick(EXTREME_NUMBERS.length)]!;
        b = Buffer.from(s.slice(0, m.index) + v + s.slice(m.index! + m[0].length), 'latin1');
        ops.push(`number@${m.index}=${v}`);
        break;
      }
    }
  }
  return { bytes: b, ops };
}
