/** One structured log record. Never put tokens, tickets or handoff codes in one. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Where the server writes its structured logs; inject a silent or capturing one in tests. */
export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

function line(level: string, msg: string, fields: LogFields | undefined): string {
  return JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
}

/** JSON lines on stdout (info) and stderr (warn, error): what log shippers expect. */
export const jsonLogger: Logger = {
  info: (msg, fields) => process.stdout.write(line('info', msg, fields) + '\n'),
  warn: (msg, fields) => process.stderr.write(line('warn', msg, fields) + '\n'),
  error: (msg, fields) => process.stderr.write(line('error', msg, fields) + '\n'),
};

/** Discards everything. */
export const silentLogger: Logger = {
  info: () => {},
  warn: () => {},
  error: () => {},
};
