// Product feed parsing and validation (CSV per RFC 4180, or JSON). Every row either becomes a
// Product or is reported with all of its reasons: an import is never partial in silence. Only a
// feed that cannot be read as a whole (too big, malformed CSV quoting, not JSON) throws.
import { parse } from 'csv-parse/sync';
import { FEED_COLUMNS, LIMITS, OmniError } from '@omnikit/protocol';
import { parseAttributeText, validateRows, type RawProduct } from './feed-rows.js';
import type { FeedProduct } from './types.js';

/** The protocol's sku rule: 1-64 characters, starting with a letter or digit. */
export const SKU_PATTERN: RegExp = LIMITS.skuPattern;

/** Size limits of one feed and of its fields. */
export interface FeedLimits {
  /** Bytes of the whole feed (UTF-8). */
  maxBytes: number;
  /** Product rows (header excluded). */
  maxRows: number;
  maxTitle: number;
  maxDescription: number;
  maxUrl: number;
  maxCategory: number;
  maxAttributes: number;
  maxAttributeKey: number;
  maxAttributeValue: number;
  /** Largest accepted price in minor units; guards against a price typed in the wrong unit. */
  maxPrice: number;
}

export const DEFAULT_FEED_LIMITS: Readonly<FeedLimits> = {
  maxBytes: 20 * 1024 * 1024,
  maxRows: 100_000,
  maxTitle: 200,
  maxDescription: 5_000,
  maxUrl: 2_048,
  maxCategory: 100,
  maxAttributes: 20,
  maxAttributeKey: 40,
  maxAttributeValue: 200,
  maxPrice: 1_000_000_000,
};

/** A feed row that was not imported. */
export interface RejectedRow {
  /** CSV: the line where the record starts (the header is line 1). JSON: 1-based array index. */
  row: number;
  sku?: string;
  reasons: string[];
}

export interface FeedResult {
  products: FeedProduct[];
  rejected: RejectedRow[];
}

export type FeedFormat = 'csv' | 'json';

