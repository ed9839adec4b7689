// Product feed parsing and validation (CSV per RFC 4180, or JSON). Every row either becomes a
// Product or is reported with all of its reasons: an import is never partial in silence. Only a
// feed that cannot be read as a whole (too big, malformed CSV quoting, not JSON) throws.
import { parse } from 'csv-parse/sync';
import { LIMITS, OmniError } from '@omnikit/protocol';
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

const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

// Header spellings seen in real feeds (Google Merchant, Shopify exports) mapped to our fields.
const COLUMN_ALIASES: Readonly<Record<string, keyof RawProduct>> = {
  sku: 'sku',
  id: 'sku',
  groupid: 'groupId',
  group_id: 'groupId',
  item_group_id: 'groupId',
  title: 'title',
  name: 'title',
  description: 'description',
  price: 'price',
  currency: 'currency',
  url: 'url',
  link: 'url',
  image: 'image',
  image_link: 'image',
  category: 'category',
  attributes: 'attributes',
};

/** A row before validation: whatever the feed said, as unknown values. */
interface RawProduct {
  sku: unknown;
  groupId: unknown;
  title: unknown;
  description: unknown;
  price: unknown;
  currency: unknown;
  url: unknown;
  image: unknown;
  category: unknown;
  attributes: unknown;
}

/** Parses a feed, guessing the format from its first non-blank character when not given. */
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
    return { field: COLUMN_ALIASES[lower] };
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
      const field = COLUMN_ALIASES[key.toLowerCase()];
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

function parseAttributeText(value: unknown, problems: string[]): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    problems.push('attributes is not a JSON object');
    return undefined;
  }
}

function validateRows(
  raws: {
    row: number;
    raw: Partial<RawProduct>;
    extra: string[];
    fromCsv: boolean;
    broken?: boolean;
  }[],
  limits: FeedLimits,
): FeedResult {
  const products: FeedProduct[] = [];
  const rejected: RejectedRow[] = [];
  const firstRow = new Map<string, number>();
  for (const { row, raw, extra, fromCsv, broken } of raws) {
    const reasons = [...extra];
    if (broken) {
      rejected.push({ row, reasons });
      continue;
    }
    if (fromCsv && typeof raw.attributes === 'string') {
      raw.attributes = parseAttributeText(raw.attributes, reasons);
    }
    const product = validateProduct(raw, limits, fromCsv, reasons);
    const sku = typeof raw.sku === 'string' ? raw.sku.trim() : undefined;
    if (product && reasons.length === 0) {
      const seen = firstRow.get(product.sku);
      if (seen !== undefined) {
        // The first row wins: later ones are reported, so the feed owner can fix the source.
        rejected.push({ row, sku: product.sku, reasons: [`duplicate sku (first at row ${seen})`] });
        continue;
      }
      firstRow.set(product.sku, row);
      products.push(product);
    } else {
      rejected.push(sku ? { row, sku, reasons } : { row, reasons });
    }
  }
  return { products, rejected };
}

function text(
  name: string,
  value: unknown,
  max: number,
  reasons: string[],
  required: boolean,
): string | null {
  if (value === undefined || value === null || value === '') {
    if (required) reasons.push(`missing ${name}`);
    return null;
  }
  if (typeof value !== 'string') {
    reasons.push(`${name} must be a string`);
    return null;
  }
  const trimmed = value.trim();
  if (trimmed === '') {
    if (required) reasons.push(`missing ${name}`);
    return null;
  }
  if (trimmed.length > max) {
    reasons.push(`${name} is longer than ${max} characters`);
    return null;
  }
  return trimmed;
}

// Widgets put these values into href/src attributes, so only http(s) and site-relative paths
// are accepted: a `javascript:` URL in a feed must never reach a page.
function link(name: string, value: unknown, max: number, reasons: string[]): string | null {
  const s = text(name, value, max, reasons, false);
  if (s === null) return null;
  if (s.startsWith('/') && !s.startsWith('//')) return s;
  try {
    const u = new URL(s);
    if (u.protocol === 'http:' || u.protocol === 'https:') return s;
  } catch {
    // reported below
  }
  reasons.push(`${name} must be an http(s) URL or a path starting with "/"`);
  return null;
}

