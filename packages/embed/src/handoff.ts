// The script tag claims the page's `?omni_handoff=CODE` with the SDK's helper
// (`@omnikit/sdk/handoff`: once per browser, the parameter removed from the address bar) and
// also reports the outcome on the document, for pages that do not hold the client.
import type { HandoffOutcome, OmniClient } from '@omnikit/sdk';
import { claimHandoffFromUrl } from '@omnikit/sdk/handoff';

export { HANDOFF_PARAM, takeHandoffCode } from '@omnikit/sdk/handoff';

/**
 * Claims the page's handoff code with `client` (see `claimHandoffFromUrl` of
 * `@omnikit/sdk/handoff`), then fires `omnikit:handoff` on the document with the outcome.
 * Without consent nothing is sent: the code stays in the URL for a visit with consent.
 */
export async function claimPageHandoff(
  client: OmniClient,
  win: Window = window,
): Promise<HandoffOutcome | null> {
  const outcome = await claimHandoffFromUrl(client, win);
  if (!outcome) return null;
  // A brand that listens for nothing still learns why the cart did not follow the shopper.
  if ('error' in outcome) {
    console.warn(`[omnikit] the handoff link could not be used (${outcome.outcome})`);
  }
  win.document.dispatchEvent(new CustomEvent('omnikit:handoff', { detail: outcome }));
  return outcome;
}
