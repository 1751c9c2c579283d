// JPEG-LS (ITU-T T.87, LOCO-I), lossless and near-lossless, one component: DICOM transfer syntaxes
// 1.2.840.10008.1.2.4.80 and .81, which PACS use for CT and MR. Context modelling of three local
// gradients, median edge prediction with bias correction, Golomb-coded errors, and run mode in flat
// regions, as the standard's decoder (Annex A) does.

/** A JPEG-LS stream this decoder cannot read; the message says why. */
export class JpegLsError extends Error {
  override name = 'JpegLsError';
}

/** The run lengths' orders (T.87 A.7.1.2). */
const J = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/** Bits of the scan: after a 0xFF byte only 7 bits count (a 0 is stuffed); a 0xFF followed by a byte ≥ 0x80 is a marker. */
class BitReader {
  private pos: number;
  private bits = 0;
  private count = 0;
  private previousWasFF = false;
  /** Bytes shifted in past the end of the scan: reading them means the data stopped early. */
  private phantom = 0;

  constructor(
    private readonly data: Uint8Array,
    start: number,
  ) {
    this.pos = start;
  }

  private fill(): void {
    while (this.count <= 24) {
      let byte = 0;
      let width = 8;
      if (this.pos < this.data.length && !(this.data[this.pos] === 0xff && this.pos + 1 < this.data.length && this.data[this.pos + 1] >= 0x80)) {
        byte = this.data[this.pos++];
        if (this.previousWasFF) width = 7;
        this.previousWasFF = byte === 0xff;
      } else this.phantom++;
      this.bits = ((this.bits << width) | (byte & ((1 << width) - 1))) >>> 0;
      this.count += width;
    }
  }

  /** The next `n` bits (0 to 16) as a number. */
  value(n: number): number {
    if (n === 0) return 0;
    if (this.count < n) this.fill();
    this.count -= n;
    return (this.bits >>> this.count) & ((1 << n) - 1);
  }

  bit(): number {
    return this.value(1);
  }

  /** Zeros before the next 1 (which is consumed). */
  zeros(): number {
    let n = 0;
    for (;;) {
      if (this.count === 0) this.fill();
      const window = (this.bits << (32 - this.count)) >>> 0;
      if (window !== 0) {
        const z = Math.clz32(window);
        this.count -= z + 1;
        return n + z;
      }
      n += this.count;
      this.count = 0;
      this.checkNotPastEnd();
      if (n > 65536) throw new JpegLsError('its JPEG-LS data hold an endless run of zero bits (damaged data)');
    }
  }

  checkNotPastEnd(): void {
    if (this.phantom * 8 > this.count) throw new JpegLsError('its JPEG-LS data end before the image does (truncated or damaged)');
  }
}

interface Parameters {
  maxVal: number;
  near: number;
  t1: number;
  t2: number;
  t3: number;
  reset: number;
}

/** The default thresholds of T.87 C.2.4.1.1. */
function defaultParameters(maxVal: number, near: number): Parameters {
  const clamp = (v: number, lo: number, hi: number): number => (v > hi || v < lo ? lo : v);
  let t1: number;
  let t2: number;
  let t3: number;
  if (maxVal >= 128) {
    const factor = (Math.min(maxVal, 4095) + 128) >> 8;
    t1 = clamp(factor * (3 - 2) + 2 + 3 * near, near + 1, maxVal);
    t2 = clamp(factor * (7 - 3) + 3 + 5 * near, t1, maxVal);
    t3 = clamp(factor * (21 - 4) + 4 + 7 * near, t2, maxVal);
  } else {
    const factor = Math.floor(256 / (maxVal + 1));
    t1 = clamp(Math.max(2, Math.floor(3 / factor) + 3 * near), near + 1, maxVal);
    t2 = clamp(Math.max(3, Math.floor(7 / factor) + 5 * near), t1, maxVal);
    t3 = clamp(Math.max(4, Math.floor(21 / factor) + 7 * near), t2, maxVal);
  }
  return { maxVal, near, t1, t2, t3, reset: 64 };
}

/**
 * Decodes one JPEG-LS image of one component into `samples` values, little-endian, of
 * `bytesPerSample` (1 or 2) bytes each.
 * @throws JpegLsError for a stream that is not single-component JPEG-LS, is truncated or damaged.
 */
