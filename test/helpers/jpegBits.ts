// The entropy-coded bits of a JPEG scan, for the streams the JPEG tests encode by the standard's
// rules: most significant bit first, a 0x00 stuffed after each 0xFF byte (T.81 F.1.2.3), the
// last byte padded with 1 bits.

/** A bit writer appending to `out`. */
export function jpegBitWriter(out: number[]): { put(value: number, length: number): void; flush(): void } {
  let acc = 0;
  let n = 0;
  const put = (value: number, length: number): void => {
    for (let b = length - 1; b >= 0; b--) {
      acc = (acc << 1) | ((value >> b) & 1);
      if (++n === 8) {
        out.push(acc);
        if (acc === 0xff) out.push(0);
        acc = 0;
        n = 0;
      }
    }
  };
  return {
    put,
    flush(): void {
      while (n !== 0) put(1, 1);
    },
  };
}
