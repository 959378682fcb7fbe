#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vfill(struct zerr *z, int e, const char *op, const char *fmt, va_list ap) {
  z->err = e;
  snprintf(z->op, sizeof z->op, "%s", op);
  vsnprintf(z->detail, sizeof z->detail, fmt, ap);
}

int zerr_set(struct zerr *z, const char *op, const char *fmt, ...) {
  int e = errno;
  va_list ap;
  va_start(ap, fmt);
  vfill(z, e ? e : EIO, op, fmt, ap);
  va_end(ap);
  return -1;
}

int zerr_setn(struct zerr *z, int e, const char *op, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfill(z, e, op, fmt, ap);
  va_end(ap);
  return -1;
}

void zerr_print(const struct zerr *z) {
  const char *name = strerrorname_np(z->err);
  dprintf(2, "zonectl-helper: %s %s: %s (%s)\n", z->op, z->detail, name ? name : "E?", strerror(z->err));
}