export function parseFeed(
  input: string,
  options: { format?: FeedFormat; limits?: Partial<FeedLimits> } = {},
): FeedResult {
  const limits = { ...DEFAULT_FEED_LIMITS, ...options.limits };
  const bytes = Buffer.byteLength(input, 'utf8');
  if (bytes > limits.maxBytes) {
    throw new OmniError(
      'payload_too_large',
      `Feed is ${bytes} bytes; the limit is ${limits.maxBytes}`,
      { details: { bytes, maxBytes: limits.maxBytes } },
    );
  }
  const format = options.format ?? (/^\s*[[{]/.test(input) ? 'json' : 'csv');
  return format === 'json' ? parseJsonFeed(input, limits) : parseCsvFeed(input, limits);
}

/** Parses a CSV feed: a header row naming the columns, `attr.<name>` columns for attributes. */
export function parseCsvFeed(input: string, limits: FeedLimits = DEFAULT_FEED_LIMITS): FeedResult {
  let records: { record: string[]; raw: string; info: { lines: number } }[];
  try {
    records = parse(input, {
      bom: true,
      info: true,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: limits.maxDescription * 4 + 64 * 1024,
    }) as unknown as { record: string[]; raw: string; info: { lines: number } }[];
  } catch (err) {
    // A broken quote shifts every later field, so no row after it can be trusted.
    throw new OmniError('invalid_argument', `Feed is not valid CSV: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const [header, ...rows] = records;
  if (!header) return { products: [], rejected: [] };
  checkRowCount(rows.length, limits);
  const columns = header.record.map((name) => name.trim());
  const fields = columns.map((name) => {
    const lower = name.toLowerCase();
    if (lower.startsWith('attr.') || lower.startsWith('attr:')) return { attr: name.slice(5) };
    return { field: FEED_COLUMNS[lower] };
  });
  if (!fields.some((f) => f.field === 'sku')) {
    throw new OmniError('invalid_argument', 'Feed header has no "sku" column', {
      details: { columns },
    });
  }
  const raws = rows.map(({ record, raw: text, info }) => {
    const raw: Partial<RawProduct> = {};
    const attrs: Record<string, string> = {};
    const extra: string[] = [];
    if (record.length !== columns.length) {
      extra.push(`has ${record.length} fields; the header has ${columns.length}`);
    }
    fields.forEach((f, i) => {
      const value = record[i];
      if (value === undefined || value === '') return;
      if ('attr' in f && f.attr !== undefined) attrs[f.attr] = value;
      else if ('field' in f && f.field) raw[f.field] = value;
    });
    if (Object.keys(attrs).length > 0) {
      raw.attributes = mergeAttributeColumn(raw.attributes, attrs, extra);
    }
    // csv-parse counts lines up to the end of the record; report the line it starts on, which is
    // what a spreadsheet shows, even when a quoted field spans several lines.
    const inner = text.replace(/^[\r\n]+/, '').replace(/\r?\n$/, '');
    return { row: info.lines - (inner.match(/\n/g)?.length ?? 0), raw, extra, fromCsv: true };
  });
  return validateRows(raws, limits);
}

/** Parses a JSON feed: an array of products, or `{ "products": [...] }`. */
export function parseJsonFeed(input: string, limits: FeedLimits = DEFAULT_FEED_LIMITS): FeedResult {
  let doc: unknown;
  try {
    doc = JSON.parse(input);
  } catch (err) {
    throw new OmniError('invalid_argument', `Feed is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const list = Array.isArray(doc) ? doc : isObject(doc) ? doc.products : undefined;
  if (!Array.isArray(list)) {
    throw new OmniError('invalid_argument', 'JSON feed must be an array or { "products": [...] }');
  }
  checkRowCount(list.length, limits);
  const raws = list.map((item: unknown, i) => {
    if (!isObject(item)) {
      return { row: i + 1, raw: {}, extra: ['is not an object'], fromCsv: false, broken: true };
    }
    const raw: Partial<RawProduct> = {};
    for (const [key, value] of Object.entries(item)) {
      const field = FEED_COLUMNS[key.toLowerCase()];
      if (field) raw[field] = value;
    }
    return { row: i + 1, raw, extra: [], fromCsv: false };
  });
  return validateRows(raws, limits);
}

function checkRowCount(rows: number, limits: FeedLimits): void {
  if (rows > limits.maxRows) {
    throw new OmniError(
      'payload_too_large',
      `Feed has ${rows} rows; the limit is ${limits.maxRows}`,
      { details: { rows, maxRows: limits.maxRows } },
    );
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// A CSV feed may carry attributes both as a JSON `attributes` column and as `attr.*` columns;
// the explicit columns win because they are the more specific statement.
function mergeAttributeColumn(
  column: unknown,
  attrs: Record<string, string>,
  problems: string[],
): unknown {
  if (column === undefined) return attrs;
  const parsed = parseAttributeText(column, problems);
  return parsed === undefined ? attrs : { ...parsed, ...attrs };
}

/** How an import would change the stored catalog: what to insert, update, and leave alone. */
export interface CatalogDiff {
  created: FeedProduct[];
  updated: FeedProduct[];
  unchanged: string[];
}

/** Compares imported products with the stored ones, so an import is an idempotent upsert. */
export function diffCatalog(
  stored: (sku: string) => FeedProduct | undefined,
  incoming: readonly FeedProduct[],
): CatalogDiff {
  const diff: CatalogDiff = { created: [], updated: [], unchanged: [] };
  for (const product of incoming) {
    const before = stored(product.sku);
    if (!before) diff.created.push(product);
    else if (sameProduct(before, product)) diff.unchanged.push(product.sku);
    else diff.updated.push(product);
  }
  return diff;
}

function sameProduct(a: FeedProduct, b: FeedProduct): boolean {
  const keys = Object.keys(a.attributes);
  return (
    a.sku === b.sku &&
    a.groupId === b.groupId &&
    a.title === b.title &&
    a.description === b.description &&
    a.price === b.price &&
    a.currency === b.currency &&
    a.url === b.url &&
    a.image === b.image &&
    a.category === b.category &&
    keys.length === Object.keys(b.attributes).length &&
    keys.every((k) => a.attributes[k] === b.attributes[k])
  );
}
