// Lossy JPEG (ITU-T T.81 sequential DCT with Huffman coding), as DICOM stores it: baseline
// (process 1, 8 bits; transfer syntax 1.2.840.10008.1.2.4.50) and extended (processes 2 and 4,
// 8 or 12 bits; .51). One component (grey scale), restart intervals, any sampling factors (one
// component's scan is non-interleaved: its MCU is one 8×8 block). The inverse DCT is libjpeg's
// accurate integer one (jidctint.c, JDCT_ISLOW), so samples come out as dcmtk and most PACS decode them.
import { JpegBitReader, JpegError, readJpegHeader } from './jpegLossless';

/** Where the coefficient of each position of the zig-zag sequence (T.81 Figure A.6) goes in a block, row by row. */
const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
  58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

/** What an SOFn marker other than SOF0 and SOF1 codes (T.81 Table B.1). */
function frameKind(marker: number): string {
  const n = marker - 0xffc0;
  return `${n >= 8 ? 'arithmetic-coded ' : ''}${n & 4 ? 'hierarchical (differential) ' : ''}${['baseline', 'extended sequential', 'progressive', 'lossless'][n & 3]} (SOF${n})`;
}

/**
 * Decodes one lossy (sequential DCT) JPEG image of one component into `samples` values,
 * little-endian, of `bytesPerSample` (1 or 2) bytes each: unsigned, 0 to 2^P − 1 for P-bit (8 or 12) samples.
 * @throws JpegError for a stream that is not process 1, 2 or 4 grey scale, is truncated or is damaged.
 */
