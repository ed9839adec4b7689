import { OmniError, type OmniClient } from '@omnikit/sdk';

/** The query parameter the server appends to a handoff URL (`?omni_handoff=CODE`). */
export const HANDOFF_PARAM = 'omni_handoff';

/** What became of a `?omni_handoff=` code the page was opened with. */
export type HandoffOutcome =
  { status: 'joined' | 'copied' } | { status: 'failed'; error: OmniError };

/**
 * Takes the handoff code out of the address bar (history.replaceState, so a reload, a bookmark or
 * a shared link never replays it) and returns it, or null when the URL carries none.
 */
export function takeHandoffCode(win: Window = window): string | null {
  const url = new URL(win.location.href);
  const code = url.searchParams.get(HANDOFF_PARAM)?.trim();
  if (code === undefined) return null;
  url.searchParams.delete(HANDOFF_PARAM);
  win.history.replaceState(win.history.state, '', url.href);
  return code || null;
}

/**
 * Claims the page's `?omni_handoff=` code with `client`, once, and reports the outcome as an
 * `omnikit:handoff` event on the document. Without consent nothing is sent: the code stays in
 * the URL, so the page claims it when it is loaded again with consent.
 */
export async function claimHandoffFromUrl(
  client: OmniClient,
  consent: 'granted' | 'pending' | 'denied',
  win: Window = window,
): Promise<HandoffOutcome | null> {
  if (consent !== 'granted') return null;
  const code = takeHandoffCode(win);
  if (code === null) return null;
  let outcome: HandoffOutcome;
  try {
    outcome = { status: await client.identity.claimHandoff(code) };
  } catch (e) {
    const error =
      e instanceof OmniError ? e : new OmniError('internal', String(e), { retryable: false });
    // A brand that listens for nothing still learns why the cart did not follow the shopper.
    console.warn(`[omnikit] the handoff link could not be used (${error.code})`);
    outcome = { status: 'failed', error };
  }
  win.document.dispatchEvent(new CustomEvent('omnikit:handoff', { detail: outcome }));
  return outcome;
}
