// The page a shop with a strict Content Security Policy gives the elements: scripts of its own
// origin only (no 'unsafe-inline', no 'unsafe-eval'), no plugins, and Trusted Types required
// for every DOM sink that parses or runs script. A web-test-runner middleware puts that policy on
// the test page of the files named here. web-test-runner writes two small inline scripts of its
// own into each test page (its config and its console capture): those two, and only those, are
// allowed by their hashes, so every line of code under test still has to come from the origin.
import { createHash } from 'node:crypto';

/** Test files that run under the strict policy (every element and the script-tag embed). */
export const strictCspFiles = ['packages/elements/test/', 'packages/embed/test/'];

const inlineScripts = /<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g;

/** The policy, allowing the given inline scripts by hash. */
export function strictPolicy(inline) {
  const hashes = inline.map((s) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`);
  return [
    `script-src 'self' ${hashes.join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "require-trusted-types-for 'script'",
  ].join('; ');
}

/** Koa middleware for web-test-runner's `middleware` option. */
export function strictCspMiddleware(files = strictCspFiles) {
  return async function strictCsp(ctx, next) {
    await next();
    if (ctx.path !== '/') return;
    const body = Buffer.isBuffer(ctx.body) ? ctx.body.toString('utf8') : ctx.body;
    if (typeof body !== 'string') return;
    // The test page names its file in the config script web-test-runner writes into it.
    const file = /"testFile":"\/?([^"?]+)/.exec(body)?.[1];
    if (!file || !files.some((f) => file.startsWith(f))) return;
    ctx.set(
      'content-security-policy',
      strictPolicy([...body.matchAll(inlineScripts)].map((m) => m[1])),
    );
  };
}
