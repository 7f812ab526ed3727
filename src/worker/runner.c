#include "config.h"

#include "worker/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "daemon/node.h"
#include "util/log.h"
#include "worker/spawn.h"

#define RUNNER_ITEM_MAX 4096 /* longer items run as processes of their own */
#define RUNNER_LINE_MAX 2048 /* a status line: code and result */
#define RUNNER_KILL_S 5.0    /* after EOF on stdin, before SIGKILL */
#define RUNNER_DRAIN_MAX (80u << 10) /* more than a pipe holds */

struct runner {
  struct runner *next;
  uint64_t parent_id;
  char task[65];
  char script[1100];
  pid_t pid;
  int in_fd;  /* its stdin (write end), -1 once closed */
  int out_fd; /* its stdout and stderr, -1 at EOF */
  int st_fd;  /* its fd 3, -1 at EOF */
  ev_io out_w, st_w;
  ev_child child;
  ev_timer idle; /* idle: EOF on stdin; retiring: SIGKILL */
  void *cur;     /* the item it serves, NULL when idle */
  bool retiring;
  char line[RUNNER_LINE_MAX + 1];
  size_t line_len;
};

static struct {
  struct runner_sink sink;
  struct runner *all;
} rs;

void runner_init(const struct runner_sink *sink) { rs.sink = *sink; }

int runner_item_ok(const uint8_t *data, size_t len) {
  return len < RUNNER_ITEM_MAX && (len == 0 || (memchr(data, '\n', len) == NULL &&
                                                memchr(data, '\0', len) == NULL));
}

static void runner_close(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void runner_free(struct runner *r) {
  ev_io_stop(node.loop, &r->out_w);
  ev_io_stop(node.loop, &r->st_w);
  ev_child_stop(node.loop, &r->child);
  ev_timer_stop(node.loop, &r->idle);
  runner_close(&r->in_fd);
  runner_close(&r->out_fd);
  runner_close(&r->st_fd);
  for (struct runner **pp = &rs.all; *pp; pp = &(*pp)->next)
    if (*pp == r) {
      *pp = r->next;
      break;
    }
  free(r);
}

/* Reads its output pipe, up to max bytes: the current item's output.  A
 * pipe holds 64 KiB, so that bound takes all it held at a status line,
 * and a runner writing without end cannot hold the loop. */
static void runner_drain(struct runner *r, size_t max) {
  uint8_t buf[16384];
  for (size_t got = 0; r->out_fd >= 0 && got < max;) {
    ssize_t n = read(r->out_fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      ev_io_stop(node.loop, &r->out_w);
      runner_close(&r->out_fd);
      return;
    }
    got += (size_t)n;
    if (r->cur) rs.sink.on_output(r->cur, buf, (size_t)n);
  }
}

static void runner_out_cb(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  (void)revents;
  runner_drain((struct runner *)w->data, 1); /* one read a turn */
}

/* A status line: "<exit code>[ <result>]". */
static void runner_item_done(struct runner *r, char *line) {
  if (r->cur == NULL) {
    log_warn("runner: pid %d answered with no item given: '%.80s'",
             (int)r->pid, line);
    return;
  }
  /* Its output was written before the status line: it is in the pipe. */
  runner_drain(r, RUNNER_DRAIN_MAX);
  char *end;
  errno = 0;
  long code = strtol(line, &end, 10);
  const char *reason = NULL, *result = NULL;
  if (end == line || errno || code < 0 || code > 255 ||
      (*end != '\0' && *end != ' ')) {
    code = 1;
    reason = "bad status line on fd 3 (expected '<exit code>[ <result>]')";
  } else if (*end == ' ') {
    result = end + 1;
  }
  void *item = r->cur;
  r->cur = NULL;
  if (!r->retiring) {
    ev_timer_set(&r->idle, RUNNER_IDLE_S, 0.);
    ev_timer_start(node.loop, &r->idle);
  }
  rs.sink.on_done(item, (int)code << 8, result, reason);
}

static void runner_status_bytes(struct runner *r, const char *buf, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (buf[i] != '\n') {
      if (r->line_len < RUNNER_LINE_MAX) r->line[r->line_len++] = buf[i];
      continue;
    }
    if (r->line_len > 0 && r->line[r->line_len - 1] == '\r') r->line_len--;
    r->line[r->line_len] = '\0';
    r->line_len = 0;
    runner_item_done(r, r->line);
  }
}

/* Reads the status lines its fd 3 holds now, in at most reads reads. */
static void runner_read_status(struct runner *r, int reads) {
  char buf[4096];
  while (r->st_fd >= 0 && reads-- > 0) {
    ssize_t n = read(r->st_fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) { /* closed fd 3: it will exit, or be killed when idle */
      ev_io_stop(node.loop, &r->st_w);
      runner_close(&r->st_fd);
      return;
    }
    runner_status_bytes(r, buf, (size_t)n);
  }
}

