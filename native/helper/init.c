#include "init.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: an executable memfd, whatever vm.memfd_noexec says by default */
#endif

static const int FORWARDED[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

int init_image(void) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return -1;
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (!slash || (size_t)(slash - self) + sizeof "/zonectl-init" > sizeof self) return -1;
  strcpy(slash, "/zonectl-init");
  int in = open(self, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -1;
  char buf[65536];
  ssize_t len = read(in, buf, sizeof buf);
  close(in);
  if (len <= 0 || len == (ssize_t)sizeof buf) return -1;
  int fd = memfd_create("zonectl-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0) fd = memfd_create("zonectl-init", MFD_CLOEXEC | MFD_ALLOW_SEALING); /* before 6.3 */
  if (fd < 0) return -1;
  if (write(fd, buf, (size_t)len) != len ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void init_exec(int image, pid_t main_pid, int gate) {
  if (image < 0) return;
  char pid[16], g[16];
  snprintf(pid, sizeof pid, "%d", (int)main_pid);
  snprintf(g, sizeof g, "%d", gate);
  char *argv[] = {"zonectl-init", pid, g, NULL};
  char *envp[] = {NULL};
  /* the gate is the one descriptor it keeps */
  if (fcntl(gate, F_SETFD, 0) < 0) return;
  syscall(SYS_execveat, image, "", argv, envp, AT_EMPTY_PATH);
  fcntl(gate, F_SETFD, FD_CLOEXEC);
}

void init_run(pid_t main_pid) {
  /* Blocked signals are delivered to pid 1 of a namespace even without a handler. */
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig == SIGCHLD) {
      int status;
      pid_t p;
      while ((p = waitpid(-1, &status, WNOHANG)) > 0)
        if (p == main_pid) _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      continue;
    }
    for (size_t i = 0; i < sizeof FORWARDED / sizeof FORWARDED[0]; i++)
      if (sig == FORWARDED[i]) kill(main_pid, sig);
  }
}
