// JPEG Lossless (ITU-T T.81 Annex H, "process 14"), the compression most PACS and CD exports use for
// CT and MR without loss: DICOM transfer syntaxes 1.2.840.10008.1.2.4.57 (any predictor) and .70
// (first-order predictor, selection value 1). Huffman-coded differences from a predictor of the
// left, upper and upper-left samples, 2 to 16 bits, restart intervals and a point transform; one
// component (grey scale).

/** A JPEG stream this decoder cannot read; the message says why. */
export class JpegError extends Error {
  override name = 'JpegError';
}

interface HuffmanTable {
  /** For each code length 1..16: the largest code of that length (−1: none), and where its values start. */
  maxCode: Int32Array;
  valueStart: Int32Array;
  minCode: Int32Array;
  values: Uint8Array;
  /** Codes of up to 8 bits by their 8-bit prefix: (length << 8) | value, 0 when longer. */
  fast: Uint16Array;
}

function huffmanTable(counts: Uint8Array, values: Uint8Array): HuffmanTable {
  const maxCode = new Int32Array(18).fill(-1);
  const minCode = new Int32Array(17);
  const valueStart = new Int32Array(17);
  const fast = new Uint16Array(256);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    valueStart[length] = k;
    minCode[length] = code;
    for (let i = 0; i < counts[length - 1]; i++) {
      if (length <= 8) {
        // Every 8-bit prefix that starts with this code decodes to it.
        const first = code << (8 - length);
        for (let p = 0; p < 1 << (8 - length); p++) fast[first + p] = (length << 8) | values[k];
      }
      code++;
      k++;
    }
    maxCode[length] = counts[length - 1] > 0 ? code - 1 : -1;
    code <<= 1;
  }
  return { maxCode, minCode, valueStart, values, fast };
}

/**
 * Decodes one JPEG Lossless image of one component into `samples` values, little-endian, of
 * `bytesPerSample` (1 or 2) bytes each.
 * @throws JpegError for a stream that is not process 14 grey scale, is truncated or is damaged.
 */
export function decodeJpegLossless(data: Uint8Array, samples: number, bytesPerSample: number): Uint8Array {
  const u16 = (at: number): number => (data[at] << 8) | data[at + 1];
  if (u16(0) !== 0xffd8) throw new JpegError('its JPEG frame does not start with an SOI marker');
  let pos = 2;
  const tables: (HuffmanTable | undefined)[] = [];
  let precision = 0;
  let width = 0;
  let height = 0;
  let restartInterval = 0;
  for (;;) {
    if (pos + 4 > data.length) throw new JpegError('its JPEG frame ends before the scan');
    // Fill bytes (0xFF) may precede a marker.
    while (data[pos] === 0xff && data[pos + 1] === 0xff) pos++;
    const marker = u16(pos);
    const length = u16(pos + 2);
    const body = pos + 4;
    if ((marker & 0xff00) !== 0xff00) throw new JpegError(`its JPEG frame holds ${marker.toString(16)} where a marker should be`);
    if (marker === 0xffc3) {
      precision = data[body];
      height = u16(body + 1);
      width = u16(body + 3);
      if (data[body + 5] !== 1) throw new JpegError(`its JPEG frame has ${data[body + 5]} components; grey-scale images (1) are read`);
    } else if (marker >= 0xffc0 && marker <= 0xffcf && marker !== 0xffc4 && marker !== 0xffc8 && marker !== 0xffcc) {
      throw new JpegError(`its JPEG frame is not lossless (SOF marker ${marker.toString(16).toUpperCase()}; only SOF3, process 14, is read)`);
    } else if (marker === 0xffc4) {
      for (let at = body; at < pos + 2 + length; ) {
        const id = data[at] & 0x0f;
        const counts = data.subarray(at + 1, at + 17);
        const total = counts.reduce((n, c) => n + c, 0);
        tables[id] = huffmanTable(counts, data.subarray(at + 17, at + 17 + total));
        at += 17 + total;
      }
    } else if (marker === 0xffdd) {
      restartInterval = u16(body);
    } else if (marker === 0xffda) {
      const selection = data[body + 3];
      const table = tables[data[body + 2] >> 4];
      const pointTransform = data[body + 5] & 0x0f;
      if (data[body] !== 1) throw new JpegError(`its JPEG scan has ${data[body]} components; 1 is read`);
      if (!table) throw new JpegError('its JPEG scan uses a Huffman table the frame does not define');
      if (precision < 2 || precision > 16 || width * height !== samples) throw new JpegError(`its JPEG frame is ${width}×${height} of ${precision} bits, but the DICOM header asks for ${samples} samples`);
      return decodeScan(data, pos + 2 + length, { width, height, precision, selection, pointTransform, restartInterval, table }, bytesPerSample);
    } else if (marker === 0xffd9) {
      throw new JpegError('its JPEG frame ends (EOI) before a scan');
    }
    pos += 2 + length;
  }
}

