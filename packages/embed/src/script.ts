// The script tag this bundle was loaded by, found while the bundle runs (document.currentScript
// is only set then): its attributes configure the client (boot.ts), and its URL is where the
// files that ship beside the bundle are (qr-load.ts).

/** The tag running now (classic scripts, `async` or `defer`, set currentScript), if any. */
const current = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;

/**
 * The tag this bundle was loaded by. Evaluated outside its own tag (e.g. concatenated into
 * another bundle): the last omnikit tag in the page.
 */
export const script =
  current ??
  [...document.querySelectorAll<HTMLScriptElement>('script[data-key][src*="omnikit"]')].at(-1) ??
  null;

/**
 * The bundle's own URL, where the files that ship beside it are; only from
 * `document.currentScript`, never from the fallback search above: a tag injected into the page
 * (`<script data-key src=".../omnikit.js">`) may steer configuration, but never where code loads from.
 */
export const scriptSrc = current?.src;
