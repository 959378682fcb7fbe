#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"

int log_open(struct zlog *l) {
  l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (l->fd < 0) return -1;
  struct stat st;
  l->size = fstat(l->fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

static void rotate(struct zlog *l) {
  char from[4096], to[4096];
  for (int i = l->max_files - 1; i >= 1; i--) {
    if (i == 1) snprintf(from, sizeof from, "%s", l->path);
    else snprintf(from, sizeof from, "%s.%d", l->path, i - 1);
    snprintf(to, sizeof to, "%s.%d", l->path, i);
    rename(from, to);  /* over the oldest, which is dropped */
  }
  if (l->max_files == 1) unlink(l->path);
  close(l->fd);
  log_open(l);
}

void log_write(struct zlog *l, const char *buf, long n) {
  while (n > 0) {
    long room = l->max_bytes - l->size, take = n;
    if (n > room) {
      /* fill the file up to its last whole line, then rotate */
      take = 0;
      for (long i = room; i > 0; i--)
        if (buf[i - 1] == '\n') { take = i; break; }
      if (take == 0 && l->size == 0) take = room; /* one line longer than a file: split it */
      if (take == 0) { rotate(l); continue; }
    }
    if (l->fd < 0 || write_all(l->fd, buf, (size_t)take) < 0) return;
    l->size += take;
    buf += take;
    n -= take;
    if (n > 0) rotate(l);
  }
}
