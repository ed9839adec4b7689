// The script tag this bundle was loaded by, found while the bundle runs (document.currentScript
// is only set then): its attributes configure the client (boot.ts), and its URL is where the
// files that ship beside the bundle are (qr-load.ts).

/** The tag this bundle was loaded by (classic scripts, `async` or `defer`, set currentScript). */
function ownScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement) return current;
  // Evaluated outside its own tag (e.g. concatenated into another bundle): the last omnikit tag.
  const tags = document.querySelectorAll<HTMLScriptElement>('script[data-key][src*="omnikit"]');
  return tags[tags.length - 1] ?? null;
}

export const script = ownScript();

/**
 * The bundle's own URL, where the files that ship beside it are; only from
 * `document.currentScript`, never from the fallback search above: a tag injected into the page
 * (`<script data-key src=".../omnikit.js">`) may steer configuration, but never where code loads from.
 */
export const scriptSrc =
  document.currentScript instanceof HTMLScriptElement ? document.currentScript.src : undefined;
