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
