// The processes the soak started, found from the process table: its browsers' processes are
// descendants of node's own (puppeteer's Chromium and Firefox with their content processes;
// WebKit's Xvfb, WebKitWebDriver, MiniBrowser and its web and network processes). Firefox's
// crash tests find a tab's process among them (firefox.mjs), and a soak that ends, however it
// ends, kills what of them outlived its browsers' own close (harness.mjs, webkit.mjs): a
// MiniBrowser whose WebKitWebDriver went first, say, would run on under init.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Every process's pid, parent and command name (`comm`). */
function table() {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/))
    .filter(Boolean)
    .map(([, pid, ppid, comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm }));
}

/** The processes under `roots` (not the roots themselves): `{ pid, comm }`. */
export function descendants(...roots) {
  return under(table(), roots);
}

function under(rows, roots) {
  const found = new Set(roots);
  // Parents come before children in pid order, except after pid wrap-around: repeat until done.
  for (let grew = true; grew;) {
    grew = false;
    for (const r of rows) {
      if (!found.has(r.pid) && found.has(r.ppid)) {
        found.add(r.pid);
        grew = true;
      }
    }
  }
  return rows.filter((r) => !roots.includes(r.pid) && found.has(r.pid));
}

/** What node starts for a browser (the rest under it, such as tsx's esbuild, is not the soak's). */
const browserRoots = /^(chromium|chrome|firefox|Xvfb|WebKitWebDriver|MiniBrowser)/;

/**
 * The browsers' processes this node process started: its children that are browsers, their
 * drivers or their display, and every process under those.
 */
export function browserProcesses() {
  const rows = table();
  const roots = rows.filter((r) => r.ppid === process.pid && browserRoots.test(r.comm));
  const pids = roots.map((r) => r.pid);
  return [...roots, ...under(rows, pids)];
}

/** A process's arguments ([] once it is gone). */
function args(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/**
 * The identities (see `identity`) of the WebKitWebDriver this node process started on `port`
 * and of every process under it (its MiniBrowser, and that one's web and network processes).
 */
export function driverProcesses(port) {
  const rows = table();
  const driver = rows.find(
    (r) =>
      r.ppid === process.pid &&
      r.comm === 'WebKitWebDriver' &&
      args(r.pid).includes(`--port=${port}`),
  );
  if (!driver) return new Set();
  const all = [driver, ...under(rows, [driver.pid])].map((r) => identity(r.pid));
  return new Set(all.filter(Boolean));
}

/** The state letter of a process (R, S, Z...), or null once it is gone. */
export function state(pid) {
  return stat(pid)?.[0] ?? null;
}

/** The fields of /proc/<pid>/stat after the command name (state first), or null. */
function stat(pid) {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
  } catch {
    return null;
  }
}

/**
 * What identifies a process across time: its pid and its start time (a pid that died and was
 * given to another program has another start time). Null once it is gone.
 */
export function identity(pid) {
  const start = stat(pid)?.[19];
  return start ? `${pid}@${start}` : null;
}

/**
 * SIGKILLs those of `known` (identities taken while they were ours) that still run as the very
 * same processes; resolves with how many it killed, once they are dead.
 */
export async function killSurvivors(known) {
  const alive = [...known]
    .map((id) => Number(id.split('@')[0]))
    .filter((pid) => known.has(identity(pid)) && state(pid) !== 'Z');
  for (const pid of alive) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone in the meantime.
    }
  }
  const until = Date.now() + 5000;
  while (alive.some((pid) => known.has(identity(pid)) && state(pid) !== 'Z')) {
    if (Date.now() > until) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return alive.length;
}
