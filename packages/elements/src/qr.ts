// The handoff QR code, drawn as one SVG path on this page: the URL never leaves the browser.
import { svg, type SVGTemplateResult } from 'lit';
import { encode } from 'uqr';

/** An SVG QR code of `text` (error correction M, a 2-module quiet zone), in `currentColor`. */
export function qrSvg(text: string): SVGTemplateResult {
  const { size, data } = encode(text, { ecc: 'M', border: 2 });
  let d = '';
  data.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) d += `M${x} ${y}h1v1h-1z`;
    }),
  );
  return svg`<svg viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges" aria-hidden="true">
    <rect width="100%" height="100%" fill="#fff" /><path d=${d} fill="currentColor" />
  </svg>`;
}
