#include "config.h"

#include "worker/workdir.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/node.h"
#include "util/daydirs.h"
#include "util/log.h"
#include "worker/exec.h"

#define WORKDIR_SWEEP_S 3600.
#define WORKDIR_SWEEP_MAX 64 /* day directories removed per sweep */

static struct {
  ev_timer timer;
  ev_child child;
  pid_t pid; /* the rm running, 0 if none */
} wd;

/* mkdir -p. */
static int workdir_mkdirs(char *path) {
  for (char *s = path + 1; *s; s++) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(path, 0755) < 0 && errno != EEXIST) return -1;
    *s = '/';
  }
  return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int workdir_write(const char *path, const void *data, size_t len,
                         mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return -1;
  ssize_t n = len ? write(fd, data, len) : 0;
  int saved = errno;
  close(fd);
  if (n != (ssize_t)len) {
    errno = n < 0 ? saved : EIO;
    return -1;
  }
  return 0;
}

/* FNV-1a: names a script file by its content. */
static uint64_t workdir_hash(const char *s) {
  uint64_t h = 14695981039346656037ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* The item on a pipe, which is never full: items are at most 64 KiB, a
 * pipe's default capacity. */
static int workdir_pipe_input(const Heracron__Execute *x, int *fd) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return -1;
  size_t len = x->task_input.len;
  if (len > 65536 && fcntl(p[1], F_SETPIPE_SZ, (int)len) < 0) len = 0;
  fcntl(p[1], F_SETFL, O_NONBLOCK);
  ssize_t n = len ? write(p[1], x->task_input.data, len) : 0;
  close(p[1]);
  if (n != (ssize_t)x->task_input.len) {
    close(p[0]);
    errno = n < 0 ? errno : EMSGSIZE;
    return -1;
  }
  *fd = p[0];
  return 0;
}

int workdir_prepare(const Heracron__Execute *x, const char *trigger_name,
                    struct workdir_place *pl, char *err, size_t errlen) {
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  bool part = x->parent_id != 0 && x->task_name && x->task_name[0] &&
              strcmp(x->task_name, "root") != 0 &&
              strcmp(x->task_name, "reduce") != 0;
  snprintf(pl->dir, sizeof(pl->dir), "%s/%04d-%02d-%02d/%s-%llu%s",
           node.cfg.node.work_dir, tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, trigger_name,
           (unsigned long long)(part ? x->parent_id : x->instance_id),
           part ? "-parts" : "");
  pl->stdin_fd = -1;
  pl->part = part;
  if (workdir_mkdirs(pl->dir) < 0) {
    snprintf(err, errlen, "cannot create %s: %s", pl->dir, strerror(errno));
    return -1;
  }
  /* Small local files: fast I/O, done on the loop.  what: for the error */
  const char *what = pl->script;
  if (part) {
    snprintf(pl->script, sizeof(pl->script), "%s/script-%016llx", pl->dir,
             (unsigned long long)workdir_hash(x->script));
    if (access(pl->script, R_OK) != 0) {
      char tmp[1200];
      snprintf(tmp, sizeof(tmp), "%s.tmp", pl->script);
      if (workdir_write(tmp, x->script, strlen(x->script), 0700) < 0 ||
          rename(tmp, pl->script) < 0)
        goto fail;
    }
    what = "a pipe";
    if (workdir_pipe_input(x, &pl->stdin_fd) < 0) goto fail;
    return 0;
  }
  snprintf(pl->script, sizeof(pl->script), "%s/script", pl->dir);
  if (workdir_write(pl->script, x->script, strlen(x->script), 0700) < 0)
    goto fail;
  char input[1100] = "/dev/null";
  what = input;
  if (x->task_name && x->task_name[0]) { /* a root or a reduce */
    snprintf(input, sizeof(input), "%s/input", pl->dir);
    if (workdir_write(input, x->task_input.data, x->task_input.len, 0600) < 0)
      goto fail;
  }
  if ((pl->stdin_fd = open(input, O_RDONLY | O_CLOEXEC)) < 0) goto fail;
  return 0;
fail:
  snprintf(err, errlen, "cannot write %s: %s", what, strerror(errno));
  return -1;
}

static void workdir_child_cb(struct ev_loop *loop, ev_child *w, int revents) {
  (void)revents;
  ev_child_stop(loop, w);
  if (!WIFEXITED(w->rstatus) || WEXITSTATUS(w->rstatus) != 0)
    log_warn("workdir: removing old work directories failed (status %d)",
             w->rstatus);
  wd.pid = 0;
}

static void workdir_sweep_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  (void)t;
  (void)revents;
  if (wd.pid != 0) return; /* the last one still runs */
  char *old[WORKDIR_SWEEP_MAX];
  size_t n = daydirs_expired(node.cfg.node.work_dir, node.cfg.node.work_keep_days,
                             time(NULL), old, WORKDIR_SWEEP_MAX);
  static char rm[] = "rm", rf[] = "-rf", dashes[] = "--";
  char *argv[WORKDIR_SWEEP_MAX + 4] = {rm, rf, dashes};
  int argc = 3;
  for (size_t i = 0; i < n; i++) {
    /* an instance running for longer than the retention keeps its day */
    if (exec_dir_in_use(old[i])) continue;
    argv[argc++] = old[i];
  }
  argv[argc] = NULL;
  if (argc > 3) {
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    extern char **environ;
    int rc = posix_spawn(&wd.pid, "/bin/rm", NULL, &at, argv, environ);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
      log_warn("workdir: cannot run /bin/rm: %s", strerror(rc));
      wd.pid = 0;
    } else {
      log_info("workdir: removing %d day director%s older than %u days",
               argc - 3, argc == 4 ? "y" : "ies", node.cfg.node.work_keep_days);
      ev_child_init(&wd.child, workdir_child_cb, wd.pid, 0);
      ev_child_start(loop, &wd.child);
    }
  }
  for (size_t i = 0; i < n; i++) free(old[i]);
}

void workdir_sweep_start(struct ev_loop *loop) {
  if (node.cfg.node.work_keep_days == 0) return;
  ev_timer_init(&wd.timer, workdir_sweep_cb, 10., WORKDIR_SWEEP_S);
  ev_timer_start(loop, &wd.timer);
  ev_unref(loop); /* it alone must not keep the loop alive */
}

void workdir_sweep_stop(struct ev_loop *loop) {
  if (!ev_is_active(&wd.timer)) return;
  ev_ref(loop);
  ev_timer_stop(loop, &wd.timer);
}
