/** Image dimensions from JPEG/PNG headers, without decoding. */

/** `[height, width]` of a JPEG or PNG, or `undefined` if the header is not recognised. */
export function imageDimensions(b: Uint8Array): [number, number] | undefined {
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return [dv.getUint32(20), dv.getUint32(16)];
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let p = 2;
    while (p + 4 <= b.length) {
      if (b[p] !== 0xff) return undefined;
      const marker = b[p + 1]!;
      if (marker === 0xff) {
        p++;
        continue;
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        p += 2;
        continue;
      }
      const len = (b[p + 2]! << 8) | b[p + 3]!;
      // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        if (p + 9 > b.length) return undefined;
        return [(b[p + 5]! << 8) | b[p + 6]!, (b[p + 7]! << 8) | b[p + 8]!];
      }
      p += 2 + len;
    }
  }
  return undefined;
}