export function decodeJpegLs(data: Uint8Array, samples: number, bytesPerSample: number): Uint8Array {
  const u16 = (at: number): number => (data[at] << 8) | data[at + 1];
  if (u16(0) !== 0xffd8) throw new JpegLsError('its JPEG-LS frame does not start with an SOI marker');
  let pos = 2;
  let precision = 0;
  let width = 0;
  let height = 0;
  const preset: Partial<Parameters> = {};
  for (;;) {
    if (pos + 4 > data.length) throw new JpegLsError('its JPEG-LS frame ends before the scan');
    const marker = u16(pos);
    const length = u16(pos + 2);
    const body = pos + 4;
    if (marker === 0xfff7) {
      precision = data[body];
      height = u16(body + 1);
      width = u16(body + 3);
      if (data[body + 5] !== 1) throw new JpegLsError(`its JPEG-LS frame has ${data[body + 5]} components; grey-scale images (1) are read`);
    } else if (marker === 0xfff8) {
      if (data[body] !== 1) throw new JpegLsError(`its JPEG-LS frame holds preset parameters of type ${data[body]}; only coding parameters (type 1) are read`);
      Object.assign(preset, { maxVal: u16(body + 1), t1: u16(body + 3), t2: u16(body + 5), t3: u16(body + 7), reset: u16(body + 9) });
    } else if (marker === 0xffda) {
      if (data[body] !== 1) throw new JpegLsError(`its JPEG-LS scan has ${data[body]} components; 1 is read`);
      const near = data[body + 3];
      const pointTransform = data[body + 5] & 0x0f;
      if (pointTransform !== 0) throw new JpegLsError('its JPEG-LS scan uses a point transform, which is not read');
      if (precision < 2 || precision > 16 || width * height !== samples) throw new JpegLsError(`its JPEG-LS frame is ${width}×${height} of ${precision} bits, but the DICOM header asks for ${samples} samples`);
      const defaults = defaultParameters(preset.maxVal || (1 << precision) - 1, near);
      const parameters: Parameters = {
        maxVal: defaults.maxVal,
        near,
        t1: preset.t1 || defaults.t1,
        t2: preset.t2 || defaults.t2,
        t3: preset.t3 || defaults.t3,
        reset: preset.reset || defaults.reset,
      };
      return decodeScan(new BitReader(data, pos + 2 + length), width, height, parameters, bytesPerSample);
    } else if (marker === 0xffd9 || (marker & 0xff00) !== 0xff00) {
      throw new JpegLsError('its JPEG-LS frame has no scan');
    } else if (marker >= 0xffc0 && marker <= 0xffcf && marker !== 0xffc4 && marker !== 0xffc8 && marker !== 0xffcc) {
      throw new JpegLsError(`its frame is JPEG (SOF marker ${marker.toString(16).toUpperCase()}), not JPEG-LS`);
    }
    pos += 2 + length;
  }
}

