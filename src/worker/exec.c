#include "config.h"

#include "worker/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/node.h"
#include "util/clock.h"
#include "util/log.h"

#define EXEC_CHUNK 16384
#define EXEC_LOG_MAX (64u << 20) /* bytes streamed per instance */

struct exec_proc {
  struct exec_proc *next;
  uint64_t instance_id;
  Heracron__Trigger trigger;
  pid_t pid;
  int fd;               /* read end of the output pipe, -1 at EOF */
  ev_io out;
  ev_child child;
  ev_timer timeout;
  ev_timer grace;
  bool exited;
  int status;           /* wait status */
  bool timed_out, stopped;
  uint32_t seq;
  uint64_t logged;      /* bytes streamed */
  uint32_t grace_ms;
  char reason[128];
};

static struct {
  struct exec_sink sink;
  struct exec_proc *procs;
  size_t count;
} ex;

void exec_init(const struct exec_sink *sink) { ex.sink = *sink; }

static const char *exec_trigger_name(Heracron__Trigger t) {
  switch (t) {
  case HERACRON__TRIGGER__SCHEDULE: return "schedule";
  case HERACRON__TRIGGER__MANUAL: return "manual";
  case HERACRON__TRIGGER__RECOVERY: return "recovery";
  case HERACRON__TRIGGER__SUPER_RECOVERY: return "super_recovery";
  case HERACRON__TRIGGER__RERUN: return "rerun";
  case HERACRON__TRIGGER__DEBUG: return "debug";
  default: return "run";
  }
}

static void exec_finish(struct exec_proc *p) {
  if (!p->exited || p->fd >= 0) return; /* wait for both exit and EOF */
  ev_timer_stop(node.loop, &p->timeout);
  ev_timer_stop(node.loop, &p->grace);
  Heracron__StatusReport r = HERACRON__STATUS_REPORT__INIT;
  r.instance_id = p->instance_id;
  r.log_chunks = p->seq;
  if (WIFEXITED(p->status)) r.exit_code = WEXITSTATUS(p->status);
  if (WIFSIGNALED(p->status)) r.signal = WTERMSIG(p->status);
  if (p->timed_out) {
    r.state = HERACRON__RUN_STATE__TIMED_OUT;
    r.reason = (char *)"timed out";
  } else if (p->stopped) {
    r.state = HERACRON__RUN_STATE__STOPPED;
    r.reason = p->reason;
  } else if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0) {
    r.state = HERACRON__RUN_STATE__SUCCEEDED;
  } else {
    r.state = HERACRON__RUN_STATE__FAILED;
  }
  for (struct exec_proc **pp = &ex.procs; *pp; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  ex.count--;
  log_info("exec: instance %llu ended: %s (exit %d, signal %d)",
           (unsigned long long)p->instance_id,
           r.state == HERACRON__RUN_STATE__SUCCEEDED ? "succeeded"
           : r.state == HERACRON__RUN_STATE__TIMED_OUT ? "timed out"
           : r.state == HERACRON__RUN_STATE__STOPPED   ? "stopped"
                                                      : "failed",
           r.exit_code, r.signal);
  ex.sink.on_exit(p->instance_id, &r);
  free(p);
}

static void exec_out_cb(struct ev_loop *loop, ev_io *w, int revents) {
  struct exec_proc *p = (struct exec_proc *)(void *)((char *)w - offsetof(struct exec_proc, out));
  uint8_t buf[EXEC_CHUNK];
  ssize_t n = read(p->fd, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    ev_io_stop(loop, w);
    close(p->fd);
    p->fd = -1;
    exec_finish(p);
    return;
  }
  if (p->logged < EXEC_LOG_MAX) {
    p->logged += (uint64_t)n;
    ex.sink.on_log(p->instance_id, ++p->seq, buf, (size_t)n);
    if (p->logged >= EXEC_LOG_MAX) {
      static const char cut[] = "\n[heracron: log cut at 64 MiB; the job "
                                "goes on]\n";
      ex.sink.on_log(p->instance_id, ++p->seq, (const uint8_t *)cut,
                     sizeof(cut) - 1);
    }
  }
}

