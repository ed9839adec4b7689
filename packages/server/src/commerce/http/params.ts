// Query parameters of the public commerce routes: sku lists and the shopper's position.
import { LIMITS, OmniError, type StockAnswer } from '@omnikit/protocol';
import type { Context } from 'hono';
import { lookupPostcode } from '../core/geo.js';

/** Splits `a,b,c` into distinct, valid skus (400 otherwise). */
export function skuList(value: string | undefined, name: string, max: number): string[] {
  const skus = [
    ...new Set(
      (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (skus.length === 0) throw new OmniError('invalid_argument', `${name}: give 1 to ${max} skus`);
  if (skus.length > max) {
    throw new OmniError('invalid_argument', `${name}: at most ${max} skus per request`, {
      details: { max },
    });
  }
  const bad = skus.filter((s) => !LIMITS.skuPattern.test(s));
  if (bad.length > 0) {
    throw new OmniError(
      'invalid_argument',
      `${name}: not valid skus: ${bad.slice(0, 5).join(', ')}`,
    );
  }
  return skus;
}

export function oneSku(value: string | undefined, name = 'sku'): string {
  if (value === undefined || !LIMITS.skuPattern.test(value)) {
    throw new OmniError('invalid_argument', `${name}: a valid sku is required`);
  }
  return value;
}

/** `lat`+`lng`, or `postal`, or neither; anything else is a 400 that says what to send. */
export function parseOrigin(c: Context): StockAnswer['origin'] {
  const lat = c.req.query('lat');
  const lng = c.req.query('lng');
  const postal = c.req.query('postal');
  if (postal !== undefined && (lat !== undefined || lng !== undefined)) {
    throw new OmniError('invalid_argument', 'Give either lat and lng, or postal, not both');
  }
  if (postal !== undefined) return lookupPostcode(postal);
  if (lat === undefined && lng === undefined) return null;
  const y = Number(lat);
  const x = Number(lng);
  if (
    lat === undefined ||
    lng === undefined ||
    lat.trim() === '' ||
    lng.trim() === '' ||
    !Number.isFinite(y) ||
    !Number.isFinite(x) ||
    Math.abs(y) > 90 ||
    Math.abs(x) > 180
  ) {
    throw new OmniError(
      'invalid_argument',
      'lat and lng must both be given, in decimal degrees (lat -90..90, lng -180..180)',
    );
  }
  return { lat: y, lng: x };
}
