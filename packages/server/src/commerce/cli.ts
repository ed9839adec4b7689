// `omnikit-server import`: loads a product feed into a site's catalog from the command line,
// with the same parsing, diff and all-or-nothing rule as `POST /v1/admin/products/import`.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { OmniError } from '@omnikit/protocol';
import { coreMigrations, migrate, openDb, type Db } from '../db/index.js';
import { silentLogger } from '../logger.js';
import { loadSites, SiteConfigError } from '../config/sites.js';
import { NotificationBus } from '../notify/bus.js';
import { importFeed } from './store/catalog.js';
import { commerceMigrations } from './store/migrations.js';

export const importUsage = `Usage: omnikit-server import --sites <file> --site <id> --feed <file> [options]

  --sites <file>     sites JSON file (env OMNIKIT_SITES)
  --site <id>        the site whose catalog is loaded
  --feed <file>      product feed, CSV or JSON (format from the extension, else sniffed)
  --format csv|json  force the feed format
  --partial          import the good rows even when some are rejected
  --data-dir <dir>   embedded PGlite data directory (env OMNIKIT_DATA_DIR); the server must
                     not be running on it. PostgreSQL instead: env DATABASE_URL
  --schema <name>    PostgreSQL/PGlite schema (default: the database's search path)

Prints the import report as JSON. Exit status: 0 imported with no rejected rows, 1 rows were
rejected (nothing imported unless --partial), 2 usage or configuration error.`;

/** Output sinks, so tests can capture what the CLI prints. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Runs the import command (`argv` without the `import` word); resolves to the exit status. */
export async function runImportCli(
  argv: readonly string[],
  io: CliIo = processIo,
): Promise<number> {
  const usage = (message: string): number => {
    io.err(`omnikit-server import: ${message}\n\n${importUsage}\n`);
    return 2;
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        sites: { type: 'string', default: process.env.OMNIKIT_SITES },
        site: { type: 'string' },
        feed: { type: 'string' },
        format: { type: 'string' },
        partial: { type: 'boolean', default: false },
        'data-dir': { type: 'string', default: process.env.OMNIKIT_DATA_DIR },
        schema: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    return usage((err as Error).message);
  }
  if (values.help) {
    io.out(`${importUsage}\n`);
    return 0;
  }
  if (!values.sites) return usage('--sites <file> (or OMNIKIT_SITES) is required');
  if (!values.site) return usage('--site <id> is required');
  if (!values.feed) return usage('--feed <file> is required');
  const format = values.format ?? (/\.json$/i.test(values.feed) ? 'json' : undefined);
  if (format !== undefined && format !== 'csv' && format !== 'json') {
    return usage(`--format must be csv or json, not "${format}"`);
  }
  let text: string;
  try {
    const sites = await loadSites(values.sites);
    if (!sites.some((s) => s.id === values.site)) {
      return usage(`site "${values.site}" is not in ${values.sites}`);
    }
    text = await readFile(values.feed, 'utf8');
  } catch (err) {
    if (err instanceof SiteConfigError) return usage(err.message);
    return usage(`cannot read ${values.feed} (${(err as Error).message})`);
  }
  const url = process.env.DATABASE_URL || undefined;
  const dataDir = values['data-dir'];
  if (!url && !dataDir) return usage('--data-dir <dir> (or env DATABASE_URL) is required');
  let db: Db | undefined;
  try {
    db = await openDb(
      {
        ...(url ? { url } : dataDir ? { dataDir } : {}),
        ...(values.schema ? { schema: values.schema } : {}),
      },
      silentLogger,
    );
    await migrate(db, [...coreMigrations, ...commerceMigrations]);
    // Running servers on the same PostgreSQL hear about the new catalog.
    const bus = new NotificationBus(db, silentLogger);
    await bus.start();
    const start = performance.now();
    const { report } = await importFeed(db, values.site, text, {
      ...(format ? { format } : {}),
      partial: values.partial,
      now: Date.now(),
      bus,
    });
    await bus.stop();
    const seconds = (performance.now() - start) / 1000;
    const rows = report.created + report.updated + report.unchanged + report.rejected.length;
    io.out(`${JSON.stringify({ site: values.site, ...report }, null, 2)}\n`);
    io.err(
      `${report.applied ? 'imported' : 'NOT imported'}: ${report.created} created, ` +
        `${report.updated} updated, ${report.unchanged} unchanged, ` +
        `${report.rejected.length} rejected (${Math.round(rows / Math.max(seconds, 1e-3))} rows/s)\n`,
    );
    return report.rejected.length > 0 ? 1 : 0;
  } catch (err) {
    if (err instanceof OmniError) {
      io.err(`omnikit-server import: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await db?.close();
  }
}
