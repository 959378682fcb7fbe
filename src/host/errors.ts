// Errors from the host layer: they name the object touched, the value written and the
// kernel's code, and keep the underlying error as `cause`.

export interface HostErrorDetails {
  cause?: unknown;
  /** The kernel's code (`EBUSY`, `ENOENT`...); taken from `cause` when not given. */
  code?: string;
  /** The file or directory involved. */
  path?: string;
  /** The value written, when the failure was a write. */
  value?: string;
}

/** A failure of an operation on the host, e.g. `write 268435456 to /sys/fs/cgroup/memory/zonectl/shop/web/memory.limit_in_bytes: EBUSY`. */
export class HostError extends Error {
  override name = 'HostError';
  readonly code: string | undefined;
  readonly path: string | undefined;
  readonly value: string | undefined;

  constructor(message: string, details: HostErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code ?? errnoCode(details.cause);
    this.path = details.path;
    this.value = details.value;
  }
}

/** The `code` of a Node system error (`ENOENT`), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
