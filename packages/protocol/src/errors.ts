/**
 * Stable error codes shared by the server (HTTP bodies) and the SDK (`OmniError.code`).
 * Clients switch on these; never rename one.
 */
/** HTTP status the server answers for each code. `network`/`storage` are client-side only. */
const statuses = {
  invalid_argument: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  network: 0,
  storage: 0,
} as const;

export type ErrorCode = keyof typeof statuses;
export const errorStatus: Readonly<Record<ErrorCode, number>> = statuses;

/** The codes as a value (`ErrorCode.not_found === 'not_found'`), for switches and checks. */
export const ErrorCode = Object.freeze(
  Object.fromEntries(Object.keys(statuses).map((k) => [k, k])),
) as { readonly [K in ErrorCode]: K };

/** The JSON body of every non-2xx answer of the server. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** True when `value` is one of the stable error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(statuses, value);
}

// isRetryable without its default, for the constructor, which always has a status.
const retryable = (code: ErrorCode, status: number) =>
  code === 'network' || code === 'rate_limited' || code === 'unavailable' || status >= 500;

/** Whether a failure with this code/status is worth retrying unchanged. */
export function isRetryable(code: ErrorCode, status = errorStatus[code]): boolean {
  return retryable(code, status);
}

/** A typed error: what the SDK throws and what the server turns into an {@link ErrorBody}. */
export class OmniError extends Error {
  override readonly name = 'OmniError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(
    code: ErrorCode,
    message: string,
    options: { status?: number; retryable?: boolean; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : options);
    this.code = code;
    this.status = options.status ?? statuses[code];
    this.retryable = options.retryable ?? retryable(code, this.status);
    this.details = options.details;
  }

  /** Rebuilds an error from a server answer; a body that is not an {@link ErrorBody} becomes `internal`. */
  static fromBody(status: number, body: unknown): OmniError {
    const err = (body as Partial<ErrorBody> | null)?.error;
    if (err && isErrorCode(err.code) && typeof err.message === 'string') {
      return new OmniError(err.code, err.message, { status, details: err.details });
    }
    return new OmniError(
      status >= 500 ? 'unavailable' : 'internal',
      `Unexpected answer (HTTP ${status})`,
      {
        status,
      },
    );
  }
}

/** The wire form of `err` (a function, not a method, so browser bundles leave it out). */
export function errorBody(err: OmniError): ErrorBody {
  return {
    error:
      err.details === undefined
        ? { code: err.code, message: err.message }
        : { code: err.code, message: err.message, details: err.details },
  };
}
