// Order history: reading invoice-line files in the UCI Online Retail layout, turning them into
// clean purchase baskets, and the compact file the server loads to warm the recommendations.
import { parse } from 'csv-parse/sync';
import { OmniError } from '@omnikit/protocol';

/** One invoice line as in the Online Retail layout. */
export interface InvoiceLine {
  invoice: string;
  stockCode: string;
  description: string;
  quantity: number;
  /** ms since epoch; the file's local times are read as UTC. */
  at: number;
  /** Unit price in major units (GBP). */
  unitPrice: number;
  /** null for guest checkouts. */
  customerId: string | null;
  country: string;
}

/** One purchase: the distinct products of a non-cancelled invoice. */
export interface Basket {
  invoice: string;
  customerId: string | null;
  at: number;
  skus: string[];
}

const COLUMNS = [
  'InvoiceNo',
  'StockCode',
  'Description',
  'Quantity',
  'InvoiceDate',
  'UnitPrice',
  'CustomerID',
  'Country',
] as const;

/** Reads an Online Retail style CSV (header row, RFC 4180) into typed invoice lines. */
export function readInvoiceLines(csv: string): InvoiceLine[] {
  const rows = parse(csv, { bom: true, columns: true, skip_empty_lines: true }) as Record<
    string,
    string
  >[];
  const first = rows[0];
  if (first) {
    const missing = COLUMNS.filter((c) => !(c in first));
    if (missing.length > 0) {
      throw new OmniError('invalid_argument', `Order file lacks columns: ${missing.join(', ')}`);
    }
  }
  return rows.map((r) => ({
    invoice: r.InvoiceNo!,
    stockCode: r.StockCode!,
    description: r.Description ?? '',
    quantity: Number(r.Quantity),
    at: parseLocalTime(r.InvoiceDate!),
    unitPrice: Number(r.UnitPrice),
    customerId: r.CustomerID ? r.CustomerID : null,
    country: r.Country ?? '',
  }));
}

/** Parses `YYYY-MM-DDTHH:MM` (or a full ISO time) as UTC. */
export function parseLocalTime(value: string): number {
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00Z` : value;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new OmniError('invalid_argument', `Bad time "${value}"`);
  return t;
}

/**
 * True for stock codes of real products. The shop's products have five-digit codes with an
 * optional variant suffix (85123A); postage, fees, discounts, manual lines, samples and
 * gift vouchers (POST, DOT, M, D, C2, S, BANK CHARGES, AMAZONFEE, DCGS..., gift_...) do not.
 */
export function isProductCode(code: string): boolean {
  return /^\d{5}[A-Za-z]{0,3}$/.test(code);
}

/** True for a line that records a sale of a product (not a cancellation, return or fee). */
export function isSale(line: InvoiceLine): boolean {
  return (
    !line.invoice.startsWith('C') &&
    line.quantity > 0 &&
    line.unitPrice > 0 &&
    isProductCode(line.stockCode)
  );
}

/** True for a line that takes back an earlier sale (cancellation invoice or negative quantity). */
export function isReturn(line: InvoiceLine): boolean {
  return (
    (line.invoice.startsWith('C') || line.quantity < 0) &&
    isProductCode(line.stockCode) &&
    line.unitPrice > 0
  );
}

/** Groups sale lines into baskets, in time order; returns and non-products are left out. */
export function toBaskets(lines: readonly InvoiceLine[]): Basket[] {
  const byInvoice = new Map<string, Basket & { seen: Set<string> }>();
  for (const line of lines) {
    if (!isSale(line)) continue;
    let basket = byInvoice.get(line.invoice);
    if (!basket) {
      basket = {
        invoice: line.invoice,
        customerId: line.customerId,
        at: line.at,
        skus: [],
        seen: new Set(),
      };
      byInvoice.set(line.invoice, basket);
    }
    if (!basket.seen.has(line.stockCode)) {
      basket.seen.add(line.stockCode);
      basket.skus.push(line.stockCode);
    }
  }
  return [...byInvoice.values()]
    .map(({ seen: _seen, ...b }) => b)
    .sort((a, b) => a.at - b.at || (a.invoice < b.invoice ? -1 : a.invoice > b.invoice ? 1 : 0));
}

/** The compact, committed form of an order history (see demo/data/README.md). */
export interface OrderHistoryFile {
  format: 'omnikit-orders/1';
  attribution: string;
  /** Every sku once; baskets refer to them by index. */
  skus: string[];
  /** [minutes since epoch, customer id or null, sku indexes]. */
  baskets: [number, string | null, number[]][];
}

/** Encodes baskets into the compact history file. */
export function encodeOrderHistory(
  baskets: readonly Basket[],
  attribution: string,
): OrderHistoryFile {
  const index = new Map<string, number>();
  const skus: string[] = [];
  const rows: [number, string | null, number[]][] = baskets.map((b) => [
    Math.round(b.at / 60_000),
    b.customerId,
    b.skus.map((sku) => {
      let i = index.get(sku);
      if (i === undefined) {
        i = skus.length;
        index.set(sku, i);
        skus.push(sku);
      }
      return i;
    }),
  ]);
  return { format: 'omnikit-orders/1', attribution, skus, baskets: rows };
}

/** Decodes the compact history file back into baskets (invoice ids are not kept). */
export function decodeOrderHistory(file: unknown): Basket[] {
  const doc = file as Partial<OrderHistoryFile> | null;
  if (!doc || doc.format !== 'omnikit-orders/1' || !Array.isArray(doc.skus)) {
    throw new OmniError('invalid_argument', 'Not an omnikit-orders/1 file');
  }
  const skus = doc.skus;
  return (doc.baskets ?? []).map(([minutes, customerId, items], n) => ({
    invoice: String(n + 1),
    customerId,
    at: minutes * 60_000,
    skus: items.map((i) => {
      const sku = skus[i];
      if (sku === undefined) throw new OmniError('invalid_argument', `Bad sku index ${i}`);
      return sku;
    }),
  }));
}