static void exec_child_cb(struct ev_loop *loop, ev_child *w, int revents) {
  struct exec_proc *p = (struct exec_proc *)(void *)((char *)w - offsetof(struct exec_proc, child));
  ev_child_stop(loop, w);
  p->exited = true;
  p->status = w->rstatus;
  /* Grandchildren may keep the pipe open: end the group, then read on. */
  kill(-p->pid, SIGKILL);
  exec_finish(p);
}

static void exec_grace_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  struct exec_proc *p = (struct exec_proc *)(void *)((char *)t - offsetof(struct exec_proc, grace));
  log_warn("exec: instance %llu still running %u ms after SIGTERM; SIGKILL "
           "to its process group",
           (unsigned long long)p->instance_id, p->grace_ms);
  kill(-p->pid, SIGKILL);
}

static void exec_terminate(struct exec_proc *p) {
  kill(-p->pid, SIGTERM);
  if (!ev_is_active(&p->grace)) {
    ev_timer_set(&p->grace, p->grace_ms / 1000.0, 0.);
    ev_timer_start(node.loop, &p->grace);
  }
}

static void exec_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  struct exec_proc *p = (struct exec_proc *)(void *)((char *)t - offsetof(struct exec_proc, timeout));
  log_warn("exec: instance %llu exceeded its timeout; SIGTERM to its "
           "process group",
           (unsigned long long)p->instance_id);
  p->timed_out = true;
  exec_terminate(p);
}

int exec_stop(uint64_t instance_id, const char *reason) {
  for (struct exec_proc *p = ex.procs; p; p = p->next) {
    if (p->instance_id != instance_id) continue;
    p->stopped = true;
    snprintf(p->reason, sizeof(p->reason), "%s", reason);
    exec_terminate(p);
    return 0;
  }
  return -1;
}

