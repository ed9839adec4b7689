// A site's own service worker, as a PWA or Workbox installs one, between the page and the
// network. Its mode is the folder it is served from (/__omni/sw/<mode>/sw.js, see plugin.mjs):
//   pass  every request goes to the network through the worker (respondWith(fetch(request)));
//   hold  the same, except the sync event stream: it opens, then never delivers a byte.
const mode = self.location.pathname.split('/').at(-2);

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  if (mode === 'hold' && new URL(event.request.url).pathname === '/v1/sync/stream') {
    const silent = new ReadableStream();
    event.respondWith(new Response(silent, { headers: { 'content-type': 'text/event-stream' } }));
    return;
  }
  event.respondWith(fetch(event.request));
});
