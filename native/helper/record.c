#include "record.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

int record_write(const char *dir, const struct record *r) {
  char tmp[4096], path[4096], buf[2048];
  snprintf(tmp, sizeof tmp, "%s/state.tmp", dir);
  snprintf(path, sizeof path, "%s/state", dir);
  int n = snprintf(buf, sizeof buf,
                   "state=%s\nsupervisor_pid=%d\nsupervisor_start=%llu\ninit_pid=%d\ninit_start=%llu\n"
                   "started_at=%lld\nexit_code=%d\nrestarts=%d\n",
                   r->state, (int)r->supervisor_pid, r->supervisor_start, (int)r->init_pid, r->init_start,
                   r->started_at, r->exit_code, r->restarts);
  if (r->error && r->error->err && n < (int)sizeof buf) {
    const char *name = strerrorname_np(r->error->err);
    n += snprintf(buf + n, sizeof buf - (size_t)n, "error=%s %s %s\n", name ? name : "E?", r->error->op,
                  r->error->detail);
  }
  if (n >= (int)sizeof buf) n = sizeof buf - 1;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return -1;
  int rc = write_all(fd, buf, (size_t)n);
  close(fd);
  if (rc < 0 || rename(tmp, path) < 0) return -1;
  return 0;
}
