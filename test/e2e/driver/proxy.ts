// A WebKit device's HTTP proxy (MiniBrowser --proxy): classic WebDriver can neither intercept
// requests nor report console messages, and WebKitGTK prints no console messages for an
// ephemeral (automation) session, so the device's traffic goes through this proxy, which
//  - cuts the demo API off for the device while it is blocked: its requests, open streams
//    included, end with a closed connection, as an unreachable server's would;
//  - puts a first classic script in the storefront's pages that reports console.error,
//    uncaught errors, unhandled rejections and CSP violations to it (sendBeacon, same origin);
//  - counts requests in flight for idle() (event streams aside).
import { request as httpRequest, createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

const CAPTURE = '/__omnikit-e2e/capture.js';
const REPORT = '/__omnikit-e2e/error';

// In the page: report errors before any of the page's own scripts runs.
const captureScript = `(() => {
  const report = (text) => navigator.sendBeacon(${JSON.stringify(REPORT)}, location.href + ': ' + text);
  const show = (v) => {
    if (v instanceof Error) return String(v);
    if (typeof v !== 'object' || v === null) return String(v);
    try { return JSON.stringify(v); } catch { return String(v); }
  };
  const error = console.error;
  console.error = function (...args) {
    report(args.map(show).join(' '));
    return error.apply(this, args);
  };
  addEventListener('error', (e) => {
    if (e.target === window) report(e.message);
    else report('failed to load ' + (e.target.src || e.target.href || e.target.localName));
  }, true);
  addEventListener('unhandledrejection', (e) => report('Unhandled Promise Rejection: ' + show(e.reason)));
  document.addEventListener('securitypolicyviolation', (e) =>
    report('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));
})();
`;

export interface DeviceProxy {
  /** `http://127.0.0.1:port`, for MiniBrowser's --proxy. */
  url: string;
  errors: string[];
  blockApi(blocked: boolean): void;
  idle(timeout: number): Promise<void>;
  close(): Promise<void>;
}

const isStream = (req: IncomingMessage) => /text\/event-stream/.test(req.headers.accept ?? '');

export async function startProxy(storefront: string, api: string): Promise<DeviceProxy> {
  const errors: string[] = [];
  const apiSockets = new Set<Socket>();
  let blocked = false;
  let inFlight = 0;
  let lastChange = Date.now();

  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', storefront);
    if (target.pathname === CAPTURE) {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      return res.end(captureScript);
    }
    if (target.pathname === REPORT) {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        errors.push(body);
        res.writeHead(204).end();
      });
      return;
    }
    const toApi = target.origin === api;
    if (toApi && blocked) return req.socket.destroy();
    if (toApi) {
      // While the request is under way: a kept-alive connection may carry other pages' next.
      apiSockets.add(req.socket);
      res.once('close', () => apiSockets.delete(req.socket));
    }
    const counted = !isStream(req);
    if (counted) inFlight++;
    let ended = false;
    const end = () => {
      if (counted && !ended) {
        ended = true;
        inFlight--;
        lastChange = Date.now();
      }
    };
    res.once('close', end);

    const headers: Record<string, string | string[] | undefined> = {
      ...req.headers,
      host: target.host,
    };
    delete headers['proxy-connection'];
    const upstream = httpRequest(target, { method: req.method, headers }, (up) => {
      const html =
        target.origin === storefront && /text\/html/.test(up.headers['content-type'] ?? '');
      if (!html) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      let page = '';
      up.setEncoding('utf8');
      up.on('data', (d: string) => (page += d));
      up.on('end', () => {
        const tag = `<script src="${CAPTURE}"></script>`;
        const withCapture = /<head[^>]*>/i.test(page)
          ? page.replace(/<head[^>]*>/i, (h) => `${h}\n${tag}`)
          : tag + page;
        const out = { ...up.headers };
        delete out['content-length'];
        delete out['transfer-encoding'];
        res.writeHead(up.statusCode ?? 200, out);
        res.end(withCapture);
      });
    });
    upstream.on('error', () => res.destroy());
    res.once('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  // No keep-alive timeout surprises: the browser decides when to close its connections.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    errors,
    blockApi(on) {
      blocked = on;
      // Going offline ends what is open too (the poke stream, a request under way).
      if (on) for (const socket of apiSockets) socket.destroy();
    },
    async idle(timeout) {
      const deadline = Date.now() + timeout;
      while (inFlight > 0 || Date.now() - lastChange < 500) {
        if (Date.now() > deadline) throw new Error(`the network did not settle in ${timeout} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
