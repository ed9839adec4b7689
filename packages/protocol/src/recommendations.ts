/**
 * The recommendation strategies, in the order a 400 lists them. The server's route, its model
 * and every client read this one list.
 */
export const STRATEGIES = [
  'also-bought',
  'also-viewed',
  'trending',
  'personalized',
  'recently-viewed',
] as const;

export type Strategy = (typeof STRATEGIES)[number];

/** True for a strategy name this protocol knows. */
export function isStrategy(value: unknown): value is Strategy {
  return (STRATEGIES as readonly unknown[]).includes(value);
}
