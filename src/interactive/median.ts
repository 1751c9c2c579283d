// The median of a list of numbers in linear time (the contrast region takes dozens per click, the star a few).

/** The median (mean of the two middle values for an even count), by quickselect: O(n). */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  const a = Float64Array.from(values);
  const m = a.length >> 1;
  const upper = select(a, m);
  return a.length % 2 ? upper : (upper + maxBelow(a, m)) / 2;
}

/** Rearranges `a` so that a[k] is its k-th smallest value, smaller ones before it; returns a[k]. */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

/** The largest of a[0..k) (after `select(a, k)`, the (k−1)-th smallest). */
function maxBelow(a: Float64Array, k: number): number {
  let m = -Infinity;
  for (let i = 0; i < k; i++) if (a[i] > m) m = a[i];
  return m;
}
