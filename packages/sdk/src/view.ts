// The local view and its observers: the state a page reads (cart, viewed, identity, status),
// rebuilt from the base snapshot (setBase) and the changes not yet acknowledged, and the two
// ways to hear about it: `subscribe` (a selected part of the state) and `on` (typed events).
import { emptyState, rebase, type Mutation } from '@omnikit/protocol';
import { behind, safely, same, withTimeout, type Core } from './core.js';
import type {
  CartState,
  ClientEvent,
  ClientEventMap,
  ClientState,
  IdentityState,
  LineView,
} from './types.js';

/** Fills in the view part of `c`; returns the public `subscribe` and `on`. */
export function view(c: Core) {
  const listeners = new Map<ClientEvent, Set<(detail: never) => void>>();

  c.emit = (type, detail) =>
    listeners.get(type)?.forEach((l) => safely(() => (l as (d: typeof detail) => void)(detail)));

  function build(): ClientState {
    const { device, base, status, state } = c;
    const lines = c.v.cart.lines.map((l): LineView => {
      const price = c.prices[l.sku];
      return price === undefined ? l : { ...l, price };
    });
    const cart: CartState = {
      lines,
      count: lines.reduce((n, l) => n + l.qty, 0),
      subtotal: lines.reduce((n, l) => n + l.qty * (l.price ?? 0), 0),
      currency: c.currency,
      pickupStore: c.v.cart.pickupStore,
    };
    const identity: IdentityState = {
      deviceId: device?.deviceId ?? null,
      profileId: base?.profileId ?? device?.profileId ?? null,
      customerId: base?.customerId ?? null,
    };
    const s = { ...status, pending: c.pending.length + c.drafts.length, unsaved: c.unsaved.size };
    const next: ClientState = { cart, viewed: c.v.viewed, prefs: c.v.prefs, identity, status: s };
    // Parts equal to the current ones keep their identity (the status also by its error).
    if (state) {
      for (const k of Object.keys(next) as (keyof ClientState)[]) {
        if (same(next[k], state[k]) && (k !== 'status' || s.error === state.status.error)) {
          (next as unknown as Record<string, unknown>)[k] = state[k];
        }
      }
    }
    return next;
  }

  c.commit = (source = 'remote') => {
    const prev = c.state;
    const state = (c.state = build());
    if (state.cart !== prev.cart) c.emit('cart-change', { cart: state.cart, source });
    if (state.identity !== prev.identity) c.emit('identity-change', state.identity);
    if (state.status !== prev.status) c.emit('status-change', state.status);
    c.subs.forEach(safely);
  };

  c.recompute = (source) => {
    c.v = rebase(c.base?.state ?? emptyState(), [
      ...c.pending,
      ...c.drafts.map((d) => ({ ...d, seq: 1 }) as Mutation),
    ]).state;
    c.commit(source);
  };

  /**
   * Takes a server snapshot as the base (unless it is behind the one held; an identity change's
   * always): drops the entries it acknowledges, stores it, tells the other tabs, recomputes.
   */
  c.setBase = (snap, identity, fromTab = false) => {
    if (!identity && behind(c, snap)) return;
    if (identity) c.epoch++;
    c.base = snap;
    c.pending = c.pending.filter((m) => m.seq > snap.lastSeq);
    // A tab's memory store is its own (a memory group's copy too): it takes every snapshot.
    if (!fromTab || c.store.kind === 'memory') {
      c.persisting = c.persisting
        .then(() => withTimeout(c.store.setBase(snap), c.storageMs))
        .catch(c.fallback);
    }
    if (!fromTab) c.post({ type: 'base', snapshot: snap, identity });
    c.recompute();
    if (identity && c.leader) c.reopen();
  };

  c.setStatus = (patch) => {
    c.status = { ...c.status, ...patch };
    c.commit();
  };

  c.state = build();

  return {
    subscribe<T>(selector: (state: ClientState) => T, cb: (value: T, previous: T) => void) {
      let last = selector(c.state);
      const notify = () => {
        const value = selector(c.state);
        const prev = last;
        if (!Object.is(value, prev)) cb((last = value), prev);
      };
      c.subs.add(notify);
      return () => void c.subs.delete(notify);
    },
    on<K extends ClientEvent>(type: K, listener: (detail: ClientEventMap[K]) => void) {
      const set = listeners.get(type) ?? new Set();
      listeners.set(type, set);
      // As with addEventListener, the same function twice is called once.
      set.add(listener);
      return () => void set.delete(listener);
    },
  };
}
