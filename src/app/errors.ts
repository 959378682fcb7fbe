// A mistake the user can fix (a zone that does not exist, not running...): printed as one
// line, exit 1, never with a stack trace.

export class UserError extends Error {
  override name = 'UserError';
}