function decodeScan(reader: BitReader, width: number, height: number, p: Parameters, bytesPerSample: number): Uint8Array {
  const { maxVal, near, t1, t2, t3, reset } = p;
  const range = Math.floor((maxVal + 2 * near) / (2 * near + 1)) + 1;
  const qbpp = Math.ceil(Math.log2(range));
  const bpp = Math.max(2, Math.ceil(Math.log2(maxVal + 1)));
  const limit = 2 * (bpp + Math.max(8, bpp));
  const step = 2 * near + 1;
  const initialA = Math.max(2, (range + 32) >> 6);
  // Regular contexts (365), and the two run-interruption contexts.
  const A = new Int32Array(365).fill(initialA);
  const B = new Int32Array(365);
  const C = new Int32Array(365);
  const N = new Int32Array(365).fill(1);
  const runA = [initialA, initialA];
  const runN = [1, 1];
  const runNn = [0, 0];
  let runIndex = 0;

  const quantize = (d: number): number => (d <= -t3 ? -4 : d <= -t2 ? -3 : d <= -t1 ? -2 : d < -near ? -1 : d <= near ? 0 : d < t1 ? 1 : d < t2 ? 2 : d < t3 ? 3 : 4);
  const golomb = (k: number, cap: number): number => {
    const high = reader.zeros();
    if (high >= cap - (qbpp + 1)) return reader.value(qbpp) + 1;
    return k === 0 ? high : (high << k) + reader.value(k);
  };
  const reconstruct = (prediction: number, error: number): number => {
    let x = prediction + error * step;
    if (x < -near) x += range * step;
    else if (x > maxVal + near) x -= range * step;
    return x < 0 ? 0 : x > maxVal ? maxVal : x;
  };

  // Lines with one extra sample on each side: [-1] and [width].
  let previous = new Int32Array(width + 2);
  let current = new Int32Array(width + 2);
  const out = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) {
    previous[width + 1] = previous[width];
    current[0] = previous[1];
    for (let x = 0; x < width; ) {
      const i = x + 1;
      const ra = current[i - 1];
      const rb = previous[i];
      const rc = previous[i - 1];
      const rd = previous[i + 1];
      let q1 = quantize(rd - rb);
      let q2 = quantize(rb - rc);
      let q3 = quantize(rc - ra);
      if (q1 === 0 && q2 === 0 && q3 === 0) {
        // Run mode: a run of Ra, then (unless the line ended) an interruption sample.
        let run = 0;
        const left = width - x;
        while (reader.bit()) {
          const count = Math.min(1 << J[runIndex], left - run);
          run += count;
          if (count === 1 << J[runIndex]) runIndex = Math.min(31, runIndex + 1);
          if (run === left) break;
        }
        if (run !== left) run += J[runIndex] > 0 ? reader.value(J[runIndex]) : 0;
        if (run > left) throw new JpegLsError('its JPEG-LS data hold a run past the end of a line (damaged data)');
        for (let r = 0; r < run; r++) current[i + r] = ra;
        x += run;
        if (x === width) break;
        const j = x + 1;
        const rbI = previous[j];
        const type = Math.abs(ra - rbI) <= near ? 1 : 0;
        const prediction = type === 1 ? ra : rbI;
        const temp = runA[type] + (type === 1 ? runN[type] >> 1 : 0);
        let k = 0;
        while (runN[type] << k < temp) k++;
        const coded = golomb(k, limit - J[runIndex] - 1);
        const mapped = coded + type;
        const map = mapped & 1;
        const magnitude = (mapped + map) >> 1;
        let error = (k !== 0 || 2 * runNn[type] >= runN[type] ? 1 : 0) === map ? -magnitude : magnitude;
        if (error < 0) runNn[type]++;
        runA[type] += (coded + 1 - type) >> 1;
        if (runN[type] === reset) {
          runA[type] >>= 1;
          runN[type] >>= 1;
          runNn[type] >>= 1;
        }
        runN[type]++;
        if (runIndex > 0) runIndex--;
        if (type === 0 && rbI < ra) error = -error;
        current[j] = reconstruct(prediction, error);
        x++;
        continue;
      }
      // Regular mode.
      let sign = 1;
      if (q1 < 0 || (q1 === 0 && (q2 < 0 || (q2 === 0 && q3 < 0)))) {
        [q1, q2, q3] = [-q1, -q2, -q3];
        sign = -1;
      }
      // 1..364: after the sign flip the first non-zero gradient is positive.
      const context = 81 * q1 + 9 * q2 + q3;
      let prediction = rc >= Math.max(ra, rb) ? Math.min(ra, rb) : rc <= Math.min(ra, rb) ? Math.max(ra, rb) : ra + rb - rc;
      prediction += sign * C[context];
      prediction = prediction < 0 ? 0 : prediction > maxVal ? maxVal : prediction;
      let k = 0;
      while (N[context] << k < A[context]) k++;
      const mapped = golomb(k, limit);
      let error = mapped & 1 ? -((mapped + 1) >> 1) : mapped >> 1;
      if (near === 0 && k === 0 && 2 * B[context] <= -N[context]) error = -error - 1;
      // Context update (T.87 A.6).
      B[context] += error * step;
      A[context] += Math.abs(error);
      if (N[context] === reset) {
        A[context] >>= 1;
        B[context] = B[context] >= 0 ? B[context] >> 1 : -((1 - B[context]) >> 1);
        N[context] >>= 1;
      }
      N[context]++;
      if (B[context] <= -N[context]) {
        B[context] += N[context];
        if (C[context] > -128) C[context]--;
        if (B[context] <= -N[context]) B[context] = -N[context] + 1;
      } else if (B[context] > 0) {
        B[context] -= N[context];
        if (C[context] < 127) C[context]++;
        if (B[context] > 0) B[context] = 0;
      }
      current[i] = reconstruct(prediction, sign * error);
      x++;
    }
    for (let x = 0; x < width; x++) out[y * width + x] = current[x + 1];
    [previous, current] = [current, previous];
  }
  reader.checkNotPastEnd();
  const bytes = new Uint8Array(out.length * bytesPerSample);
  for (let i = 0; i < out.length; i++) {
    bytes[bytesPerSample * i] = out[i] & 0xff;
    if (bytesPerSample === 2) bytes[2 * i + 1] = out[i] >> 8;
  }
  return bytes;
}
