// What the scripts over the UCI Online Retail file share: the repository root their paths are
// resolved against, the default copy of the file, and reading it whether gzipped or not.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readInvoiceLines, type InvoiceLine } from '../src/commerce/index.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The `--data` default, relative to the repository root. */
export const DEFAULT_DATA = '../shared/data/online-retail-2010-12-to-2011-09.csv.gz';

/** The invoice lines of a UCI Online Retail CSV, gunzipped first when it is gzip (magic bytes). */
export function readRetailFile(path: string): InvoiceLine[] {
  const bytes = readFileSync(path);
  const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString();
  return readInvoiceLines(text);
}
