#include "init.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static const int FORWARDED[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

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
