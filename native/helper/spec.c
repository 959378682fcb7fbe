#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* key → number of value fields */
static const struct { const char *key; int nargs; } KEYS[] = {
  {"version", 1}, {"project", 1}, {"zone", 1}, {"hostname", 1}, {"root", 2}, {"rootfs", 1},
  {"layer", 2}, {"read_only", 1}, {"arg", 1}, {"env", 1}, {"workdir", 1}, {"user", 1},
  {"bind", 3}, {"tmpfs", 2}, {"caps", 1}, {"cgroup", 1}, {"state", 1},
  {"log", 3}, {"restart", 2}, {"grace", 1}, {"seccomp", 1}, {"userns", 2}, {"end", 0},
};

static int push(char ***list, int *n, char *v) {
  char **l = realloc(*list, sizeof(char *) * (size_t)(*n + 2));
  if (!l) return -1;
  l[(*n)++] = v;
  l[*n] = NULL;
  *list = l;
  return 0;
}

static int num(const char *v, long long min, long long max, long long *out) {
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || end == v || *end || x < min || x > max) return -1;
  *out = x;
  return 0;
}

static int absolute(const char *p) { return p[0] == '/'; }

int spec_parse(char *buf, long len, struct spec *s, struct zerr *z) {
  memset(s, 0, sizeof *s);
  s->workdir = "/";
  s->max_retries = -1;
  s->log_max_bytes = 10 << 20;
  s->log_max_files = 3;
  s->stop_grace_ms = 10000;
  s->seccomp = 1;
  int nargv = 0, nenv = 0, ncg = 0, ended = 0, records = 0;
  if (len == 0 || buf[len - 1] != '\0') return zerr_setn(z, EINVAL, "spec", "not NUL-terminated");
  char *p = buf, *end = buf + len;
  while (p < end) {
    if (ended) return zerr_setn(z, EINVAL, "spec", "data after end");
    char *key = p;
    p += strlen(p) + 1;
    int nargs = -1;
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++)
      if (strcmp(KEYS[i].key, key) == 0) nargs = KEYS[i].nargs;
    if (nargs < 0) return zerr_setn(z, EINVAL, "spec", "unknown key %.40s", key);
    char *v[3] = {0};
    for (int i = 0; i < nargs; i++) {
      if (p >= end) return zerr_setn(z, EINVAL, "spec", "truncated at %s", key);
      v[i] = p;
      p += strlen(p) + 1;
    }
    long long n;
    if (records++ == 0 && (strcmp(key, "version") || strcmp(v[0], "1")))
      return zerr_setn(z, EINVAL, "spec", "expected version 1 first");
    if (!strcmp(key, "version")) {
    } else if (!strcmp(key, "project")) s->project = v[0];
    else if (!strcmp(key, "zone")) s->zone = v[0];
    else if (!strcmp(key, "hostname")) s->hostname = v[0];
    else if (!strcmp(key, "root")) {
      if (!strcmp(v[0], "sparse")) s->root = ROOT_SPARSE;
      else if (!strcmp(v[0], "path")) s->root = ROOT_PATH;
      else if (!strcmp(v[0], "image")) s->root = ROOT_IMAGE;
      else return zerr_setn(z, EINVAL, "spec", "root kind %.40s", v[0]);
      s->lower = s->root == ROOT_SPARSE ? NULL : v[1];
      if (s->lower && !absolute(s->lower)) return zerr_setn(z, EINVAL, "spec", "root %s is not absolute", v[1]);
    } else if (!strcmp(key, "rootfs")) s->rootfs = v[0];
    else if (!strcmp(key, "layer")) { s->upper = v[0]; s->work = v[1]; }
    else if (!strcmp(key, "read_only")) s->read_only = !strcmp(v[0], "1");
    else if (!strcmp(key, "arg")) { if (push(&s->argv, &nargv, v[0])) goto nomem; }
    else if (!strcmp(key, "env")) {
      if (!strchr(v[0], '=')) return zerr_setn(z, EINVAL, "spec", "env %.40s has no =", v[0]);
      if (push(&s->env, &nenv, v[0])) goto nomem;
    } else if (!strcmp(key, "workdir")) s->workdir = v[0];
    else if (!strcmp(key, "user")) s->user = v[0];
    else if (!strcmp(key, "bind") || !strcmp(key, "tmpfs")) {
      struct zmount *m = realloc(s->mounts, sizeof *m * (size_t)(s->nmounts + 1));
      if (!m) goto nomem;
      s->mounts = m;
      m = &m[s->nmounts++];
      memset(m, 0, sizeof *m);
      if (key[0] == 'b') {
        m->kind = MOUNT_BIND; m->source = v[0]; m->target = v[1]; m->read_only = !strcmp(v[2], "1");
        if (!absolute(m->source)) return zerr_setn(z, EINVAL, "spec", "bind source %s is not absolute", m->source);
      } else {
        m->kind = MOUNT_TMPFS; m->target = v[0];
        if (num(v[1], 0, 1LL << 50, &m->size)) return zerr_setn(z, EINVAL, "spec", "tmpfs size %.40s", v[1]);
      }
      if (!absolute(m->target)) return zerr_setn(z, EINVAL, "spec", "mount target %s is not absolute", m->target);
    } else if (!strcmp(key, "caps")) {
      char *e;
      errno = 0;
      s->caps = strtoull(v[0], &e, 16);
      if (errno || *e || e == v[0]) return zerr_setn(z, EINVAL, "spec", "caps %.40s", v[0]);
    } else if (!strcmp(key, "cgroup")) { if (push(&s->cgroups, &ncg, v[0])) goto nomem; }
    else if (!strcmp(key, "state")) s->state_dir = v[0];
    else if (!strcmp(key, "log")) {
      s->log_path = v[0];
      if (num(v[1], 4096, 1LL << 40, &s->log_max_bytes)) return zerr_setn(z, EINVAL, "spec", "log size %.40s", v[1]);
      if (num(v[2], 1, 100, &n)) return zerr_setn(z, EINVAL, "spec", "log files %.40s", v[2]);
      s->log_max_files = (int)n;
    } else if (!strcmp(key, "restart")) {
      if (!strcmp(v[0], "no")) s->restart = RESTART_NO;
      else if (!strcmp(v[0], "always")) s->restart = RESTART_ALWAYS;
      else if (!strcmp(v[0], "on-failure")) s->restart = RESTART_ON_FAILURE;
      else return zerr_setn(z, EINVAL, "spec", "restart %.40s", v[0]);
      if (num(v[1], -1, 1 << 30, &n)) return zerr_setn(z, EINVAL, "spec", "max retries %.40s", v[1]);
      s->max_retries = (int)n;
    } else if (!strcmp(key, "grace")) {
      if (num(v[0], 0, 1 << 30, &n)) return zerr_setn(z, EINVAL, "spec", "grace %.40s", v[0]);
      s->stop_grace_ms = (int)n;
    } else if (!strcmp(key, "seccomp")) {
      if (strcmp(v[0], "default") && strcmp(v[0], "unconfined")) return zerr_setn(z, EINVAL, "spec", "seccomp %.40s", v[0]);
      s->seccomp = !strcmp(v[0], "default");
    } else if (!strcmp(key, "userns")) {
      long long c;
      /* the whole range inside the host's ids, never host root's */
      if (num(v[0], 1, 0xfffffffeLL, &n) || num(v[1], 1, 0xfffffffeLL, &c) || n + c > 0xffffffffLL)
        return zerr_setn(z, EINVAL, "spec", "userns %.20s %.20s", v[0], v[1]);
      s->userns_base = (unsigned)n;
      s->userns_count = (unsigned)c;
    } else if (!strcmp(key, "end")) ended = 1;
  }
  if (!ended) return zerr_setn(z, EINVAL, "spec", "truncated: no end record");
  if (!s->project || !s->zone || !s->hostname || !s->rootfs || !s->upper || !s->state_dir ||
      !s->log_path || !s->argv || !absolute(s->rootfs))
    return zerr_setn(z, EINVAL, "spec", "a required record is missing");
  if (!s->env && !(s->env = calloc(1, sizeof(char *)))) goto nomem;
  if (!s->cgroups && !(s->cgroups = calloc(1, sizeof(char *)))) goto nomem;
  return 0;
nomem:
  return zerr_setn(z, ENOMEM, "spec", "parse");
}

int spec_read_file(const char *path, char **buf, long *len, struct zerr *z) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return zerr_set(z, "open", "%s", path);
  long cap = 4096, n = 0;
  char *b = malloc((size_t)cap);
  for (;;) {
    if (!b) { close(fd); return zerr_setn(z, ENOMEM, "read", "%s", path); }
    ssize_t r = read(fd, b + n, (size_t)(cap - n));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { int e = errno; free(b); close(fd); return zerr_setn(z, e, "read", "%s", path); }
    if (r == 0) break;
    n += r;
    if (n == cap) {
      if (cap > (16 << 20)) { free(b); close(fd); return zerr_setn(z, EFBIG, "read", "%s", path); }
      char *nb = realloc(b, (size_t)(cap *= 2));
      if (!nb) free(b);
      b = nb;
    }
  }
  close(fd);
  *buf = b;
  *len = n;
  return 0;
}
