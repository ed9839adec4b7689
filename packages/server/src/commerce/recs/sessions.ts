// Browsing sessions folded into co-view counts, for events that retention deletes: the same
// session rule as `RecModel.addEvent` (a pause over `sessionGapMs` starts a new session, at most
// `maxSessionItems` distinct items each), so a model rebuilt from the counts plus the remaining
// events counts what one built from every event would have.

/** A view as sessions need it. */
export interface ViewEvent {
  profileId: string | null;
  sku: string;
  at: number;
}

/** Co-view counts: `a === b` is the number of sessions with the item, else with both (a < b). */
export interface CoviewCount {
  a: string;
  b: string;
  n: number;
}

/**
 * The co-view counts of the sessions in `views` (sorted by profile, then time, as retention
 * hands them over; a null profile is one anonymous stream, as the model reads it).
 */
export function coviewCounts(
  views: readonly ViewEvent[],
  options: { sessionGapMs: number; maxSessionItems: number },
): CoviewCount[] {
  const counts = new Map<string, CoviewCount>();
  const bump = (x: string, y: string) => {
    const [a, b] = x <= y ? [x, y] : [y, x];
    const key = `${a}\u0000${b}`;
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { a, b, n: 1 });
  };
  let profile: string | null | undefined;
  let lastAt = -Infinity;
  let items: string[] = [];
  for (const v of views) {
    if (v.profileId !== profile || v.at - lastAt > options.sessionGapMs) {
      items = [];
      lastAt = v.at;
    }
    profile = v.profileId;
    lastAt = Math.max(lastAt, v.at);
    if (items.includes(v.sku) || items.length >= options.maxSessionItems) continue;
    bump(v.sku, v.sku);
    for (const other of items) bump(v.sku, other);
    items.push(v.sku);
  }
  return [...counts.values()];
}
