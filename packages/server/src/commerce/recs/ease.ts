// EASE^R (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): one dense
// item-item weight matrix in closed form, B = I - P·diagMat(1/diag(P)), P = (XᵀX + λI)⁻¹, with
// a zero diagonal. A profile x scores every item at once: s = x·B.
//
// The cost is O(n³) time and 12·n² bytes at the peak (the Gram matrix in place, then B), so the
// caller bounds n. XᵀX + λI is symmetric positive definite, so the inverse goes through a
// Cholesky factor, one row at a time over contiguous Float64Array rows (cache-friendly), and the
// solver is a generator that yields after every row: a server drives it in slices between
// requests (`easeWeightsAsync`) so serving never waits for a rebuild.

/** Dense XᵀX (n×n, row-major) of binary rows: each set lists distinct item positions < n. */
export function gramFromSets(sets: Iterable<readonly number[]>, n: number): Float64Array {
  const g = new Float64Array(n * n);
  for (const set of sets) {
    for (const i of set) {
      const row = i * n;
      for (const j of set) g[row + j]! += 1;
    }
  }
  return g;
}

/**
 * The EASE^R weights of a Gram matrix, as a generator that yields once per row of each of its
 * three O(n³) passes. `gram` is consumed (overwritten). Returns B, row-major, diagonal zero.
 */
export function* easeSolver(
  gram: Float64Array,
  n: number,
  lambda: number,
): Generator<void, Float32Array> {
  if (gram.length !== n * n) throw new RangeError('gram must be n×n');
  if (!(lambda > 0)) throw new RangeError('lambda must be positive');
  const a = gram;
  for (let i = 0; i < n; i++) a[i * n + i]! += lambda;

  // 1. Cholesky A = L·Lᵀ, L into the lower triangle (row i only reads rows before it).
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      const s = a[ri + j]! - dot(a, ri, rj, j);
      if (j < i) a[ri + j] = s / a[rj + j]!;
      else {
        // Only rounding can make a pivot of an SPD matrix non-positive; λ > 0 keeps it away.
        if (!(s > 0)) throw new RangeError('matrix is not positive definite');
        a[ri + i] = Math.sqrt(s);
      }
    }
    yield;
  }

  // 2. M = L⁻¹ in place, row by row: M[i,:] = (e_i - Σ_{k<i} L[i,k]·M[k,:]) / L[i,i], as
  // contiguous row updates. Row i of L is copied out first since M[i,:] overwrites it.
  const li = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let k = 0; k <= i; k++) li[k] = a[ri + k]!;
    for (let k = 0; k <= i; k++) a[ri + k] = 0;
    a[ri + i] = 1;
    for (let k = 0; k < i; k++) {
      const c = li[k]!;
      if (c === 0) continue;
      axpy(a, ri, k * n, k + 1, -c);
    }
    const d = 1 / li[i]!;
    for (let j = 0; j <= i; j++) a[ri + j]! *= d;
    yield;
  }

  // 3. P = Mᵀ·M, its strict upper triangle into A's (free) upper triangle and its diagonal
  // apart: a sum of rank-one updates, one per row k of M, again over contiguous rows.
  for (let i = 0; i < n; i++) a.fill(0, i * n + i + 1, (i + 1) * n);
  const diag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let i = 0; i <= k; i++) {
      const c = a[rk + i]!;
      if (c === 0) continue;
      diag[i]! += c * c;
      axpy(a, i * n + i + 1, rk + i + 1, k - i, c);
    }
    yield;
  }

  // B[i,j] = -P[i,j] / P[j,j] off the diagonal, 0 on it.
  const b = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = i + 1; j < n; j++) {
      const p = a[ri + j]!;
      b[ri + j] = -p / diag[j]!;
      b[j * n + i] = -p / diag[i]!;
    }
  }
  return b;
}

// The two kernels, unrolled by four with independent accumulators: about twice as fast as the
// plain loops in V8, and where the whole O(n³) goes.

/** Σ a[x+k]·a[y+k] for k < len. */
function dot(a: Float64Array, x: number, y: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += a[x + k]! * a[y + k]!;
    s1 += a[x + k + 1]! * a[y + k + 1]!;
    s2 += a[x + k + 2]! * a[y + k + 2]!;
    s3 += a[x + k + 3]! * a[y + k + 3]!;
  }
  for (; k < len; k++) s0 += a[x + k]! * a[y + k]!;
  return s0 + s1 + s2 + s3;
}

/** a[dst+k] += c·a[src+k] for k < len (the ranges never overlap here). */
function axpy(a: Float64Array, dst: number, src: number, len: number, c: number): void {
  let k = 0;
  for (; k + 3 < len; k += 4) {
    a[dst + k]! += c * a[src + k]!;
    a[dst + k + 1]! += c * a[src + k + 1]!;
    a[dst + k + 2]! += c * a[src + k + 2]!;
    a[dst + k + 3]! += c * a[src + k + 3]!;
  }
  for (; k < len; k++) a[dst + k]! += c * a[src + k]!;
}

/** Runs the solver to the end at once (offline evaluation, benches). */
export function easeWeights(gram: Float64Array, n: number, lambda: number): Float32Array {
  const solver = easeSolver(gram, n, lambda);
  for (;;) {
    const step = solver.next();
    if (step.done) return step.value;
  }
}

/**
 * Runs the solver in slices of about `sliceMs`, giving the event loop a turn between slices, so
 * requests keep being served while a model rebuilds. A background rebuild never keeps the
 * process alive on its own: with nothing else left to do it exits and the build is dropped.
 */
export async function easeWeightsAsync(
  gram: Float64Array,
  n: number,
  lambda: number,
  sliceMs = 2,
): Promise<Float32Array> {
  const solver = easeSolver(gram, n, lambda);
  let sliceStart = performance.now();
  for (;;) {
    const step = solver.next();
    if (step.done) return step.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve).unref());
      sliceStart = performance.now();
    }
  }
}
