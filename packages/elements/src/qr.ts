// The handoff QR encoder, on this page (the URL never leaves the browser). It is loaded only when
// a handoff code is shown (qr-load.ts), so uqr stays out of the first load. No Lit here: in the
// script-tag embed this module is a file of its own (dist/omnikit-qr.js) that shares nothing
// with the bundle.
import { encode } from 'uqr';

/** A QR code as one SVG path: its side in modules and the path of its dark modules. */
export interface QrPath {
  size: number;
  d: string;
}

/** The QR code of `text` (error correction M, a 2-module quiet zone). */
export function qrPath(text: string): QrPath {
  const { size, data } = encode(text, { ecc: 'M', border: 2 });
  let d = '';
  data.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) d += `M${x} ${y}h1v1h-1z`;
    }),
  );
  return { size, d };
}