export function decodeJpegBaseline(data: Uint8Array, samples: number, bytesPerSample: number): Uint8Array {
  const header = readJpegHeader(data, (marker, components) => {
    if (marker !== 0xffc0 && marker !== 0xffc1) throw new JpegError(`its JPEG frame is ${frameKind(marker)}; only sequential DCT frames with Huffman coding (SOF0 baseline, SOF1 extended) are read`);
    if (components !== 1) throw new JpegError(`its JPEG frame has ${components} components (colour); grey-scale images (1) are read`);
  });
  const { precision, width, height, scan } = header;
  if (header.frameMarker === 0) throw new JpegError('its JPEG scan comes before a frame header (SOF marker)');
  if (data[scan] !== 1) throw new JpegError(`its JPEG scan has ${data[scan]} components; 1 is read`);
  if (data[scan + 1] !== header.componentId) throw new JpegError(`its JPEG scan codes component ${data[scan + 1]}, which the frame does not have`);
  // Ss, Se, Ah and Al (0, 63, 0, 0 in a sequential scan) are not looked at: libjpeg, too, only warns when they are not those.
  const dcTable = header.dcTables[data[scan + 2] >> 4];
  const acTable = header.acTables[data[scan + 2] & 0x0f];
  const quantization = header.quantizationTables[header.quantizationTable];
  if (!dcTable || !acTable) throw new JpegError('its JPEG scan uses a Huffman table the frame does not define');
  if (!quantization) throw new JpegError('its JPEG frame uses a quantization table it does not define');
  if (precision !== 8 && precision !== 12) throw new JpegError(`its JPEG frame has ${precision}-bit samples; sequential DCT JPEG has 8 or 12`);
  if (width * height !== samples) throw new JpegError(`its JPEG frame is ${width}×${height} of ${precision} bits, but the DICOM header asks for ${samples} samples`);
  if (precision > 8 * bytesPerSample) throw new JpegError(`its JPEG frame has ${precision}-bit samples, but the DICOM header stores ${8 * bytesPerSample} bits per sample`);

  const reader = new JpegBitReader(data, header.entropyStart);
  const bytes = new Uint8Array(samples * bytesPerSample);
  const coefficients = new Int32Array(64);
  const workspace = new Int32Array(64);
  const pixels = new Int32Array(64);
  const { restartInterval } = header;
  const blocksWide = Math.ceil(width / 8);
  const blocksHigh = Math.ceil(height / 8);
  const center = 1 << (precision - 1);
  const max = (1 << precision) - 1;
  // libjpeg's fixed-point scaling between the passes: 2 bits for 8-bit samples, 1 for 12-bit.
  const pass1Bits = precision === 8 ? 2 : 1;
  let predictor = 0;
  let sinceRestart = 0;
  for (let by = 0; by < blocksHigh; by++) {
    for (let bx = 0; bx < blocksWide; bx++) {
      if (restartInterval > 0 && sinceRestart === restartInterval) {
        // Skip to the RSTn marker; the DC prediction starts over (T.81 F.2.1.3.1).
        reader.restart();
        predictor = 0;
        sinceRestart = 0;
      }
      // The block's coefficients, dequantized, in row order (T.81 F.2.2.1, F.2.2.2).
      coefficients.fill(0);
      const category = reader.decode(dcTable);
      if (category > 16) throw new JpegError(`its JPEG data hold a DC difference of category ${category} (damaged data)`);
      predictor += reader.receiveExtend(category);
      coefficients[0] = predictor * quantization[0];
      let ac = false;
      for (let k = 1; k < 64; ) {
        const rs = reader.decode(acTable);
        const size = rs & 0x0f;
        if (size === 0) {
          if (rs !== 0xf0) break; // end of block
          k += 16; // a run of 16 zeros
          continue;
        }
        k += rs >> 4;
        if (k > 63) throw new JpegError('its JPEG data hold more than 64 coefficients in a block (damaged data)');
        coefficients[ZIGZAG[k]] = reader.receiveExtend(size) * quantization[k];
        ac = true;
        k++;
      }
      if (ac) inverseDct(coefficients, workspace, pixels, pass1Bits, center, max);
      else {
        // A flat block: what the inverse DCT gives for the DC coefficient alone.
        pixels.fill(Math.min(max, Math.max(0, Math.floor((coefficients[0] + 4) / 8) + center)));
      }
      // Copy the block, cropped at the image's right and bottom edges.
      const x0 = bx * 8;
      const y0 = by * 8;
      const w = Math.min(8, width - x0);
      const h = Math.min(8, height - y0);
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) {
          const v = pixels[r * 8 + c];
          const i = (y0 + r) * width + x0 + c;
          if (bytesPerSample === 2) {
            bytes[2 * i] = v & 0xff;
            bytes[2 * i + 1] = v >> 8;
          } else bytes[i] = v;
        }
      }
      sinceRestart++;
    }
  }
  reader.checkNotPastEnd();
  expectEnd(data, reader.pos);
  return bytes;
}

/** Checks that what follows the scan's entropy-coded data (from `pos`) reaches an EOI marker. */
function expectEnd(data: Uint8Array, pos: number): void {
  for (let at = pos; ; ) {
    // Past the last bits of the entropy-coded data, to the next marker.
    while (at < data.length && data[at] !== 0xff) at++;
    if (at + 1 >= data.length) throw new JpegError('its JPEG data end without an EOI marker (truncated)');
    const next = data[at + 1];
    if (next === 0xd9) return;
    if (next === 0x00 || next === 0xff) at++; // a stuffed 0xFF, or fill bytes before a marker
    else if (next >= 0xd0 && next <= 0xd7) at += 2; // a stray RSTn
    else at += 2 + ((data[at + 2] << 8) | data[at + 3]); // a segment (COM, APPn, DNL …)
  }
}

// libjpeg's jidctint.c: the separable Loeffler–Ligtenberg–Moschytz inverse DCT in fixed point
// with 13 fractional bits, constants FIX(x) = round(x · 2^13).
const CONST_BITS = 13;
const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;

/**
 * One 8-point inverse DCT of `d` (8 values from `at`, `stride` apart) before descaling, into
 * `out` in sample order: ×2^CONST_BITS of the true result.
 */
