/* A failed step as plain data: errno, the operation and the object it was applied to. */
#ifndef ZONECTL_ERR_H
#define ZONECTL_ERR_H

struct zerr {
  int err;          /* errno; 0 = none */
  char op[48];      /* the system call or step: "mount", "pivot_root", "execve" */
  char detail[400]; /* the object: a path, "proc on /run/zonectl/p/zones/z/root/proc" */
};

/* Fill from errno (or `e` when nonzero); always returns -1 so callers can `return zerr_set(...)`. */
int zerr_set(struct zerr *z, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int zerr_setn(struct zerr *z, int e, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "op detail: ENAME (message)" to fd 2. */
void zerr_print(const struct zerr *z);

#endif
