// Types of engines.mjs for the TypeScript that imports it (the end-to-end driver).
import type { ChildProcess } from 'node:child_process';

export interface Engine {
  label: string;
  install: string;
  /** What the engine needs on this machine (its binary), or null when it is not installed. */
  find(): string | null;
}

export const engines: Record<string, Engine | undefined>;
export const engineNames: string[];
export const chromiumArgs: string[];
export function startXvfb(): Promise<{ display: string; process: ChildProcess }>;
export function startWebKitDriver(
  binary: string,
  browserArgs?: string[],
): Promise<{ options: Record<string, unknown> & { capabilities: object }; stop(): void }>;
