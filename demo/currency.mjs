// The demo shop's currency. Its catalog is real (UCI Online Retail, priced in GBP); a demo run
// with DEMO_CURRENCY=KRW (or USD, EUR, JPY) sells the same products in that currency, its prices
// converted once at the fixed rates below, rounded as a shop would price them. These are demo
// rates, not live ones: the point is a shop whose currency is not the data's.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Units of each currency per pound (fixed demo rates). */
export const DEMO_RATES = { GBP: 1, USD: 1.27, EUR: 1.17, JPY: 190, KRW: 1850 };

/** Digits after the decimal point in `currency`'s minor unit (2 for GBP, 0 for KRW). */
export function minorDigits(currency) {
  return (
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits ?? 2
  );
}

/** The configured currency: `DEMO_CURRENCY`, GBP by default; throws on one it cannot price. */
export function demoCurrency(env = process.env) {
  const code = (env.DEMO_CURRENCY ?? 'GBP').toUpperCase();
  if (!Object.hasOwn(DEMO_RATES, code)) {
    throw new Error(
      `DEMO_CURRENCY=${code} is not one the demo prices in: ${Object.keys(DEMO_RATES).join(', ')}`,
    );
  }
  return code;
}

/**
 * A price in pence, in minor units of `currency`: converted at the demo rate and rounded to a
 * shop's step (whole cents; 10 yen; 100 won).
 */
export function convertPence(pence, currency) {
  if (currency === 'GBP') return pence;
  const major = (pence / 100) * DEMO_RATES[currency];
  const digits = minorDigits(currency);
  const step = digits === 0 ? (major >= 10_000 ? 100 : 10) : 1;
  const minor = major * 10 ** digits;
  return Math.max(step, Math.round(minor / step) * step);
}

/** The catalog feed with every price in `currency`. */
export function convertCatalog(catalog, currency) {
  if (currency === 'GBP') return catalog;
  return {
    ...catalog,
    attribution: `${catalog.attribution} Prices converted from GBP to ${currency} at a fixed demo rate (${DEMO_RATES[currency]} per pound).`,
    products: catalog.products.map((p) => ({
      ...p,
      price: convertPence(p.price, currency),
      currency,
    })),
  };
}

/**
 * The demo data directory to seed from: demo/data itself for GBP, else a copy under `workDir`
 * whose catalog is priced in `currency` (the stores, stock and orders are the same files).
 */
export async function demoDataDir(sourceDir, workDir, currency, catalog) {
  if (currency === 'GBP') return sourceDir;
  const dir = join(workDir, `demo-data-${currency}`);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'catalog.json'),
    JSON.stringify(convertCatalog(catalog, currency), null, 1),
  );
  for (const f of ['stores.json', 'inventory.json', 'orders.json.gz', 'README.md']) {
    await copyFile(join(sourceDir, f), join(dir, f));
  }
  return dir;
}

/** Reads a JSON file. */
export const readJson = async (file) => JSON.parse(await readFile(file, 'utf8'));
