// Firefox's tabs as processes: its content processes ("Web Content", or "Isolated Web Co" with
// Fission) are descendants of the browser's process (through its fork server), and SIGKILL to
// one is a real renderer crash: no pagehide, no unload, and the tab shows Firefox's crash page.
// Which tab a process runs is in neither its command line (the fork server launches them all
// alike) nor the order they appear in (a new tab may start in one process and move to another),
// so the tab tells: it fills 64 MB, and its process is the one whose resident memory grew by
// that much meanwhile (engines.mjs opens such tabs one at a time for it). Only a tab the crash
// tests may kill is asked (`crashable`); the unload test's tabs never fill it.
import { readFileSync } from 'node:fs';
import { descendants, state } from './processes.mjs';

/** Every content process under `root` (the browser's pid). */
export function contentProcesses(root) {
  return descendants(root)
    .filter((r) => /^(Web Content|Isolated Web Co)/.test(r.comm))
    .map((r) => r.pid);
}

/**
 * Kills `pid`, a content process of the browser `root`, with SIGKILL; resolves once it is dead
 * (gone, or a zombie its parent has yet to reap). A pid that is no longer one of the browser's
 * content processes (it died, and the number may have gone to another program) is refused.
 */
export async function killProcess(pid, root) {
  if (!contentProcesses(root).includes(pid)) {
    throw new Error(`process ${pid} is no longer a content process of the browser ${root}`);
  }
  if (!state(pid) || state(pid) === 'Z') throw new Error(`process ${pid} is not running`);
  process.kill(pid, 'SIGKILL');
  const until = Date.now() + 10000;
  while (state(pid) && state(pid) !== 'Z') {
    if (Date.now() > until) throw new Error(`process ${pid} still runs 10 s after SIGKILL`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resident memory of `pid` in bytes (0 once it is gone). */
function resident(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
  } catch {
    return 0;
  }
}

const BALLAST = 64 * 2 ** 20;

/** The content process under `root` that runs `page` (see the top of this file). */
export async function tabProcess(root, page, name) {
  const pids = contentProcesses(root);
  const before = pids.map(resident);
  await page.evaluate((bytes) => {
    window.__soakBallast = new Uint8Array(bytes).fill(1);
  }, BALLAST);
  const grew = pids.filter((pid, i) => resident(pid) - before[i] > BALLAST * 0.75);
  await page.evaluate(() => {
    window.__soakBallast = null;
  });
  if (grew.length !== 1) throw new Error(`${name}: ${grew.length} processes grew, not one`);
  return grew[0];
}
