#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { jsonLogger } from './logger.js';
import { commerceExtension, loadSites, SiteConfigError, startServer } from './index.js';
import { runImportCli } from './commerce/cli.js';
import { runGcCli } from './gc-cli.js';

// `omnikit-server import ...` imports a product feed, `gc` runs retention (see their --help).
if (process.argv[2] === 'import') process.exit(await runImportCli(process.argv.slice(3)));
if (process.argv[2] === 'gc') process.exit(await runGcCli(process.argv.slice(3)));

const usage = `Usage: omnikit-server [options]
       omnikit-server import --sites <file> --site <id> --feed <file>   (product feed import)
       omnikit-server gc --sites <file>                                   (retention, once)

  --port <n>         port (env PORT, default 8787)
  --host <addr>      interface (env HOST, default 127.0.0.1)
  --sites <file>     sites JSON file (env OMNIKIT_SITES, required)
  --data-dir <dir>   embedded PGlite data directory (env OMNIKIT_DATA_DIR)
                     PostgreSQL instead: env DATABASE_URL
  --trust-proxy      client address from X-Forwarded-For: behind a proxy or load balancer
                     you run (env OMNIKIT_TRUST_PROXY=1); without it every client shares
                     the proxy's address and its limits
  --help             this text`;

function fail(message: string): never {
  console.error(`omnikit-server: ${message}\n\n${usage}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '8787' },
      host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
      sites: { type: 'string', default: process.env.OMNIKIT_SITES },
      'data-dir': { type: 'string', default: process.env.OMNIKIT_DATA_DIR },
      'trust-proxy': { type: 'boolean', default: process.env.OMNIKIT_TRUST_PROXY === '1' },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port ${values.port}`);
if (!values.sites) fail('--sites <file> (or OMNIKIT_SITES) is required');

try {
  const sites = await loadSites(values.sites);
  const databaseUrl = process.env.DATABASE_URL;
  const dataDir = values['data-dir'];
  const server = await startServer({
    port,
    host: values.host,
    sites,
    logger: jsonLogger,
    trustProxy: values['trust-proxy'],
    database: databaseUrl ? { url: databaseUrl } : dataDir ? { dataDir } : {},
    extensions: [commerceExtension()],
  });
  jsonLogger.info('listening', {
    url: server.url,
    sites: sites.length,
    database: databaseUrl ? 'postgres' : dataDir ? 'pglite' : 'pglite-memory',
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      jsonLogger.info('shutting down', { signal });
      server.close().then(
        () => process.exit(0),
        (err: Error) => {
          jsonLogger.error('shutdown failed', { error: err.message });
          process.exit(1);
        },
      );
    });
  }
} catch (err) {
  if (err instanceof SiteConfigError) fail(err.message);
  jsonLogger.error('start failed', { error: (err as Error).message });
  process.exit(1);
}
