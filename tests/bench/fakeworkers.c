/* fakeworkers: N simulated workers against one master, for the connection
 * benchmark.  Each does the real challenge/response handshake and then
 * heartbeats every interval, spread evenly over the interval; the program
 * reports handshakes, heartbeats acknowledged and ack latency.
 *
 *   fakeworkers --connect HOST:PORT --token-file F [-n 1000]
 *               [--interval-ms 1000] [--duration 60] [--prefix fw] */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "net/auth.h"
#include "net/conn.h"
#include "util/cfg.h"
#include "util/log.h"

struct fw {
  struct conn *conn;
  int idx;
  char name[64];
  uint8_t nonce[AUTH_NONCE_SIZE], master_nonce[AUTH_NONCE_SIZE];
  ev_timer hb;
  ev_tstamp sent;
  int ready;
  int inflight;
};

static struct {
  struct ev_loop *loop;
  struct sockaddr_storage addr;
  socklen_t alen;
  char token[256];
  int n, started, ready, failed, closed;
  double interval;
  unsigned long long sent, acked;
  double *lat;
  size_t nlat, caplat;
  struct fw *fws;
  ev_timer starter, report, stop;
  char prefix[32];
} g = {.n = 1000, .interval = 1.0};

static const struct conn_limits fw_lim = {4u << 20, 1u << 20, 30.0};

static void fw_hb_reply(struct conn *c, void *arg, const Heracron__Envelope *r) {
  struct fw *w = arg;
  w->inflight = 0;
  if (r == NULL || r->payload_case != HERACRON__ENVELOPE__PAYLOAD_HEARTBEAT_ACK)
    return;
  g.acked++;
  if (g.nlat == g.caplat) {
    size_t nc = g.caplat ? g.caplat * 2 : 65536;
    double *nl = realloc(g.lat, nc * sizeof(double));
    if (nl == NULL) return;
    g.lat = nl;
    g.caplat = nc;
  }
  g.lat[g.nlat++] = (ev_time() - w->sent) * 1000.0;
}

static void fw_hb_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  struct fw *w = (struct fw *)(void *)((char *)t - offsetof(struct fw, hb));
  if (!w->ready || w->inflight || w->conn == NULL) return;
  float load[2] = {0.12f, 0.07f};
  Heracron__Envelope env = HERACRON__ENVELOPE__INIT;
  Heracron__Heartbeat hb = HERACRON__HEARTBEAT__INIT;
  hb.n_load = 2;
  hb.load = load;
  hb.mem_used = 1u << 30;
  hb.mem_total = 8ull << 30;
  hb.cores = 2;
  hb.load_avg = 0.3f;
  env.payload_case = HERACRON__ENVELOPE__PAYLOAD_HEARTBEAT;
  env.heartbeat = &hb;
  w->sent = ev_time();
  if (conn_request(w->conn, &env, 10000, fw_hb_reply, w) == 0) {
    w->inflight = 1;
    g.sent++;
  }
}

static void fw_welcome(struct conn *c, void *arg, const Heracron__Envelope *r) {
  struct fw *w = arg;
  if (r == NULL || r->payload_case != HERACRON__ENVELOPE__PAYLOAD_WELCOME ||
      !auth_check(AUTH_WELCOME, g.token, w->master_nonce, w->nonce, w->name,
                  r->welcome->proof.data, r->welcome->proof.len)) {
    g.failed++;
    if (r && r->payload_case == HERACRON__ENVELOPE__PAYLOAD_ERROR)
      fprintf(stderr, "%s refused: %s\n", w->name, r->error->message);
    if (c->state != CONN_CLOSED) conn_close(c, "handshake failed");
    return;
  }
  conn_set_state(c, CONN_READY);
  w->ready = 1;
  g.ready++;
  /* spread the heartbeats evenly over the interval */
  double offset = g.interval * (double)w->idx / (double)g.n;
  ev_timer_init(&w->hb, fw_hb_cb, offset, g.interval);
  ev_timer_start(g.loop, &w->hb);
}

static int fw_on_message(struct conn *c, Heracron__Envelope *env) {
  struct fw *w = c->data;
  if (env->payload_case != HERACRON__ENVELOPE__PAYLOAD_CHALLENGE) return 0;
  memcpy(w->master_nonce, env->challenge->nonce.data, AUTH_NONCE_SIZE);
  uint8_t proof[AUTH_PROOF_SIZE];
  auth_nonce(w->nonce, sizeof(w->nonce));
  auth_proof(AUTH_HELLO, g.token, w->master_nonce, w->nonce, w->name, proof);
  Heracron__Envelope out = HERACRON__ENVELOPE__INIT;
  Heracron__Hello h = HERACRON__HELLO__INIT;
  char *groups[] = {(char *)"bench"};
  h.name = w->name;
  h.address = (char *)"127.0.0.1:1";
  h.groups = groups;
  h.n_groups = 1;
  h.cores = 2;
  h.version = (char *)"bench";
  h.mem_total = 8ull << 30;
  h.nonce.data = w->nonce;
  h.nonce.len = sizeof(w->nonce);
  h.proof.data = proof;
  h.proof.len = sizeof(proof);
  h.protocol = FRAME_PROTOCOL_VERSION;
  h.max_running = 8;
  out.payload_case = HERACRON__ENVELOPE__PAYLOAD_HELLO;
  out.hello = &h;
  conn_request(c, &out, 10000, fw_welcome, w);
  return 0;
}

