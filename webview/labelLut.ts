// The label colour lookup texture: 256×256 RGBA, indexed by label value (16-bit labels address
// rows). Hidden labels get alpha 0; labels missing from the table keep their default colour.
import type { DataTexture } from 'three';
import type { LabelTableEntry } from '../src/protocol/messages';
import { defaultLabelColor } from './colormaps';
import { createLutTexture } from './textures';

const LUT_SIZE = 256 * 256;

/** Fills `bytes` (LUT_SIZE × RGBA) from the label table. Pure. */
export function fillLabelLut(bytes: Uint8Array, table: readonly LabelTableEntry[]): void {
  bytes.fill(0);
  const inTable = new Set(table.map((e) => e.value));
  for (let v = 1; v < LUT_SIZE; v++) {
    // Labels missing from the table still show, in their default colour (8-bit values always).
    if (v > 255 && !inTable.has(v)) continue;
    const [r, g, b] = defaultLabelColor(v);
    bytes.set([r, g, b, 255], v * 4);
  }
  for (const e of table) {
    if (e.value <= 0 || e.value >= LUT_SIZE) continue;
    bytes.set([e.color[0], e.color[1], e.color[2], e.visible ? 255 : 0], e.value * 4);
  }
}

/** The lookup texture and its bytes. */
export class LabelLut {
  private readonly bytes = new Uint8Array(LUT_SIZE * 4);
  readonly texture: DataTexture = createLutTexture(this.bytes, 256);

  update(table: readonly LabelTableEntry[]): void {
    fillLabelLut(this.bytes, table);
    this.texture.needsUpdate = true;
  }

  dispose(): void {
    this.texture.dispose();
  }
}
