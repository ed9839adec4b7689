// A bench server in its own process, so the load generator does not share its CPU.
// Prints `{"url": ...}` once listening (on fd 3 with --log); closes on SIGTERM (dropping its
// PostgreSQL schema).
import { writeSync } from 'node:fs';
import { benchServer } from './util.js';

const kind = process.argv[2] === 'postgres' ? 'postgres' : 'pglite';
const server = await benchServer(kind, {
  realLimits: process.argv.includes('--real-limits'),
  trustProxy: process.argv.includes('--trust-proxy'),
  log: process.argv.includes('--log'),
  refuseAtOnce: process.argv.includes('--refuse-at-once'),
  liftPushBudget: process.argv.includes('--lift-push-budget'),
});
// With --log, stdout carries the request log and the url line goes to fd 3 (see childServer).
const urlLine = JSON.stringify({ url: server.url }) + '\n';
if (process.argv.includes('--log')) writeSync(3, urlLine);
else process.stdout.write(urlLine);
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
