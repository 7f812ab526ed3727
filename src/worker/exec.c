#include "config.h"

#include "worker/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/node.h"
#include "util/cfg.h"
#include "util/clock.h"
#include "util/secret.h"
#include "util/log.h"
#include "util/text.h"
#include "worker/runner.h"
#include "worker/spawn.h"
#include "worker/workdir.h"

#define EXEC_CHUNK 16384
#define EXEC_MAX_ARGS 16

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
  uint64_t logged;      /* bytes streamed (the head) */
  uint64_t cut;         /* bytes dropped between head and tail */
  uint8_t *tail;        /* owned: ring of the last bytes past the head */
  size_t tail_cap, tail_len, tail_pos;
  uint32_t grace_ms;
  char reason[128];
  char dir[1024];       /* its work directory */
  uint64_t parent_id;   /* a fan-out part's parent, 0 if none */
  bool task;            /* a map job's part: its result is its last line */
  char last[2048];      /* a task's latest output, for that line */
  size_t last_len;
};

static struct {
  struct exec_sink sink;
  struct exec_proc *procs;
  size_t count;
} ex;

static void exec_log(struct exec_proc *p, const uint8_t *buf, size_t n);
static void exec_finish(struct exec_proc *p);

static void exec_runner_output(void *item, const uint8_t *data, size_t len) {
  exec_log(item, data, len);
}

/* A runner is done with an item: it ends as a process would have. */
static void exec_runner_done(void *item, int wait_status, const char *result,
                             const char *reason) {
  struct exec_proc *p = item;
  p->exited = true;
  p->status = wait_status;
  if (reason && !p->stopped)
    snprintf(p->reason, sizeof(p->reason), "%s", reason);
  if (result) { /* it said its result: that is the last line */
    p->last_len = strlen(result) < sizeof(p->last) ? strlen(result) : sizeof(p->last);
    memcpy(p->last, result, p->last_len);
  }
  exec_finish(p);
}

void exec_init(const struct exec_sink *sink) {
  static const struct runner_sink rsink = {exec_runner_output, exec_runner_done};
  ex.sink = *sink;
  runner_init(&rsink);
}

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

/* Output: the first half of node.log_max_bytes streams as it comes; past
 * it, the last half is kept in a ring and sent at the end behind a line
 * saying how much was cut. */
static void exec_log(struct exec_proc *p, const uint8_t *buf, size_t n) {
  if (p->task) { /* keep the latest bytes */
    size_t keep = n < sizeof(p->last) ? n : sizeof(p->last);
    size_t old = sizeof(p->last) - keep < p->last_len ? sizeof(p->last) - keep
                                                      : p->last_len;
    memmove(p->last, p->last + p->last_len - old, old);
    memcpy(p->last + old, buf + n - keep, keep);
    p->last_len = old + keep;
  }
  uint64_t head = node.cfg.node.log_max_bytes / 2;
  if (p->logged < head) {
    size_t k = n < head - p->logged ? n : (size_t)(head - p->logged);
    p->logged += k;
    ex.sink.on_log(p->instance_id, ++p->seq, buf, k);
    buf += k;
    n -= k;
  }
  if (n == 0) return;
  if (p->tail == NULL) {
    p->tail_cap = node.cfg.node.log_max_bytes - head;
    if ((p->tail = malloc(p->tail_cap)) == NULL) {
      p->cut += n;
      return;
    }
  }
  if (n > p->tail_cap) { /* only its last tail_cap bytes can stay */
    p->cut += p->tail_len + (n - p->tail_cap);
    buf += n - p->tail_cap;
    n = p->tail_cap;
    p->tail_len = p->tail_pos = 0;
  }
  size_t room = p->tail_cap - p->tail_len;
  if (n > room) p->cut += n - room; /* the oldest are overwritten */
  p->tail_len = p->tail_len + n > p->tail_cap ? p->tail_cap : p->tail_len + n;
  size_t first = n < p->tail_cap - p->tail_pos ? n : p->tail_cap - p->tail_pos;
  memcpy(p->tail + p->tail_pos, buf, first);
  memcpy(p->tail, buf + first, n - first);
  p->tail_pos = (p->tail_pos + n) % p->tail_cap;
}

static void exec_log_tail(struct exec_proc *p) {
  if (p->tail_len == 0 && p->cut == 0) return;
  if (p->cut > 0) {
    char msg[160];
    int l = snprintf(msg, sizeof(msg),
                     "\n[heracron: %llu bytes of output cut here; the log "
                     "keeps the first and the last %u bytes]\n",
                     (unsigned long long)p->cut, node.cfg.node.log_max_bytes / 2);
    ex.sink.on_log(p->instance_id, ++p->seq, (const uint8_t *)msg, (size_t)l);
  }
  size_t start = (p->tail_pos + p->tail_cap - p->tail_len) % p->tail_cap;
  for (size_t done = 0; done < p->tail_len;) {
    size_t k = p->tail_len - done;
    size_t at = (start + done) % p->tail_cap;
    if (k > p->tail_cap - at) k = p->tail_cap - at;
    if (k > EXEC_CHUNK) k = EXEC_CHUNK;
    ex.sink.on_log(p->instance_id, ++p->seq, p->tail + at, k);
    done += k;
  }
}

