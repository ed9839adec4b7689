// Serves the pages of the service-worker tests: /__omni/sw/<mode>/device.html and its worker
// /__omni/sw/<mode>/sw.js, one folder (so one worker scope) per mode, none covering other tests.
import { readFileSync } from 'node:fs';

const read = (name) => readFileSync(new URL(name, import.meta.url), 'utf8');

export function serviceWorkerPagesPlugin() {
  const page = read('./device.html');
  const worker = read('./sw.js');
  return {
    name: 'omni-service-worker-pages',
    serve(context) {
      const m = /^\/__omni\/sw\/(pass|hold)\/(device\.html|sw\.js)$/.exec(context.path);
      if (!m) return undefined;
      return m[2] === 'sw.js' ? { body: worker, type: 'js' } : { body: page, type: 'html' };
    },
  };
}
