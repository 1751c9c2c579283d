// JPEG Lossless (ITU-T T.81 Annex H, "process 14"), the compression most PACS and CD exports use for
// CT and MR without loss: DICOM transfer syntaxes 1.2.840.10008.1.2.4.57 (any predictor) and .70
// (first-order predictor, selection value 1). Huffman-coded differences from a predictor of the
// left, upper and upper-left samples, 2 to 16 bits, restart intervals and a point transform; one
// component (grey scale). The marker, Huffman table and bit reader parts are shared with the
// sequential DCT decoder (jpegBaseline.ts).

/** A JPEG stream this decoder cannot read; the message says why. */
export class JpegError extends Error {
  override name = 'JpegError';
}

/** A Huffman table of T.81 Annex C, as decoding (F.2.2.3) uses it. */
export interface HuffmanTable {
  /** For each code length 1..16: the largest code of that length (−1: none), and where its values start. */
  maxCode: Int32Array;
  valueStart: Int32Array;
  minCode: Int32Array;
  values: Uint8Array;
  /** Codes of up to 8 bits by their 8-bit prefix: (length << 8) | value, 0 when longer. */
  fast: Uint16Array;
}

/** The table of a DHT segment: `counts` of codes of each length 1..16, and their `values`. */
export function huffmanTable(counts: Uint8Array, values: Uint8Array): HuffmanTable {
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

/** What the markers of a JPEG stream define before its first scan (SOS). */
export interface JpegHeader {
  /** The frame's SOFn marker (0xFFC0 + n); 0 when no frame header came before the scan. */
  frameMarker: number;
  precision: number;
  width: number;
  height: number;
  /** The frame's (first) component: its identifier and quantization table selector. */
  componentId: number;
  quantizationTable: number;
  /** Huffman tables by destination: DC (and lossless) tables, AC tables. */
  dcTables: (HuffmanTable | undefined)[];
  acTables: (HuffmanTable | undefined)[];
  /** Quantization tables by destination, their 64 values in zig-zag order. */
  quantizationTables: (Uint16Array | undefined)[];
  restartInterval: number;
  /** Where the SOS segment's parameters (Ns, ...) start, and where its entropy-coded data start. */
  scan: number;
  entropyStart: number;
}

/**
 * Reads the markers of a JPEG stream from SOI to its first scan. `checkFrame` is shown each frame
 * header's SOF marker and number of components, and throws for a frame its decoder does not read.
 * @throws JpegError for a stream without SOI, or one that ends before a scan.
 */
export function readJpegHeader(data: Uint8Array, checkFrame: (marker: number, components: number) => void): JpegHeader {
  const u16 = (at: number): number => (data[at] << 8) | data[at + 1];
  if (u16(0) !== 0xffd8) throw new JpegError('its JPEG frame does not start with an SOI marker');
  const header: JpegHeader = { frameMarker: 0, precision: 0, width: 0, height: 0, componentId: 0, quantizationTable: 0, dcTables: [], acTables: [], quantizationTables: [], restartInterval: 0, scan: 0, entropyStart: 0 };
  let pos = 2;
  for (;;) {
    if (pos + 4 > data.length) throw new JpegError('its JPEG frame ends before the scan');
    // Fill bytes (0xFF) may precede a marker.
    while (data[pos] === 0xff && data[pos + 1] === 0xff) pos++;
    const marker = u16(pos);
    const length = u16(pos + 2);
    const body = pos + 4;
    const end = pos + 2 + length;
    if ((marker & 0xff00) !== 0xff00) throw new JpegError(`its JPEG frame holds ${marker.toString(16)} where a marker should be`);
    if (marker >= 0xffc0 && marker <= 0xffcf && marker !== 0xffc4 && marker !== 0xffc8 && marker !== 0xffcc) {
      checkFrame(marker, data[body + 5]);
      header.frameMarker = marker;
      header.precision = data[body];
      header.height = u16(body + 1);
      header.width = u16(body + 3);
      header.componentId = data[body + 6];
      header.quantizationTable = data[body + 8] & 0x0f;
    } else if (marker === 0xffc4) {
      for (let at = body; at < end; ) {
        const id = data[at] & 0x0f;
        const counts = data.subarray(at + 1, at + 17);
        const total = counts.reduce((n, c) => n + c, 0);
        (data[at] >> 4 === 0 ? header.dcTables : header.acTables)[id] = huffmanTable(counts, data.subarray(at + 17, at + 17 + total));
        at += 17 + total;
      }
    } else if (marker === 0xffdb) {
      for (let at = body; at < end; ) {
        // 8-bit (Pq 0) or 16-bit (Pq 1) values.
        const wide = data[at] >> 4 !== 0;
        const table = new Uint16Array(64);
        for (let k = 0; k < 64; k++) table[k] = wide ? u16(at + 1 + 2 * k) : data[at + 1 + k];
        header.quantizationTables[data[at] & 0x0f] = table;
        at += 1 + (wide ? 128 : 64);
      }
    } else if (marker === 0xffdd) {
      header.restartInterval = u16(body);
    } else if (marker === 0xffda) {
      header.scan = body;
      header.entropyStart = end;
      return header;
    } else if (marker === 0xffd9) {
      throw new JpegError('its JPEG frame ends (EOI) before a scan');
    }
    pos = end;
  }
}

/**
 * Reads the entropy-coded data of a scan, from `pos`: 0xFF00 is a stuffed 0xFF; other markers
 * end a segment (a restart interval, or the scan).
 */
export class JpegBitReader {
  private bits = 0;
  private count = 0;
  // Bytes shifted in past the segment's end (at a marker or the end of the data): reading into
  // them means the data stopped before the image did.
  private phantom = 0;

  constructor(
    private readonly data: Uint8Array,
    /** The next byte to read; at most 4 bytes past the bits used, never past a marker. */
    public pos: number,
  ) {}

  private fill(): void {
    const data = this.data;
    while (this.count <= 24) {
      let byte = 0;
      if (this.pos < data.length && data[this.pos] !== 0xff) byte = data[this.pos++];
      else if (this.pos + 1 < data.length && data[this.pos] === 0xff && data[this.pos + 1] === 0x00) {
        byte = 0xff;
        this.pos += 2;
      } else this.phantom++;
      this.bits = ((this.bits << 8) | byte) >>> 0;
      this.count += 8;
    }
  }

  /** @throws JpegError when the bits used so far ran past the segment's end. */
  checkNotPastEnd(): void {
    if (this.phantom * 8 > this.count) throw new JpegError('its JPEG data end before the image does (truncated or damaged)');
  }

  /** The next Huffman-coded value. */
  decode(table: HuffmanTable): number {
    this.fill();
    const fast = table.fast[(this.bits >>> (this.count - 8)) & 0xff];
    if (fast !== 0) {
      this.count -= fast >> 8;
      return fast & 0xff;
    }
    let code = 0;
    for (let length = 1; length <= 16; length++) {
      code = (code << 1) | ((this.bits >>> (this.count - 1)) & 1);
      this.count--;
      if (table.maxCode[length] >= 0 && code <= table.maxCode[length] && code >= table.minCode[length]) return table.values[table.valueStart[length] + code - table.minCode[length]];
    }
    throw new JpegError('its JPEG data hold a Huffman code the table does not define (damaged data)');
  }

  /** The next `n` (0 to 16) bits. */
  receive(n: number): number {
    this.fill();
    this.count -= n;
    return (this.bits >>> this.count) & ((1 << n) - 1);
  }

  /** The next `n` (0 to 16) bits as a signed value of magnitude category `n` (T.81 F.2.2.1, EXTEND). */
  receiveExtend(n: number): number {
    if (n === 0) return 0;
    const v = this.receive(n);
    return v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
  }

  /** Skips to the next RSTn marker and past it, at the end of a restart interval. */
  restart(): void {
    this.checkNotPastEnd();
    this.phantom = 0;
    this.count = 0;
    this.bits = 0;
    const data = this.data;
    while (this.pos + 1 < data.length && !(data[this.pos] === 0xff && data[this.pos + 1] >= 0xd0 && data[this.pos + 1] <= 0xd7)) this.pos++;
    this.pos += 2;
  }
}

/**
 * Decodes one JPEG Lossless image of one component into `samples` values, little-endian, of
 * `bytesPerSample` (1 or 2) bytes each.
 * @throws JpegError for a stream that is not process 14 grey scale, is truncated or is damaged.
 */
export function decodeJpegLossless(data: Uint8Array, samples: number, bytesPerSample: number): Uint8Array {
  const header = readJpegHeader(data, (marker, components) => {
    if (marker !== 0xffc3) throw new JpegError(`its JPEG frame is not lossless (SOF marker ${marker.toString(16).toUpperCase()}; only SOF3, process 14, is read)`);
    if (components !== 1) throw new JpegError(`its JPEG frame has ${components} components; grey-scale images (1) are read`);
  });
  const { precision, width, height, restartInterval, scan } = header;
  const selection = data[scan + 3];
  // Lossless frames have DC tables only (T.81 H.2.2).
  const table = header.dcTables[data[scan + 2] >> 4] ?? header.acTables[data[scan + 2] >> 4];
  const pointTransform = data[scan + 5] & 0x0f;
  if (data[scan] !== 1) throw new JpegError(`its JPEG scan has ${data[scan]} components; 1 is read`);
  if (!table) throw new JpegError('its JPEG scan uses a Huffman table the frame does not define');
  if (precision < 2 || precision > 16 || width * height !== samples) throw new JpegError(`its JPEG frame is ${width}×${height} of ${precision} bits, but the DICOM header asks for ${samples} samples`);
  return decodeScan(data, header.entropyStart, { width, height, precision, selection, pointTransform, restartInterval, table }, bytesPerSample);
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
  const reader = new JpegBitReader(data, start);

  const out = new Uint16Array(width * height);
  const mask = (1 << precision) - 1;
  const initial = 1 << (precision - pointTransform - 1);
  let sinceRestart = 0;
  let restartLine = 0; // the first line of the current restart interval
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (restartInterval > 0 && sinceRestart === restartInterval) {
        // Skip to the RSTn marker, then start over as at the top of the image.
        reader.restart();
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
      const size = reader.decode(table);
      let difference = 0;
      if (size === 16) difference = 32768;
      else if (size > 0) {
        difference = reader.receiveExtend(size);
      }
      out[i] = (prediction + difference) & mask;
      sinceRestart++;
    }
  }
  reader.checkNotPastEnd();
  const bytes = new Uint8Array(width * height * bytesPerSample);
  for (let i = 0; i < out.length; i++) {
    const v = out[i] << pointTransform;
    bytes[bytesPerSample * i] = v & 0xff;
    if (bytesPerSample === 2) bytes[2 * i + 1] = v >> 8;
  }
  return bytes;
}
