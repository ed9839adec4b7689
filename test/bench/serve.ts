// A bench server in its own process, so the load generator does not share its CPU.
// Prints `{"url": ...}` once listening; closes on SIGTERM (dropping its PostgreSQL schema).
import { benchServer } from './util.js';

const kind = process.argv[2] === 'postgres' ? 'postgres' : 'pglite';
const server = await benchServer(kind, {
  realLimits: process.argv.includes('--real-limits'),
  trustProxy: process.argv.includes('--trust-proxy'),
});
process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
