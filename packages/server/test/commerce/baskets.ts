// The order history both the model's unit tests and the HTTP tests recommend from.

/** A goes with B (4x) and C (2x), C with D (3x), F with G; E sells alone; H never sold. */
export const BASKETS: readonly (readonly string[])[] = [
  ['A', 'B'],
  ['A', 'B'],
  ['A', 'B'],
  ['A', 'B', 'C'],
  ['A', 'C'],
  ['C', 'D'],
  ['C', 'D'],
  ['C', 'D'],
  ['F', 'G'],
  ['F', 'G'],
  ['E'],
  ['E'],
  ['E'],
  ['E'],
  ['E'],
  ['E'],
];
