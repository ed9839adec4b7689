// `omnikit-server gc`: one retention pass by each site's policy (what a running server does on
// its schedule), for a cron job or a server started with `gc: false`. Safe next to running
// servers: they and it share the collection lock.
import { parseArgs } from 'node:util';
import { loadSites, resolveSites, SiteConfigError } from './config/sites.js';
import { coreMigrations, migrate, openDb, type Db } from './db/index.js';
import { commerceExtension } from './commerce/extension.js';
import { silentLogger } from './logger.js';
import { collectGarbage } from './sync/gc.js';
import type { CliIo } from './commerce/cli.js';

export const gcUsage = `Usage: omnikit-server gc --sites <file> [options]

  --sites <file>       sites JSON file (env OMNIKIT_SITES); each site's "retention" applies
  --data-dir <dir>     embedded PGlite data directory (env OMNIKIT_DATA_DIR); the server must
                       not be running on it. PostgreSQL instead: env DATABASE_URL
  --schema <name>      PostgreSQL/PGlite schema (default: the database's search path)
  --batch-size <n>     rows per transaction (default 1000)

Prints what it deleted as one JSON line. Exit status: 0 done (or another instance was
collecting: "ran": false), 2 usage or configuration error.`;

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Runs the gc command (`argv` without the `gc` word); resolves to the exit status. */
export async function runGcCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const usage = (message: string): number => {
    io.err(`omnikit-server gc: ${message}\n\n${gcUsage}\n`);
    return 2;
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        sites: { type: 'string', default: process.env.OMNIKIT_SITES },
        'data-dir': { type: 'string', default: process.env.OMNIKIT_DATA_DIR },
        schema: { type: 'string' },
        'batch-size': { type: 'string', default: '1000' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    return usage((err as Error).message);
  }
  if (values.help) {
    io.out(`${gcUsage}\n`);
    return 0;
  }
  if (!values.sites) return usage('--sites <file> (or OMNIKIT_SITES) is required');
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    return usage('--batch-size must be an integer from 1 to 100000');
  }
  let sites;
  try {
    sites = await resolveSites(await loadSites(values.sites));
  } catch (err) {
    if (err instanceof SiteConfigError) return usage(err.message);
    throw err;
  }
  const url = process.env.DATABASE_URL || undefined;
  const dataDir = values['data-dir'];
  if (!url && !dataDir) return usage('--data-dir <dir> (or env DATABASE_URL) is required');
  let db: Db | undefined;
  try {
    db = await openDb(
      {
        ...(url ? { url } : { dataDir }),
        ...(values.schema ? { schema: values.schema } : {}),
      },
      silentLogger,
    );
    const commerce = commerceExtension();
    await migrate(db, [...coreMigrations, ...(commerce.migrations ?? [])]);
    const report = await collectGarbage(db, sites, [commerce], { batchSize });
    io.out(`${JSON.stringify(report)}\n`);
    return 0;
  } finally {
    await db?.close();
  }
}
