// A profile state carried over from a lost device, rebuilt through the shared reducers.
import { reduce, withOptions, type Mutation, type ProfileState } from '@omnikit/protocol';

/**
 * A carried-over state rebuilt through the reducers, as if its changes had been pushed: lines
 * with one key merged (and capped), views deduplicated newest first, no time after `now`. The
 * validator checks shapes and limits; this gives the invariants the reducers keep.
 */
export function rebuiltState(state: ProfileState, now: number): ProfileState {
  const at = (t: number) => Math.min(t, now);
  const changes = [
    ...state.viewed
      .map((v) => ({ name: 'viewed.add', args: { sku: v.sku }, at: at(v.at) }))
      .reverse(),
    ...state.cart.lines.map((l) => ({
      name: 'cart.add',
      args: withOptions({ sku: l.sku, qty: l.qty }, l.options),
      at: at(l.addedAt),
    })),
    { name: 'cart.setPickupStore', args: { storeId: state.cart.pickupStore }, at: now },
    ...Object.entries(state.prefs).map(([key, value]) => ({
      name: 'prefs.set',
      args: { key, value },
      at: now,
    })),
  ];
  return reduce(changes.map((c, i) => ({ ...c, seq: i + 1 }) as Mutation));
}
