// Removal of small islands: connected components (6-connectivity, per label value) with fewer
// than N voxels. Pure.

export interface IslandOptions {
  dims: readonly [number, number, number];
  /** Components with fewer voxels than this are islands. */
  minVoxels: number;
  /** Only this label value, or null for every non-zero label. */
  label: number | null;
}

/** Linear indices of every voxel in an island (ascending). */
export function smallIslandVoxels(labels: ArrayLike<number>, o: IslandOptions): Uint32Array {
  const [nx, ny, nz] = o.dims;
  const n = nx * ny * nz;
  if (labels.length !== n) throw new Error(`remove islands: labels have ${labels.length} values, expected ${n}`);
  if (!Number.isInteger(o.minVoxels) || o.minVoxels < 1) throw new Error(`remove islands: minVoxels must be a positive integer, got ${o.minVoxels}`);
  const nxy = nx * ny;
  const seen = new Uint8Array(n);
  const out: number[] = [];
  const stack: number[] = [];
  const comp: number[] = [];
  for (let start = 0; start < n; start++) {
    const value = labels[start];
    if (value === 0 || seen[start] || (o.label !== null && value !== o.label)) continue;
    comp.length = 0;
    stack.push(start);
    seen[start] = 1;
    while (stack.length > 0) {
      const idx = stack.pop() as number;
      comp.push(idx);
      const i = idx % nx;
      const j = Math.floor(idx / nx) % ny;
      const k = Math.floor(idx / nxy);
      if (i > 0 && !seen[idx - 1] && labels[idx - 1] === value) {
        seen[idx - 1] = 1;
        stack.push(idx - 1);
      }
      if (i < nx - 1 && !seen[idx + 1] && labels[idx + 1] === value) {
        seen[idx + 1] = 1;
        stack.push(idx + 1);
      }
      if (j > 0 && !seen[idx - nx] && labels[idx - nx] === value) {
        seen[idx - nx] = 1;
        stack.push(idx - nx);
      }
      if (j < ny - 1 && !seen[idx + nx] && labels[idx + nx] === value) {
        seen[idx + nx] = 1;
        stack.push(idx + nx);
      }
      if (k > 0 && !seen[idx - nxy] && labels[idx - nxy] === value) {
        seen[idx - nxy] = 1;
        stack.push(idx - nxy);
      }
      if (k < nz - 1 && !seen[idx + nxy] && labels[idx + nxy] === value) {
        seen[idx + nxy] = 1;
        stack.push(idx + nxy);
      }
    }
    if (comp.length < o.minVoxels) for (const idx of comp) out.push(idx);
  }
  return Uint32Array.from(out).sort();
}
