#include "config.h"

#include "worker/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

pid_t spawn_process(char *const argv[], char *const envp[], const char *dir,
                    int in_fd, int out_fd, int st_fd, char *err,
                    size_t errlen) {
  pid_t me = getpid();
  /* vfork: no copy of this (large, threaded) process's page tables, which
   * made fork() the worker's main cost at high job rates.  The child only
   * makes system calls before execve.  All signals stay blocked across it
   * so that none runs a handler of ours in the child. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = vfork();
  if (pid == 0) { /* child */
    setpgid(0, 0);
    /* If this worker dies, its instances are marked LOST and retried
     * elsewhere: the interpreter must not go on running meanwhile. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != me) _exit(125);
    /* fd 3 first: in_fd or out_fd may be 3 themselves */
    if (st_fd >= 0 && st_fd != 3 && dup2(st_fd, 3) < 0) _exit(126);
    if (st_fd == 3) fcntl(3, F_SETFD, 0);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    if (chdir(dir) < 0) _exit(126);
    struct sigaction dfl, cur;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) /* handlers of ours, and SIGPIPE */
      if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &cur) == 0 &&
          (cur.sa_handler != SIG_IGN || sig == SIGPIPE) &&
          cur.sa_handler != SIG_DFL)
        sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(argv[0], argv, envp);
    _exit(127);
  }
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    snprintf(err, errlen, "vfork: %s", strerror(fork_errno));
    return -1;
  }
  setpgid(pid, pid); /* also from here: no race with an early kill */
  return pid;
}
