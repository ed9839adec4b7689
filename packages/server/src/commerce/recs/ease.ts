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
 * Rows per block of the three passes. Each pass streams earlier rows once per row it computes;
 * computing a block of rows together reads each streamed row once per block instead, while the
 * block (`BLOCK` rows of n doubles) stays in cache. At n = 1,600 (20 MB) unblocked passes were
 * memory-bound: 16 s against 0.8 s at n = 800, 20 times the time for 8 times the work.
 */
const BLOCK = 32;

/**
 * The EASE^R weights of a Gram matrix, as a generator that yields after every row or streamed
 * row of each of its three O(n³) passes. `gram` is consumed (overwritten). Returns B,
 * row-major, diagonal zero. `block` (rows computed together) changes speed only: every sum is
 * taken in the same order whatever the block, so the weights are bit-identical.
 */
export function* easeSolver(
  gram: Float64Array,
  n: number,
  lambda: number,
  block = BLOCK,
): Generator<void, Float32Array> {
  if (gram.length !== n * n) throw new RangeError('gram must be n×n');
  if (!(lambda > 0)) throw new RangeError('lambda must be positive');
  if (!(Number.isInteger(block) && block > 0))
    throw new RangeError('block must be a positive integer');
  const a = gram;
  for (let i = 0; i < n; i++) a[i * n + i]! += lambda;

  // 1. Cholesky A = L·Lᵀ, L into the lower triangle: L[i,j] = (A[i,j] - L[i,:j]·L[j,:j]) / L[j,j].
  // Rows in blocks: the columns left of the block (rows of L already final) first, each such
  // row read once for the whole block, then the block's own triangle row by row.
  for (let i0 = 0; i0 < n; i0 += block) {
    const i1 = Math.min(n, i0 + block);
    for (let j = 0; j < i0; j++) {
      const rj = j * n;
      for (let i = i0; i < i1; i++) {
        const ri = i * n;
        a[ri + j] = (a[ri + j]! - dot(a, ri, rj, j)) / a[rj + j]!;
      }
      yield;
    }
    for (let i = i0; i < i1; i++) {
      const ri = i * n;
      for (let j = i0; j <= i; j++) {
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
  }

  // 2. M = L⁻¹ in place: M[i,:] = (e_i - Σ_{k<i} L[i,k]·M[k,:]) / L[i,i], as contiguous row
  // updates, k ascending. The block's rows of L are copied out first, since M overwrites them;
  // then each final row k of M left of the block is read once for the whole block.
  const l = new Float64Array(block * n);
  for (let i0 = 0; i0 < n; i0 += block) {
    const i1 = Math.min(n, i0 + block);
    for (let i = i0; i < i1; i++) {
      const ri = i * n;
      const li = (i - i0) * n;
      for (let k = 0; k <= i; k++) l[li + k] = a[ri + k]!;
      a.fill(0, ri, ri + i + 1);
      a[ri + i] = 1;
    }
    for (let k = 0; k < i0; k++) {
      for (let i = i0; i < i1; i++) {
        const c = l[(i - i0) * n + k]!;
        if (c !== 0) axpy(a, i * n, k * n, k + 1, -c);
      }
      yield;
    }
    for (let i = i0; i < i1; i++) {
      const ri = i * n;
      const li = (i - i0) * n;
      for (let k = i0; k < i; k++) {
        const c = l[li + k]!;
        if (c !== 0) axpy(a, ri, k * n, k + 1, -c);
      }
      const d = 1 / l[li + i]!;
      for (let j = 0; j <= i; j++) a[ri + j]! *= d;
      yield;
    }
  }

  // 3. P = Mᵀ·M, its strict upper triangle into A's (free) upper triangle and its diagonal
  // apart: P[i,i+1..k] += M[k,i]·M[k,i+1..k] for every row k of M, k ascending. Rows of M in
  // blocks: each row i of P is then read once per block rather than once per row of M.
  for (let i = 0; i < n; i++) a.fill(0, i * n + i + 1, (i + 1) * n);
  const diag = new Float64Array(n);
  for (let k0 = 0; k0 < n; k0 += block) {
    const k1 = Math.min(n, k0 + block);
    for (let i = 0; i < k1; i++) {
      const ri = i * n;
      for (let k = Math.max(k0, i); k < k1; k++) {
        const rk = k * n;
        const c = a[rk + i]!;
        if (c === 0) continue;
        diag[i]! += c * c;
        axpy(a, ri + i + 1, rk + i + 1, k - i, c);
      }
      yield;
    }
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
      // An unref'd timer, not an unref'd immediate: Node runs unref'd immediates only when
      // something else wakes the loop, so an idle server's rebuild stalled until its next
      // request. An unref'd timer still bounds the loop's wait (and still lets it exit).
      await new Promise<void>((resolve) => setTimeout(resolve, 0).unref());
      sliceStart = performance.now();
    }
  }
}
