// The QR encoder of <omni-handoff> in the script-tag bundle: dist/omnikit-qr.js, an ES module
// that ships beside omnikit.js (rollup.config.mjs builds it and puts this module in place of
// @omnikit/elements' src/qr-load.ts, whose exports it has: an IIFE cannot split code). It is
// fetched when a handoff code is first shown, from the script's own URL, not the page's: a brand
// may load the script from a CDN. import() is no Trusted Types sink; from another origin it needs
// CORS (Access-Control-Allow-Origin on the file).
import type { QrEncoder } from '@omnikit/elements';
import { scriptSrc } from './script.js';

export const QR_FILE = 'omnikit-qr.js';

/**
 * The file's URL: beside the script, with the script's query (a `?v=` cache buster) kept.
 * Without the script's own URL (the bundle ran outside its tag) there is none: the handoff then
 * shows its code as text, unless the site sets `OmniHandoff.loadQrEncoder` itself.
 */
export function qrUrl(src = scriptSrc): string {
  if (!src) throw new Error('omnikit-qr.js is loaded only from beside the omnikit script tag');
  const url = new URL(QR_FILE, src);
  url.search = new URL(src).search;
  return url.href;
}

export const loadQrEncoder = async (): Promise<QrEncoder> =>
  ((await import(qrUrl())) as { qrPath: QrEncoder }).qrPath;
