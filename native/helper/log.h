/* The zone's output, appended to a file rotated by size: PATH, PATH.1 ... PATH.(files-1). */
#ifndef ZONECTL_LOG_H
#define ZONECTL_LOG_H

struct zlog {
  const char *path;
  long long max_bytes;
  int max_files;
  int fd;
  long long size;
};

int log_open(struct zlog *l);
/* Appends, rotating whenever the file would exceed max_bytes (split at line ends when possible). */
void log_write(struct zlog *l, const char *buf, long n);

#endif