static void fw_on_close(struct conn *c, const char *reason) {
  struct fw *w = c->data;
  if (w->ready) g.ready--;
  w->ready = 0;
  w->conn = NULL;
  ev_timer_stop(g.loop, &w->hb);
  g.closed++;
  if (g.closed <= 5) fprintf(stderr, "%s closed: %s\n", w->name, reason);
}

static const struct conn_ops fw_ops = {fw_on_message, NULL, fw_on_close};

static void starter_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  /* 50 connections per 10 ms: fast, yet within the listen backlog */
  for (int k = 0; k < 50 && g.started < g.n; k++, g.started++) {
    struct fw *w = &g.fws[g.started];
    w->idx = g.started;
    snprintf(w->name, sizeof(w->name), "%s-%04d", g.prefix, g.started);
    w->conn = conn_connect(loop, (struct sockaddr *)&g.addr, g.alen, &fw_lim,
                           &fw_ops, w);
    if (w->conn == NULL) g.failed++;
  }
  if (g.started >= g.n) ev_timer_stop(loop, t);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void report_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  fprintf(stderr, "connected %d/%d  failed %d  closed %d  heartbeats %llu "
                  "sent, %llu acked\n",
          g.ready, g.n, g.failed, g.closed, g.sent, g.acked);
}

static void stop_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv) {
  const char *target = NULL, *token_file = NULL;
  double duration = 60;
  snprintf(g.prefix, sizeof(g.prefix), "fw");
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--connect") && v) target = argv[++i];
    else if (!strcmp(a, "--token-file") && v) token_file = argv[++i];
    else if (!strcmp(a, "-n") && v) g.n = (int)strtol(argv[++i], NULL, 10);
    else if (!strcmp(a, "--interval-ms") && v)
      g.interval = strtod(argv[++i], NULL) / 1000.0;
    else if (!strcmp(a, "--duration") && v) duration = strtod(argv[++i], NULL);
    else if (!strcmp(a, "--prefix") && v)
      snprintf(g.prefix, sizeof(g.prefix), "%s", argv[++i]);
    else {
      fprintf(stderr, "usage: fakeworkers --connect HOST:PORT --token-file F "
                      "[-n N] [--interval-ms MS] [--duration S] [--prefix P]\n");
      return 2;
    }
  }
  if (target == NULL || token_file == NULL || g.n < 1) {
    fprintf(stderr, "fakeworkers: --connect and --token-file are required\n");
    return 2;
  }
  FILE *f = fopen(token_file, "r");
  if (f == NULL || fgets(g.token, sizeof(g.token), f) == NULL) {
    fprintf(stderr, "fakeworkers: cannot read %s\n", token_file);
    return 2;
  }
  fclose(f);
  g.token[strcspn(g.token, "\r\n")] = '\0';
  char host[256], ps[8];
  uint16_t port;
  if (cfg_split_hostport(target, host, sizeof(host), &port) < 0) return 2;
  snprintf(ps, sizeof(ps), "%u", port);
  struct addrinfo hints = {0}, *ai;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, ps, &hints, &ai) != 0) return 2;
  memcpy(&g.addr, ai->ai_addr, ai->ai_addrlen);
  g.alen = ai->ai_addrlen;
  freeaddrinfo(ai);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)g.n + 64) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  log_current_level = LOG_ERROR;
  g.fws = calloc((size_t)g.n, sizeof(*g.fws));
  g.loop = ev_default_loop(0);
  conn_global_init(g.loop);
  ev_timer_init(&g.starter, starter_cb, 0., 0.01);
  ev_timer_start(g.loop, &g.starter);
  ev_timer_init(&g.report, report_cb, 1., 1.);
  ev_timer_start(g.loop, &g.report);
  ev_timer_init(&g.stop, stop_cb, duration, 0.);
  ev_timer_start(g.loop, &g.stop);
  ev_run(g.loop, 0);

  qsort(g.lat, g.nlat, sizeof(double), cmp_double);
  double p50 = g.nlat ? g.lat[g.nlat / 2] : 0;
  double p99 = g.nlat ? g.lat[(size_t)((double)g.nlat * 0.99)] : 0;
  printf("fakeworkers: connected %d of %d, handshakes failed %d, closed %d, "
         "heartbeats sent %llu, acked %llu, ack latency p50 %.2f ms p99 %.2f "
         "ms\n",
         g.ready, g.n, g.failed, g.closed, g.sent, g.acked, p50, p99);
  return g.ready == g.n ? 0 : 1;
}