static void exec_finish(struct exec_proc *p) {
  if (!p->exited || p->fd >= 0) return; /* wait for both exit and EOF */
  ev_timer_stop(node.loop, &p->timeout);
  ev_timer_stop(node.loop, &p->grace);
  exec_log_tail(p);
  free(p->tail);
  Heracron__StatusReport r = HERACRON__STATUS_REPORT__INIT;
  r.instance_id = p->instance_id;
  r.parent_id = p->parent_id;
  char result[1025] = "";
  if (p->task) {
    text_last_line(p->last, p->last_len, result, sizeof(result));
    r.result = result;
  }
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
    if (p->reason[0]) r.reason = p->reason;
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
  exec_log(p, buf, (size_t)n);
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

/* The command line for a job type from node.interpreters ("type=command
 * [args],..."): splits it into buf and argv; the number of words, 0 if
 * the type is not there. */
static int exec_interpreter(const char *type, char *buf, size_t len,
                            char **argv) {
  size_t tl = strlen(type);
  for (const char *e = node.cfg.node.interpreters; e && *e;) {
    const char *end = strchr(e, ',');
    size_t el = end ? (size_t)(end - e) : strlen(e);
    while (el > 0 && *e == ' ') e++, el--;
    if (el > tl + 1 && strncmp(e, type, tl) == 0 && e[tl] == '=' &&
        el - tl - 1 < len) {
      snprintf(buf, len, "%.*s", (int)(el - tl - 1), e + tl + 1);
      int argc = 0;
      char *save = NULL;
      for (char *w = strtok_r(buf, " ", &save); w && argc < EXEC_MAX_ARGS;
           w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
      return argc > 0 && argv[0][0] == '/' ? argc : 0;
    }
    e = end ? end + 1 : NULL;
  }
  return 0;
}

int exec_start(const Heracron__Execute *x, char *err, size_t errlen) {
  for (struct exec_proc *p = ex.procs; p; p = p->next)
    if (p->instance_id == x->instance_id) return p->pid; /* already runs */
  char interp[512];
  char *argv[EXEC_MAX_ARGS + 2];
  int argc = exec_interpreter(x->type[0] ? x->type : "shell", interp,
                              sizeof(interp), argv);
  if (argc <= 0) {
    snprintf(err, errlen, "job type '%s' has no interpreter on this worker "
             "(node.interpreters)", x->type);
    return -EXEC_PERMANENT;
  }
  struct workdir_place pl;
  if (workdir_prepare(x, exec_trigger_name(x->trigger), &pl, err, errlen) < 0)
    return -1;
  /* a map sub-task of a job with runners: fed to a long-lived one */
  bool via_runner = x->runner && pl.part &&
                    runner_item_ok(x->task_input.data, x->task_input.len);
  char env[8][64];
  int nvars = 6;
  /* a map job's part: its task, its input on stdin, and what it needs to
   * add sub-tasks (heracron map) to its own instance */
  char task_env[3][400], item_env[4200];
  int ntask = 0;
  if (x->task_name && x->task_name[0]) {
    char tok[SECRET_TOKEN_HEX], host[256];
    uint16_t port = 8080;
    if (cfg_split_hostport(node.cfg.http.listen, host, sizeof(host), &port) < 0 ||
        strcmp(host, "0.0.0.0") == 0)
      snprintf(host, sizeof(host), "127.0.0.1");
    secret_map_token(node.cfg.cluster.token, x->instance_id, tok);
    snprintf(task_env[ntask++], sizeof(task_env[0]), "HERACRON_TASK_NAME=%s", x->task_name);
    snprintf(task_env[ntask++], sizeof(task_env[0]), "HERACRON_URL=http://%s:%u", host, port);
    snprintf(task_env[ntask++], sizeof(task_env[0]), "HERACRON_MAP_TOKEN=%s", tok);
    snprintf(item_env, sizeof(item_env), "HERACRON_TASK_ITEM=%.*s",
             (int)(x->task_input.len < 4096 ? x->task_input.len : 4096),
             x->task_input.data ? (const char *)x->task_input.data : "");
    item_env[strcspn(item_env, "\n")] = '\0';
  }
  snprintf(env[0], sizeof(env[0]), "HERACRON_JOB_ID=%u", x->job_id);
  snprintf(env[1], sizeof(env[1]), "HERACRON_ACTION_ID=%lld", (long long)x->action_id);
  snprintf(env[2], sizeof(env[2]), "HERACRON_TRIGGER=%s", exec_trigger_name(x->trigger));
  snprintf(env[3], sizeof(env[3]), "HERACRON_BIZDATE=%.8s", x->bizdate);
  /* what differs from item to item is not a runner's */
  if (via_runner) snprintf(env[4], sizeof(env[4]), "HERACRON_TASK_RUNNER=1");
  else snprintf(env[4], sizeof(env[4]), "HERACRON_INSTANCE_ID=%llu",
                (unsigned long long)x->instance_id);
  snprintf(env[5], sizeof(env[5]), "HERACRON_ATTEMPT=%u", x->attempt);
  if (via_runner) nvars = 5;
  if (x->shard_count > 0) { /* a part of a fan-out job */
    snprintf(env[nvars++], sizeof(env[0]), "HERACRON_SHARD_INDEX=%u", x->shard_index);
    snprintf(env[nvars++], sizeof(env[0]), "HERACRON_SHARD_COUNT=%u", x->shard_count);
  }
  /* The child's environment is built here: after fork() in a threaded
   * process only async-signal-safe calls are allowed. */
  extern char **environ;
  size_t nenv = 0;
  while (environ[nenv] != NULL) nenv++;
  char **envp = calloc(nenv + 13, sizeof(char *));
  struct exec_proc *p = calloc(1, sizeof(*p));
  int pfd[2] = {-1, -1};
  if (envp == NULL || p == NULL) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  size_t ne = 0;
  for (size_t i = 0; i < nenv; i++)
    if (strncmp(environ[i], "HERACRON_", 9) != 0) envp[ne++] = environ[i];
  for (int i = 0; i < nvars; i++) envp[ne++] = env[i];
  for (int i = 0; i < ntask - (via_runner ? 1 : 0); i++) envp[ne++] = task_env[i];
  if (ntask && !via_runner) envp[ne++] = item_env;
  envp[ne] = NULL;
  argv[argc] = pl.script;
  argv[argc + 1] = NULL;
  pid_t pid;
  if (via_runner) {
    struct runner_key key = {x->parent_id, x->task_name, pl.script};
    pid = runner_assign(&key, x->task_input.data, x->task_input.len, p, argv,
                        envp, pl.dir, err, errlen);
    if (pid < 0) goto fail;
    p->fd = -1; /* its output comes through the runner */
  } else {
    if (pipe2(pfd, O_CLOEXEC) < 0) {
      snprintf(err, errlen, "pipe: %s", strerror(errno));
      goto fail;
    }
    pid = spawn_process(argv, envp, pl.dir, pl.stdin_fd, pfd[1], -1, err,
                        errlen);
    if (pid < 0) goto fail;
    close(pfd[1]);
    fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);
    p->fd = pfd[0];
    ev_io_init(&p->out, exec_out_cb, p->fd, EV_READ);
    ev_io_start(node.loop, &p->out);
    ev_child_init(&p->child, exec_child_cb, pid, 0);
    ev_child_start(node.loop, &p->child);
  }
  close(pl.stdin_fd);
  free(envp);
  p->instance_id = x->instance_id;
  p->trigger = x->trigger;
  p->parent_id = x->parent_id;
  p->task = x->task_name && x->task_name[0];
  snprintf(p->dir, sizeof(p->dir), "%s", pl.dir);
  p->pid = pid;
  p->grace_ms = x->kill_grace_ms ? x->kill_grace_ms : node.cfg.node.kill_grace_ms;
  ev_init(&p->grace, exec_grace_cb);
  ev_init(&p->timeout, exec_timeout_cb);
  if (x->timeout_s > 0) {
    ev_timer_set(&p->timeout, x->timeout_s, 0.);
    ev_timer_start(node.loop, &p->timeout);
  }
  p->next = ex.procs;
  ex.procs = p;
  ex.count++;
  log_info("exec: instance %llu (job %u, %s) started %s pid %d in %s",
           (unsigned long long)x->instance_id, x->job_id,
           exec_trigger_name(x->trigger), via_runner ? "in runner" : "as",
           (int)pid, pl.dir);
  return pid;
fail:
  close(pl.stdin_fd);
  if (pfd[0] >= 0) close(pfd[0]);
  if (pfd[1] >= 0) close(pfd[1]);
  free(envp);
  free(p);
  return -1;
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

bool exec_dir_in_use(const char *prefix) {
  size_t n = strlen(prefix);
  for (struct exec_proc *p = ex.procs; p; p = p->next)
    if (strncmp(p->dir, prefix, n) == 0 && (p->dir[n] == '/' || p->dir[n] == '\0'))
      return true;
  return false;
}

void exec_kill_all(void) {
  for (struct exec_proc *p = ex.procs; p; p = p->next) kill(-p->pid, SIGKILL);
  runner_kill_all();
}
