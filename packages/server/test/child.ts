// A server in a child process (fixtures/child-server.ts) that a test can stop gracefully or kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface ChildServer {
  url: string;
  proc: ChildProcess;
  /** Every JSON line the child printed after `{"url"}`, as it comes. */
  onLine(handler: (line: Record<string, unknown>) => void): void;
  /** The last 8 KB the child wrote on stderr (what it said before dying). */
  stderr(): string;
  /** SIGTERM and wait (in-flight requests finish), or SIGKILL and wait. */
  stop(how: 'graceful' | 'kill'): Promise<void>;
}

const script = fileURLToPath(new URL('./fixtures/child-server.ts', import.meta.url));

export async function startChild(
  db: string,
  env: Record<string, string> = {},
): Promise<ChildServer> {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
    env: { ...process.env, CHILD_DB: db, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const handlers: ((line: Record<string, unknown>) => void)[] = [];
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-8192)));
  let buffer = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (!text.startsWith('{')) continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        if (typeof line.url === 'string') resolve(line.url);
        else for (const h of handlers) h(line);
      }
    });
    proc.once('exit', (code, signal) =>
      reject(new Error(`child server exited (${code ?? signal}) before listening: ${err}`)),
    );
  });
  let exited: Promise<unknown> | undefined;
  return {
    url,
    proc,
    onLine: (h) => handlers.push(h),
    stderr: () => err,
    async stop(how) {
      exited ??=
        proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : once(proc, 'exit');
      proc.kill(how === 'kill' ? 'SIGKILL' : 'SIGTERM');
      await exited;
    },
  };
}
