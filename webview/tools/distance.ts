// The exact 1-D squared Euclidean distance transform (Felzenszwalb & Huttenlocher 2012), from
// which interpolate.ts and morphology.ts build their separable 2-D and 3-D transforms. Pure.

/**
 * out[q] = min over p of f[p] + (h (q − p))² for q < n, with sample spacing h. Samples at Infinity
 * are no sites; where every sample is Infinity, so is every result.
 */
export function squaredDistance1d(f: Float64Array, n: number, h: number, out: Float64Array): void {
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const h2 = h * h;
  const cut = (q: number, p: number): number => (f[q] + h2 * q * q - (f[p] + h2 * p * p)) / (2 * h2 * (q - p));
  let k = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    // Drop the parabolas the new one lies below everywhere they were lowest.
    let s = k >= 0 ? cut(q, v[k]) : -Infinity;
    while (k >= 0 && s <= z[k]) {
      k--;
      if (k >= 0) s = cut(q, v[k]);
    }
    k++;
    v[k] = q;
    z[k] = k === 0 ? -Infinity : s;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    out.fill(Infinity, 0, n);
    return;
  }
  for (let q = 0, j = 0; q < n; q++) {
    while (z[j + 1] < q) j++;
    const d = (q - v[j]) * h;
    out[q] = d * d + f[v[j]];
  }
}
