#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int msg_send(int fd, const struct msg *m) { return write_all(fd, m, sizeof *m); }

int msg_recv(int fd, struct msg *m) {
  size_t got = 0;
  while (got < sizeof *m) {
    ssize_t r = read(fd, (char *)m + got, sizeof *m - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return got == 0 ? 0 : -1;
    got += (size_t)r;
  }
  return 1;
}

int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int write_file(const char *path, const char *data, struct zerr *z) {
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return zerr_set(z, "open", "%s", path);
  if (write_all(fd, data, strlen(data)) < 0) {
    int e = errno;
    close(fd);
    return zerr_setn(z, e, "write", "%s", path);
  }
  close(fd);
  return 0;
}

static long long clock_ms(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
long long now_ms(void) { return clock_ms(CLOCK_REALTIME); }
long long mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

unsigned long long proc_starttime(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* comm may contain spaces */
  if (!p) return 0;
  /* after ") " comes field 3; starttime is field 22 */
  int field = 2;
  for (; *p && field < 22; p++)
    if (*p == ' ') field++;
  return strtoull(p, NULL, 10);
}

int null_stdio(struct zerr *z) {
  int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0) return zerr_set(z, "open", "/dev/null");
  for (int i = 0; i < 3; i++)
    if (dup2(fd, i) < 0) return zerr_set(z, "dup2", "/dev/null");
  if (fd > 2) close(fd);
  return 0;
}