function idct8(d: Int32Array, at: number, stride: number, out: Float64Array): void {
  const d0 = d[at];
  const d1 = d[at + stride];
  const d2 = d[at + 2 * stride];
  const d3 = d[at + 3 * stride];
  const d4 = d[at + 4 * stride];
  const d5 = d[at + 5 * stride];
  const d6 = d[at + 6 * stride];
  const d7 = d[at + 7 * stride];
  // Even part.
  const z1 = (d2 + d6) * FIX_0_541196100;
  const even2 = z1 - d6 * FIX_1_847759065;
  const even3 = z1 + d2 * FIX_0_765366865;
  const even0 = (d0 + d4) * 2 ** CONST_BITS;
  const even1 = (d0 - d4) * 2 ** CONST_BITS;
  const tmp10 = even0 + even3;
  const tmp13 = even0 - even3;
  const tmp11 = even1 + even2;
  const tmp12 = even1 - even2;
  // Odd part.
  const z5 = (d7 + d3 + d5 + d1) * FIX_1_175875602;
  const w1 = -(d7 + d1) * FIX_0_899976223;
  const w2 = -(d5 + d3) * FIX_2_562915447;
  const w3 = z5 - (d7 + d3) * FIX_1_961570560;
  const w4 = z5 - (d5 + d1) * FIX_0_390180644;
  const odd0 = d7 * FIX_0_298631336 + w1 + w3;
  const odd1 = d5 * FIX_2_053119869 + w2 + w4;
  const odd2 = d3 * FIX_3_072711026 + w2 + w3;
  const odd3 = d1 * FIX_1_501321110 + w1 + w4;
  out[0] = tmp10 + odd3;
  out[7] = tmp10 - odd3;
  out[1] = tmp11 + odd2;
  out[6] = tmp11 - odd2;
  out[2] = tmp12 + odd1;
  out[5] = tmp12 - odd1;
  out[3] = tmp13 + odd0;
  out[4] = tmp13 - odd0;
}

const line = new Float64Array(8);

/**
 * The 8×8 samples of dequantized `coefficients` (row order) into `out`, level-shifted by `center`
 * and clamped to 0..`max`. Products and sums are exact in doubles; DESCALE(x, n) is ⌊(x + 2^(n−1)) / 2^n⌋.
 */
function inverseDct(coefficients: Int32Array, workspace: Int32Array, out: Int32Array, pass1Bits: number, center: number, max: number): void {
  // Pass 1: columns, into the workspace, scaled up by 2^pass1Bits.
  const shift1 = CONST_BITS - pass1Bits;
  const round1 = 2 ** (shift1 - 1);
  const scale1 = 2 ** -shift1;
  for (let c = 0; c < 8; c++) {
    let ac = false;
    for (let r = 1; r < 8 && !ac; r++) ac = coefficients[8 * r + c] !== 0;
    if (!ac) {
      const dc = coefficients[c] * 2 ** pass1Bits;
      for (let r = 0; r < 8; r++) workspace[8 * r + c] = dc;
      continue;
    }
    idct8(coefficients, c, 8, line);
    for (let r = 0; r < 8; r++) workspace[8 * r + c] = Math.floor((line[r] + round1) * scale1);
  }
  // Pass 2: rows, scaled down by 2^(CONST_BITS + pass1Bits + 3) (the 3: the DCT's factor 8).
  const shift2 = CONST_BITS + pass1Bits + 3;
  const round2 = 2 ** (shift2 - 1);
  const scale2 = 2 ** -shift2;
  const sample = (x: number): number => {
    const v = Math.floor((x + round2) * scale2) + center;
    return v < 0 ? 0 : v > max ? max : v;
  };
  for (let r = 0; r < 64; r += 8) {
    let ac = false;
    for (let c = 1; c < 8 && !ac; c++) ac = workspace[r + c] !== 0;
    if (!ac) {
      out.fill(sample(workspace[r] * 2 ** CONST_BITS), r, r + 8);
      continue;
    }
    idct8(workspace, r, 1, line);
    for (let c = 0; c < 8; c++) out[r + c] = sample(line[c]);
  }
}
