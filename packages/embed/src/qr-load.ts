// The QR encoder of <omni-handoff> in the script-tag bundle: dist/omnikit-qr.js, an ES module
// that ships beside omnikit.js (rollup.config.mjs builds it and puts this module in place of
// @omnikit/elements' src/qr-load.ts, whose exports it has: an IIFE cannot split code). It is
// fetched when a handoff code is first shown, from the script's own URL, not the page's: a brand
// may load the script from a CDN. import() is no Trusted Types sink; from another origin it needs
// CORS (Access-Control-Allow-Origin on the file).
import type { QrEncoder } from '@omnikit/elements';
import { script } from './script.js';

export const QR_FILE = 'omnikit-qr.js';

/** The file's URL: beside the script, with the script's query (a `?v=` cache buster) kept. */
export function qrUrl(src = script?.src): string {
  const url = new URL(QR_FILE, src);
  if (src) url.search = new URL(src).search;
  return url.href;
}

export const loadQrEncoder = async (): Promise<QrEncoder> =>
  ((await import(qrUrl())) as { qrPath: QrEncoder }).qrPath;
