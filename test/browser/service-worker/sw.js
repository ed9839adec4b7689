// A site's own service worker, as a PWA or Workbox installs one, between the page and the
// network. Its mode is the folder it is served from (/__omni/sw/<mode>/sw.js, see plugin.mjs):
//   pass  every request goes to the network through the worker (respondWith(fetch(request)));
//   hold  the same, except the event streams (sync and stock): they open, then never deliver a
//         byte.
const mode = self.location.pathname.split('/').at(-2);
const streams = new Set(['/v1/sync/stream', '/v1/stock/stream']);

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  if (mode === 'hold' && streams.has(new URL(event.request.url).pathname)) {
    const silent = new ReadableStream();
    event.respondWith(new Response(silent, { headers: { 'content-type': 'text/event-stream' } }));
    return;
  }
  event.respondWith(fetch(event.request));
});