static void runner_st_cb(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  (void)revents;
  runner_read_status((struct runner *)w->data, 1); /* one read a turn */
}

static void runner_child_cb(struct ev_loop *loop, ev_child *w, int revents) {
  (void)loop;
  (void)revents;
  struct runner *r = (struct runner *)w->data;
  runner_read_status(r, 32); /* an answer may be there still (a dead
                              * runner's pipe holds at most 64 KiB) */
  runner_drain(r, RUNNER_DRAIN_MAX);
  void *item = r->cur;
  r->cur = NULL;
  int status = w->rstatus;
  runner_free(r);
  if (item != NULL)
    rs.sink.on_done(item,
                    WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 << 8 : status,
                    NULL, "the runner ended before answering on fd 3");
}

static void runner_idle_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  (void)loop;
  (void)revents;
  struct runner *r = (struct runner *)t->data;
  if (r->cur != NULL) return;
  if (!r->retiring) { /* EOF: its loop ends */
    r->retiring = true;
    runner_close(&r->in_fd);
    ev_timer_set(t, RUNNER_KILL_S, 0.);
    ev_timer_start(node.loop, t);
    return;
  }
  kill(-r->pid, SIGKILL); /* it did not exit on EOF */
}

static struct runner *runner_start(const struct runner_key *key,
                                   char *const argv[], char *const envp[],
                                   const char *dir, char *err,
                                   size_t errlen) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, st[2] = {-1, -1};
  struct runner *r = calloc(1, sizeof(*r));
  if (r == NULL || pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
      pipe2(st, O_CLOEXEC) < 0) {
    snprintf(err, errlen, "runner: %s", r ? strerror(errno) : "out of memory");
    goto fail;
  }
  r->pid = spawn_process(argv, envp, dir, in[0], out[1], st[1], err, errlen);
  if (r->pid < 0) goto fail;
  close(in[0]);
  close(out[1]);
  close(st[1]);
  r->in_fd = in[1];
  r->out_fd = out[0];
  r->st_fd = st[0];
  fcntl(r->in_fd, F_SETFL, O_NONBLOCK);
  fcntl(r->out_fd, F_SETFL, O_NONBLOCK);
  fcntl(r->st_fd, F_SETFL, O_NONBLOCK);
  r->parent_id = key->parent_id;
  snprintf(r->task, sizeof(r->task), "%s", key->task_name);
  snprintf(r->script, sizeof(r->script), "%s", key->script);
  ev_io_init(&r->out_w, runner_out_cb, r->out_fd, EV_READ);
  ev_io_init(&r->st_w, runner_st_cb, r->st_fd, EV_READ);
  ev_child_init(&r->child, runner_child_cb, r->pid, 0);
  ev_init(&r->idle, runner_idle_cb);
  r->out_w.data = r->st_w.data = r->child.data = r->idle.data = r;
  ev_io_start(node.loop, &r->out_w);
  ev_io_start(node.loop, &r->st_w);
  ev_child_start(node.loop, &r->child);
  r->next = rs.all;
  rs.all = r;
  log_info("runner: started pid %d for task %s of instance %llu", (int)r->pid,
           r->task, (unsigned long long)r->parent_id);
  return r;
fail:
  for (int i = 0; i < 2; i++) {
    if (in[i] >= 0) close(in[i]);
    if (out[i] >= 0) close(out[i]);
    if (st[i] >= 0) close(st[i]);
  }
  free(r);
  return NULL;
}

pid_t runner_assign(const struct runner_key *key, const uint8_t *data,
                    size_t len, void *item, char *const argv[],
                    char *const envp[], const char *dir, char *err,
                    size_t errlen) {
  struct runner *r = rs.all;
  while (r && (r->cur || r->retiring || r->in_fd < 0 ||
               r->parent_id != key->parent_id || strcmp(r->script, key->script) != 0 ||
               strcmp(r->task, key->task_name) != 0))
    r = r->next;
  if (r == NULL && (r = runner_start(key, argv, envp, dir, err, errlen)) == NULL)
    return -1;
  ev_timer_stop(node.loop, &r->idle);
  /* One short line into a pipe it has emptied: this does not block. */
  struct iovec iov[2] = {{(void *)data, len}, {(void *)"\n", 1}};
  ssize_t n = writev(r->in_fd, iov, 2);
  if (n != (ssize_t)len + 1) {
    snprintf(err, errlen, "runner pid %d does not read its items (%s)",
             (int)r->pid, n < 0 ? strerror(errno) : "pipe full");
    r->retiring = true;
    kill(-r->pid, SIGKILL);
    return -1;
  }
  r->cur = item;
  return r->pid;
}

void runner_kill_all(void) {
  for (struct runner *r = rs.all; r; r = r->next) kill(-r->pid, SIGKILL);
}