/* mkdir -p for the instance's directory. */
static int exec_mkdirs(char *path) {
  for (char *s = path + 1; *s; s++) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(path, 0755) < 0 && errno != EEXIST) return -1;
    *s = '/';
  }
  return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int exec_start(const Heracron__Execute *x, char *err, size_t errlen) {
  for (struct exec_proc *p = ex.procs; p; p = p->next)
    if (p->instance_id == x->instance_id) return p->pid; /* already runs */
  if (strcmp(x->type, "shell") != 0 && x->type[0] != '\0') {
    snprintf(err, errlen, "job type '%s' is not configured on this worker",
             x->type);
    return -1;
  }
  char dir[1024], script[1100];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  snprintf(dir, sizeof(dir), "%s/%04d-%02d-%02d/%s-%llu", node.cfg.node.work_dir,
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           exec_trigger_name(x->trigger), (unsigned long long)x->instance_id);
  snprintf(script, sizeof(script), "%s/script", dir);
  /* Writing a small file is fast local I/O; a job's output is what may be
   * large, and that is read on the loop without blocking. */
  if (exec_mkdirs(dir) < 0) {
    snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    return -1;
  }
  int sfd = open(script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
  size_t len = strlen(x->script);
  if (sfd < 0 || write(sfd, x->script, len) != (ssize_t)len) {
    snprintf(err, errlen, "cannot write %s: %s", script, strerror(errno));
    if (sfd >= 0) close(sfd);
    return -1;
  }
  close(sfd);
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) < 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return -1;
  }
  char env[6][64];
  snprintf(env[0], sizeof(env[0]), "HERACRON_JOB_ID=%u", x->job_id);
  snprintf(env[1], sizeof(env[1]), "HERACRON_ACTION_ID=%lld", (long long)x->action_id);
  snprintf(env[2], sizeof(env[2]), "HERACRON_INSTANCE_ID=%llu", (unsigned long long)x->instance_id);
  snprintf(env[3], sizeof(env[3]), "HERACRON_TRIGGER=%s", exec_trigger_name(x->trigger));
  snprintf(env[4], sizeof(env[4]), "HERACRON_BIZDATE=%.8s", x->bizdate);
  snprintf(env[5], sizeof(env[5]), "HERACRON_ATTEMPT=%u", x->attempt);
  /* The child's environment is built here: after fork() in a threaded
   * process only async-signal-safe calls are allowed. */
  extern char **environ;
  size_t nenv = 0;
  while (environ[nenv] != NULL) nenv++;
  char **envp = calloc(nenv + 7, sizeof(char *));
  if (envp == NULL) {
    snprintf(err, errlen, "out of memory");
    close(pfd[0]);
    close(pfd[1]);
    return -1;
  }
  size_t ne = 0;
  for (size_t i = 0; i < nenv; i++)
    if (strncmp(environ[i], "HERACRON_", 9) != 0) envp[ne++] = environ[i];
  for (int i = 0; i < 6; i++) envp[ne++] = env[i];
  envp[ne] = NULL;
  char *const argv[] = {(char *)"sh", script, NULL};
  pid_t me = getpid();
  /* vfork: no copy of this (large, threaded) process's page tables, which
   * made fork() the worker's main cost at high job rates.  The child only
   * makes system calls before execve.  All signals stay blocked across it
   * so that none runs a handler of ours in the child. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = vfork();
  if (pid == 0) { /* child */
    setpgid(0, 0);
    /* If this worker dies, its instances are marked LOST and retried
     * elsewhere: the interpreter must not go on running meanwhile. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != me) _exit(125);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(pfd[1], 1);
    dup2(pfd[1], 2);
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
    execve("/bin/sh", argv, envp);
    _exit(127);
  }
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (devnull >= 0) close(devnull);
  if (pid < 0) {
    snprintf(err, errlen, "vfork: %s", strerror(fork_errno));
    free(envp);
    close(pfd[0]);
    close(pfd[1]);
    return -1;
  }
  free(envp);
  setpgid(pid, pid); /* also from here: no race with an early kill */
  close(pfd[1]);
  fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);
  struct exec_proc *p = calloc(1, sizeof(*p));
  if (p == NULL) {
    kill(-pid, SIGKILL);
    close(pfd[0]);
    snprintf(err, errlen, "out of memory");
    return -1; /* the zombie is reaped by libev's SIGCHLD handling */
  }
  p->instance_id = x->instance_id;
  p->trigger = x->trigger;
  p->pid = pid;
  p->fd = pfd[0];
  p->grace_ms = x->kill_grace_ms ? x->kill_grace_ms : 5000;
  ev_io_init(&p->out, exec_out_cb, p->fd, EV_READ);
  ev_io_start(node.loop, &p->out);
  ev_child_init(&p->child, exec_child_cb, pid, 0);
  ev_child_start(node.loop, &p->child);
  ev_init(&p->grace, exec_grace_cb);
  ev_init(&p->timeout, exec_timeout_cb);
  if (x->timeout_s > 0) {
    ev_timer_set(&p->timeout, x->timeout_s, 0.);
    ev_timer_start(node.loop, &p->timeout);
  }
  p->next = ex.procs;
  ex.procs = p;
  ex.count++;
  log_info("exec: instance %llu (job %u, %s) started as pid %d in %s",
           (unsigned long long)x->instance_id, x->job_id,
           exec_trigger_name(x->trigger), (int)pid, dir);
  return pid;
}

size_t exec_running(uint64_t *ids, Heracron__Trigger *triggers, size_t max) {
  size_t n = 0;
  for (struct exec_proc *p = ex.procs; p && n < max; p = p->next) {
    ids[n] = p->instance_id;
    triggers[n] = p->trigger;
    n++;
  }
  return n;
}

size_t exec_count(void) { return ex.count; }

void exec_kill_all(void) {
  for (struct exec_proc *p = ex.procs; p; p = p->next) kill(-p->pid, SIGKILL);
}
