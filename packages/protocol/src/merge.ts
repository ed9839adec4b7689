// Guest-to-account merge. Pure and deterministic like the reducers; the summary is built from
// the same decisions as the state, so a UI can say exactly what happened.
import { maxLines, maxPrefs, maxQtyPerLine, maxViewed } from './limits.js';
import type { CartLine, MergePolicy, MergeSummary, ProfileState } from './types.js';

type Ref = { key: string; sku: string; qty: number };
const ref = (l: CartLine, qty = l.qty): Ref => ({ key: l.key, sku: l.sku, qty });

/**
 * Merges a guest (anonymous) profile into an account profile by `policy` and reports what the
 * guest side changed. Limits hold in the result; whatever did not fit is reported `dropped`.
 */
export function mergeStates(
  account: ProfileState,
  guest: ProfileState,
  policy: MergePolicy,
): { state: ProfileState; summary: MergeSummary } {
  const summary: MergeSummary = {
    policy,
    added: [],
    changed: [],
    dropped: [],
    pickupStoreChanged: false,
    viewedAdded: 0,
    removed: [],
  };
  const a = account.cart.lines;
  const g = guest.cart.lines;
  const byKey = new Map(g.map((l) => [l.key, l]));
  let lines: CartLine[];
  if (policy === 'sum' || policy === 'max') {
    lines = a.map((l) => {
      const other = byKey.get(l.key);
      if (!other) return l;
      byKey.delete(l.key);
      const wanted = policy === 'sum' ? l.qty + other.qty : Math.max(l.qty, other.qty);
      const qty = Math.min(wanted, maxQtyPerLine);
      if (wanted > qty) summary.dropped.push({ ...ref(other, wanted - qty), reason: 'limit' });
      return qty === l.qty
        ? l
        : {
            ...l,
            qty,
            addedAt: Math.min(l.addedAt, other.addedAt),
            updatedAt: Math.max(l.updatedAt, other.updatedAt),
          };
    });
    lines.push(...byKey.values());
  } else {
    // Whole carts: the preferred side's cart wins when it has any line.
    const takeGuest = policy === 'prefer-guest' ? g.length > 0 : a.length === 0;
    lines = takeGuest ? g : a;
    if (!takeGuest) for (const l of g) summary.dropped.push({ ...ref(l), reason: 'policy' });
  }
  // Account lines come first, so the limit drops the guest's extra lines, never the account's.
  const kept = lines.slice(0, maxLines);
  for (const l of lines.slice(maxLines)) summary.dropped.push({ ...ref(l), reason: 'limit' });
  const before = new Map(a.map((l) => [l.key, l]));
  for (const l of kept) {
    const old = before.get(l.key);
    before.delete(l.key);
    if (!old) summary.added.push(ref(l));
    else if (old.qty !== l.qty)
      summary.changed.push({ key: l.key, sku: l.sku, from: old.qty, to: l.qty });
  }
  summary.removed = [...before.values()].map((l) => ref(l));

  const pickupStore = account.cart.pickupStore ?? guest.cart.pickupStore;
  summary.pickupStoreChanged = pickupStore !== account.cart.pickupStore;

  // Newest first by time; on a tie the account's entry wins (a stable sort keeps it first).
  const seen = new Set<string>();
  const viewed = [...account.viewed, ...guest.viewed]
    .sort((x, y) => y.at - x.at)
    .filter((v) => !seen.has(v.sku) && seen.add(v.sku))
    .slice(0, maxViewed);
  const accountSkus = new Set(account.viewed.map((v) => v.sku));
  summary.viewedAdded = viewed.filter((v) => !accountSkus.has(v.sku)).length;

  const prefEntries = Object.entries(account.prefs);
  for (const [k, v] of Object.entries(guest.prefs)) {
    if (!Object.hasOwn(account.prefs, k) && prefEntries.length < maxPrefs) {
      prefEntries.push([k, v]);
    }
  }
  const prefs = Object.fromEntries(prefEntries);
  return { state: { cart: { lines: kept, pickupStore }, viewed, prefs }, summary };
}