function validateProduct(
  raw: Partial<RawProduct>,
  limits: FeedLimits,
  fromCsv: boolean,
  reasons: string[],
): FeedProduct | null {
  const sku = text('sku', raw.sku, 64, reasons, true);
  if (sku !== null && !SKU_PATTERN.test(sku)) {
    reasons.push('sku must be 1-64 letters, digits or . _ - / and start with a letter or digit');
  }
  const groupId = text('groupId', raw.groupId, 64, reasons, false);
  if (groupId !== null && !SKU_PATTERN.test(groupId)) {
    reasons.push('groupId must follow the sku rule');
  }
  const title = text('title', raw.title, limits.maxTitle, reasons, true);
  const description = text('description', raw.description, limits.maxDescription, reasons, false);
  const price = parsePrice(raw.price, limits, fromCsv, reasons);
  const currencyText = text('currency', raw.currency, 3, reasons, true);
  const currency = currencyText?.toUpperCase() ?? null;
  if (currency !== null && !CURRENCIES.has(currency)) {
    reasons.push(`currency "${currencyText}" is not an ISO 4217 code`);
  }
  const url = link('url', raw.url, limits.maxUrl, reasons);
  const image = link('image', raw.image, limits.maxUrl, reasons);
  const category = text('category', raw.category, limits.maxCategory, reasons, false);
  const attributes = parseAttributes(raw.attributes, limits, reasons);
  if (reasons.length > 0 || sku === null || title === null || price === null) return null;
  if (currency === null) return null;
  return {
    sku,
    groupId,
    title,
    description: description ?? '',
    price,
    currency,
    url,
    image,
    category,
    attributes,
  };
}

function parsePrice(
  value: unknown,
  limits: FeedLimits,
  fromCsv: boolean,
  reasons: string[],
): number | null {
  if (value === undefined || value === null || value === '') {
    reasons.push('missing price');
    return null;
  }
  // CSV has only text; JSON must say what it means with a number, so "12.50" is not guessed at.
  const n =
    fromCsv && typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)
      ? Number(value)
      : typeof value === 'number'
        ? value
        : NaN;
  if (!Number.isFinite(n)) {
    reasons.push('price must be a number of minor units');
    return null;
  }
  if (!Number.isInteger(n)) {
    reasons.push('price must be an integer number of minor units (e.g. 1299 for 12.99)');
    return null;
  }
  if (n < 0) {
    reasons.push('price must not be negative');
    return null;
  }
  if (n > limits.maxPrice) {
    reasons.push(`price is above ${limits.maxPrice} minor units`);
    return null;
  }
  return n;
}

function parseAttributes(
  value: unknown,
  limits: FeedLimits,
  reasons: string[],
): Record<string, string> {
  if (value === undefined || value === null || value === '') return {};
  if (!isObject(value)) {
    reasons.push('attributes must be an object of strings');
    return {};
  }
  const out: Record<string, string> = {};
  const entries = Object.entries(value);
  if (entries.length > limits.maxAttributes) {
    reasons.push(`more than ${limits.maxAttributes} attributes`);
    return {};
  }
  for (const [rawKey, rawValue] of entries) {
    const key = rawKey.trim();
    if (key === '' || key.length > limits.maxAttributeKey) {
      reasons.push(`attribute name "${key}" must be 1-${limits.maxAttributeKey} characters`);
      continue;
    }
    if (typeof rawValue === 'number' || typeof rawValue === 'boolean') {
      out[key] = String(rawValue);
      continue;
    }
    if (typeof rawValue !== 'string') {
      reasons.push(`attribute "${key}" must be a string`);
      continue;
    }
    const v = rawValue.trim();
    if (v.length > limits.maxAttributeValue) {
      reasons.push(`attribute "${key}" is longer than ${limits.maxAttributeValue} characters`);
      continue;
    }
    if (v !== '') out[key] = v;
  }
  return out;
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
