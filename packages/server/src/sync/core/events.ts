// Which events a push records: pure, so the rule is one function over the push's outcome.
import type { Mutation, MutationResult } from '@omnikit/protocol';

export type PushEvent = {
  kind: 'view' | 'add_to_cart';
  sku: string;
  qty: number | null;
  at: number;
};

/** The events a push feeds recommendations with: views and positive cart additions. */
export function eventsOf(
  mutations: readonly Mutation[],
  results: readonly MutationResult[],
  now: number,
): PushEvent[] {
  const events: PushEvent[] = [];
  mutations.forEach((m, i) => {
    if (results[i]?.status !== 'applied') return;
    // Client clocks can be wrong: never record an event in the server's future.
    const at = Math.floor(Math.min(m.at, now));
    if (m.name === 'viewed.add') events.push({ kind: 'view', sku: m.args.sku, qty: null, at });
    if (m.name === 'cart.add' && m.args.qty > 0) {
      events.push({ kind: 'add_to_cart', sku: m.args.sku, qty: m.args.qty, at });
    }
  });
  return events;
}
