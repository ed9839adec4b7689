// Opt-in (`@omnikit/sdk/handoff`): a page opened from a handoff link (`?omni_handoff=CODE`,
// made by `identity.createHandoff()` on another device) claims the code once, takes it out of
// the address bar, and reports what became of it as the client's `handoff` event.
import { OmniError } from '@omnikit/protocol';
import { emitOf } from './core.js';
import type { HandoffOutcome, OmniClient } from './types.js';

/** The query parameter of a handoff link. */
export const HANDOFF_PARAM = 'omni_handoff';

/**
 * Takes the handoff code out of the address bar (history.replaceState, so a reload, a bookmark
 * or a shared link never replays it) and returns it, or null when the URL carries none.
 */
export function takeHandoffCode(win: Window = window): string | null {
  const url = new URL(win.location.href);
  const code = url.searchParams.get(HANDOFF_PARAM)?.trim();
  if (code === undefined) return null;
  url.searchParams.delete(HANDOFF_PARAM);
  win.history.replaceState(win.history.state, '', url.href);
  return code || null;
}

const OUTCOMES: Partial<Record<OmniError['code'], HandoffOutcome['outcome']>> = {
  conflict: 'used',
  gone: 'expired',
  not_found: 'unknown',
};
/** Where a browser remembers the codes its tabs claimed (a day), so each is claimed once. */
const PREFIX = 'omnikit:handoff:';
type Remembered = { at: number; outcome: HandoffOutcome['outcome']; error?: [string, string] };

function remembered(code: string): Remembered | null {
  try {
    const now = Date.now();
    for (let i = localStorage.length; i--;) {
      const k = localStorage.key(i)!;
      // Claims a day old are forgotten.
      if (k.startsWith(PREFIX) && JSON.parse(localStorage.getItem(k)!).at < now - 864e5)
        localStorage.removeItem(k);
    }
    return JSON.parse(localStorage.getItem(PREFIX + code) ?? 'null') as Remembered | null;
  } catch {
    // Storage disabled: each tab claims (the server answers the second `used`).
    return null;
  }
}

/**
 * Claims the page's `?omni_handoff=` code with `client`, once per browser (a second tab opened
 * with the same link, or a reload, reports the first claim's outcome without claiming), and
 * reports the outcome as the client's `handoff` event; resolves with it. Resolves null when the
 * URL carries no code, and without consent, when the code stays in the URL for a later visit.
 */
export async function claimHandoffFromUrl(
  client: OmniClient,
  win: Window = window,
): Promise<HandoffOutcome | null> {
  if (client.consent !== 'granted') return null;
  const code = takeHandoffCode(win);
  if (code === null) return null;
  const claim = async (): Promise<HandoffOutcome> => {
    const before = remembered(code);
    if (before) {
      const [c, m] = before.error ?? [];
      return before.error
        ? { code, outcome: before.outcome as 'used', error: new OmniError(c as 'gone', m!) }
        : { code, outcome: before.outcome as 'joined' };
    }
    let outcome: HandoffOutcome;
    try {
      outcome = { code, outcome: await client.identity.claimHandoff(code) };
    } catch (e) {
      const error =
        e instanceof OmniError ? e : new OmniError('internal', String(e), { retryable: false });
      outcome = { code, outcome: OUTCOMES[error.code] ?? 'failed', error };
    }
    const keep: Remembered = { at: Date.now(), outcome: outcome.outcome };
    if ('error' in outcome) keep.error = [outcome.error.code, outcome.error.message];
    try {
      // A failure (offline...) is not the code's fate: another tab may try it.
      if (outcome.outcome !== 'failed') localStorage.setItem(PREFIX + code, JSON.stringify(keep));
    } catch {
      // Not remembered: see remembered().
    }
    return outcome;
  };
  const locks = win.navigator.locks;
  const outcome = await (locks
    ? (locks.request(PREFIX + code, claim) as unknown as Promise<HandoffOutcome>)
    : claim());
  emitOf(client)?.('handoff', outcome);
  return outcome;
}
