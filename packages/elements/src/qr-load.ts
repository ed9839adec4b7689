// Where <omni-handoff> gets its QR encoder: a dynamic import, which bundlers split into a chunk
// of its own, fetched when a handoff code is first shown. The script-tag build (rollup.config.mjs)
// puts packages/embed/src/qr-load.ts, with the same exports, in place of this module.
import type { QrPath } from './qr.js';

export type { QrPath };
/** Draws the QR code of a text (see `OmniHandoff.loadQrEncoder`). */
export type QrEncoder = (text: string) => QrPath;

export const loadQrEncoder = (): Promise<QrEncoder> => import('./qr.js').then((m) => m.qrPath);