interface ScanParameters {
  width: number;
  height: number;
  precision: number;
  selection: number;
  pointTransform: number;
  restartInterval: number;
  table: HuffmanTable;
}

function decodeScan(data: Uint8Array, start: number, p: ScanParameters, bytesPerSample: number): Uint8Array {
  const { width, height, precision, selection, pointTransform, restartInterval, table } = p;
  if (selection < 1 || selection > 7) throw new JpegError(`its JPEG predictor (selection value ${selection}) is not one of 1 to 7`);
  // Bit reader over the entropy-coded data: 0xFF00 is a stuffed 0xFF; other markers end a segment.
  let pos = start;
  let bits = 0;
  let count = 0;
  // Bytes shifted in past the segment's end (at a marker or the end of the data): reading into
  // them means the data stopped before the image did.
  let phantom = 0;
  const fill = (): void => {
    while (count <= 24) {
      let byte = 0;
      if (pos < data.length && data[pos] !== 0xff) byte = data[pos++];
      else if (pos + 1 < data.length && data[pos] === 0xff && data[pos + 1] === 0x00) {
        byte = 0xff;
        pos += 2;
      } else phantom++;
      bits = ((bits << 8) | byte) >>> 0;
      count += 8;
    }
  };
  const checkNotPastEnd = (): void => {
    if (phantom * 8 > count) throw new JpegError('its JPEG data end before the image does (truncated or damaged)');
  };
  const decodeSymbol = (): number => {
    fill();
    const fast = table.fast[(bits >>> (count - 8)) & 0xff];
    if (fast !== 0) {
      count -= fast >> 8;
      return fast & 0xff;
    }
    let code = 0;
    for (let length = 1; length <= 16; length++) {
      code = (code << 1) | ((bits >>> (count - 1)) & 1);
      count--;
      if (table.maxCode[length] >= 0 && code <= table.maxCode[length] && code >= table.minCode[length]) return table.values[table.valueStart[length] + code - table.minCode[length]];
    }
    throw new JpegError('its JPEG data hold a Huffman code the table does not define (damaged data)');
  };
  const receive = (n: number): number => {
    fill();
    count -= n;
    return (bits >>> count) & ((1 << n) - 1);
  };

  const out = new Uint16Array(width * height);
  const mask = (1 << precision) - 1;
  const initial = 1 << (precision - pointTransform - 1);
  let sinceRestart = 0;
  let restartLine = 0; // the first line of the current restart interval
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (restartInterval > 0 && sinceRestart === restartInterval) {
        // Skip to the RSTn marker, then start over as at the top of the image.
        checkNotPastEnd();
        phantom = 0;
        count = 0;
        bits = 0;
        while (pos + 1 < data.length && !(data[pos] === 0xff && data[pos + 1] >= 0xd0 && data[pos + 1] <= 0xd7)) pos++;
        pos += 2;
        sinceRestart = 0;
        restartLine = x === 0 ? y : y + 1;
      }
      const i = y * width + x;
      let prediction: number;
      if (y === restartLine && x === 0) prediction = initial;
      else if (y === restartLine) prediction = out[i - 1];
      else if (x === 0) prediction = out[i - width];
      else {
        const a = out[i - 1];
        const b = out[i - width];
        const c = out[i - width - 1];
        prediction = selection === 1 ? a : selection === 2 ? b : selection === 3 ? c : selection === 4 ? a + b - c : selection === 5 ? a + ((b - c) >> 1) : selection === 6 ? b + ((a - c) >> 1) : (a + b) >> 1;
      }
      const size = decodeSymbol();
      let difference = 0;
      if (size === 16) difference = 32768;
      else if (size > 0) {
        difference = receive(size);
        if (difference < 1 << (size - 1)) difference -= (1 << size) - 1;
      }
      out[i] = (prediction + difference) & mask;
      sinceRestart++;
    }
  }
  checkNotPastEnd();
  const bytes = new Uint8Array(width * height * bytesPerSample);
  for (let i = 0; i < out.length; i++) {
    const v = out[i] << pointTransform;
    bytes[bytesPerSample * i] = v & 0xff;
    if (bytesPerSample === 2) bytes[2 * i + 1] = v >> 8;
  }
  return bytes;
}
