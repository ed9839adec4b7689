import { http, HttpResponse, type RequestHandler } from 'msw';
import { OmniError, errorBody } from '@omnikit/protocol';

export interface MockOptions {
  /** Base URL of the mocked API, e.g. `https://api.shop.example`; requests elsewhere are not handled. */
  endpoint: string;
}

/** msw request handlers that answer the omnikit `/v1` API in memory. */
export function createHandlers(options: MockOptions): RequestHandler[] {
  const base = options.endpoint.replace(/\/+$/, '');
  return [
    http.get(`${base}/v1/health`, () => HttpResponse.json({ ok: true, version: 'mock' })),
    http.all(`${base}/v1/*`, ({ request }) =>
      HttpResponse.json(
        errorBody(
          new OmniError('not_found', `No route ${request.method} ${new URL(request.url).pathname}`),
        ),
        { status: 404 },
      ),
    ),
  ];
}
