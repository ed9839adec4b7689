// Distances and UK postcode lookups for "stock near me". A postcode resolves to its area (the
// leading letters: "SW1A 1AA" -> "SW"), whose position is that of the area's main post town:
// good to a few kilometres, which is enough to order stores, and needs no external service.
import { OmniError } from '@omnikit/protocol';
import type { LatLng } from './types.js';

const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance between two points in kilometres (haversine formula). */
export function haversineKm(a: LatLng, b: LatLng): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  // min() guards against rounding pushing h just above 1 for antipodal points.
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** True when the value is a usable latitude/longitude pair. */
export function isLatLng(value: { lat: unknown; lng: unknown }): value is LatLng {
  return (
    typeof value.lat === 'number' &&
    typeof value.lng === 'number' &&
    Number.isFinite(value.lat) &&
    Number.isFinite(value.lng) &&
    Math.abs(value.lat) <= 90 &&
    Math.abs(value.lng) <= 180
  );
}

/** UK postcode areas (Great Britain and Northern Ireland) -> [lat, lng] of the main post town. */
export const UK_POSTCODE_AREAS: Readonly<Record<string, readonly [number, number]>> = {
  AB: [57.15, -2.11], // Aberdeen
  AL: [51.75, -0.34], // St Albans
  B: [52.48, -1.9], // Birmingham
  BA: [51.38, -2.36], // Bath
  BB: [53.75, -2.48], // Blackburn
  BD: [53.79, -1.75], // Bradford
  BH: [50.72, -1.88], // Bournemouth
  BL: [53.58, -2.43], // Bolton
  BN: [50.83, -0.14], // Brighton
  BR: [51.41, 0.02], // Bromley
  BS: [51.45, -2.59], // Bristol
  BT: [54.6, -5.93], // Belfast
  CA: [54.89, -2.94], // Carlisle
  CB: [52.21, 0.12], // Cambridge
  CF: [51.48, -3.18], // Cardiff
  CH: [53.19, -2.89], // Chester
  CM: [51.74, 0.47], // Chelmsford
  CO: [51.89, 0.9], // Colchester
  CR: [51.37, -0.1], // Croydon
  CT: [51.28, 1.08], // Canterbury
  CV: [52.41, -1.51], // Coventry
  CW: [53.1, -2.44], // Crewe
  DA: [51.45, 0.21], // Dartford
  DD: [56.46, -2.97], // Dundee
  DE: [52.92, -1.48], // Derby
  DG: [55.07, -3.61], // Dumfries
  DH: [54.78, -1.57], // Durham
  DL: [54.52, -1.55], // Darlington
  DN: [53.52, -1.13], // Doncaster
  DT: [50.71, -2.44], // Dorchester
  DY: [52.51, -2.09], // Dudley
  E: [51.53, -0.03], // London East
  EC: [51.52, -0.1], // London East Central
  EH: [55.95, -3.19], // Edinburgh
  EN: [51.65, -0.08], // Enfield
  EX: [50.72, -3.53], // Exeter
  FK: [56.0, -3.78], // Falkirk
  FY: [53.82, -3.05], // Blackpool
  G: [55.86, -4.25], // Glasgow
  GL: [51.86, -2.24], // Gloucester
  GU: [51.24, -0.57], // Guildford
  HA: [51.58, -0.34], // Harrow
  HD: [53.65, -1.78], // Huddersfield
  HG: [53.99, -1.54], // Harrogate
  HP: [51.75, -0.47], // Hemel Hempstead
  HR: [52.06, -2.72], // Hereford
  HS: [58.21, -6.39], // Outer Hebrides (Stornoway)
  HU: [53.74, -0.33], // Hull
  HX: [53.72, -1.86], // Halifax
  IG: [51.56, 0.07], // Ilford
  IP: [52.06, 1.16], // Ipswich
  IV: [57.48, -4.22], // Inverness
  KA: [55.61, -4.5], // Kilmarnock
  KT: [51.41, -0.3], // Kingston upon Thames
  KW: [58.98, -2.96], // Kirkwall
  KY: [56.11, -3.16], // Kirkcaldy
  L: [53.41, -2.98], // Liverpool
  LA: [54.05, -2.8], // Lancaster
  LD: [52.24, -3.38], // Llandrindod Wells
  LE: [52.64, -1.13], // Leicester
  LL: [53.32, -3.83], // Llandudno
  LN: [53.23, -0.54], // Lincoln
  LS: [53.8, -1.55], // Leeds
  LU: [51.88, -0.42], // Luton
  M: [53.48, -2.24], // Manchester
  ME: [51.39, 0.5], // Rochester (Medway)
  MK: [52.04, -0.76], // Milton Keynes
  ML: [55.79, -3.99], // Motherwell
  N: [51.57, -0.11], // London North
  NE: [54.98, -1.61], // Newcastle upon Tyne
  NG: [52.95, -1.15], // Nottingham
  NN: [52.24, -0.9], // Northampton
  NP: [51.59, -3.0], // Newport
  NR: [52.63, 1.3], // Norwich
  NW: [51.55, -0.2], // London North West
  OL: [53.54, -2.12], // Oldham
  OX: [51.75, -1.26], // Oxford
  PA: [55.85, -4.42], // Paisley
  PE: [52.57, -0.24], // Peterborough
  PH: [56.4, -3.44], // Perth
  PL: [50.38, -4.14], // Plymouth
  PO: [50.8, -1.09], // Portsmouth
  PR: [53.76, -2.7], // Preston
  RG: [51.45, -0.97], // Reading
  RH: [51.24, -0.17], // Redhill
  RM: [51.58, 0.18], // Romford
  S: [53.38, -1.47], // Sheffield
  SA: [51.62, -3.94], // Swansea
  SE: [51.47, -0.06], // London South East
  SG: [51.9, -0.2], // Stevenage
  SK: [53.41, -2.16], // Stockport
  SL: [51.51, -0.59], // Slough
  SM: [51.36, -0.19], // Sutton
  SN: [51.56, -1.78], // Swindon
  SO: [50.9, -1.4], // Southampton
  SP: [51.07, -1.79], // Salisbury
  SR: [54.91, -1.38], // Sunderland
  SS: [51.54, 0.71], // Southend-on-Sea
  ST: [53.0, -2.18], // Stoke-on-Trent
  SW: [51.46, -0.17], // London South West
  SY: [52.71, -2.75], // Shrewsbury
  TA: [51.02, -3.1], // Taunton
  TD: [55.61, -2.81], // Galashiels
  TF: [52.68, -2.45], // Telford
  TN: [51.2, 0.27], // Tonbridge
  TQ: [50.46, -3.53], // Torquay
  TR: [50.26, -5.05], // Truro
  TS: [54.57, -1.23], // Middlesbrough
  TW: [51.45, -0.33], // Twickenham
  UB: [51.51, -0.38], // Southall
  W: [51.51, -0.2], // London West
  WA: [53.39, -2.59], // Warrington
  WC: [51.52, -0.12], // London West Central
  WD: [51.66, -0.4], // Watford
  WF: [53.68, -1.5], // Wakefield
  WN: [53.55, -2.63], // Wigan
  WR: [52.19, -2.22], // Worcester
  WS: [52.59, -1.98], // Walsall
  WV: [52.59, -2.13], // Wolverhampton
  YO: [53.96, -1.08], // York
  ZE: [60.15, -1.15], // Lerwick (Shetland)
};

// A full postcode ("SW1A 1AA"), an outward code ("SW1A", "M1") or an area alone ("LS").
const POSTCODE = /^([A-Z]{1,2})(?:(\d[A-Z\d]?)(?:\s*(\d[A-Z]{2}))?)?$/;

/** Resolves a UK postcode, outward code or area to the approximate position of its area. */
export function lookupPostcode(postal: string): LatLng & { area: string } {
  const normalized = postal.trim().toUpperCase().replace(/\s+/g, ' ');
  const match = POSTCODE.exec(normalized);
  const area = match?.[1];
  const position = area === undefined ? undefined : UK_POSTCODE_AREAS[area];
  if (area === undefined || position === undefined) {
    throw new OmniError(
      'invalid_argument',
      match
        ? `Unknown postcode area "${area}" in "${postal}": expected a UK postcode such as "SW1A 1AA"`
        : `"${postal}" is not a UK postcode: expected something like "SW1A 1AA", "M1" or "LS"`,
      { details: { postal } },
    );
  }
  return { lat: position[0], lng: position[1], area };
}
