/* heracrond: the heracron daemon.  Every node is a worker; nodes of the
 * master group also compete for the master lease.  See DESIGN.md. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/node.h"
#include "http/http.h"
#include "master/mailer.h"
#include "master/master.h"
#include "net/conn.h"
#include "store/elect.h"
#include "store/store.h"
#include "util/log.h"
#include "worker/worker.h"

#define DEFAULT_CONFIG SYSCONFDIR "/heracron/heracrond.conf"

static void usage(FILE *f) {
  fprintf(f,
          "Usage: heracrond [-c FILE] [--section.key=value ...]\n"
          "       heracrond --check-config [-c FILE] [--section.key=value ...]\n"
          "       heracrond --help | --version\n"
          "\n"
          "The heracron daemon: runs jobs on this host (worker) and, in the\n"
          "master group, competes for the master lease in MariaDB.\n"
          "\n"
          "  -c, --config FILE   INI configuration (default %s,\n"
          "                      used only if it exists)\n"
          "  --section.key=value override one configuration key, e.g.\n"
          "                      --node.name=n1 --master.listen=0.0.0.0:7070\n"
          "  --check-config      print the effective configuration (secrets\n"
          "                      hidden) and exit\n"
          "  -h, --help          this text\n"
          "  -V, --version       the version\n"
          "\n"
          "Keys: node.{name,address,groups,master_group,work_dir,max_running}\n"
          "  master.{listen,lease_ms,renew_ms,heartbeat_ms,worker_timeout_ms,\n"
          "    max_frame,write_queue_max,auth_timeout_ms,request_timeout_ms,\n"
          "    flush_ms,lock_takeover}\n"
          "  http.listen  db.{host,port,socket,user,password,password_file,\n"
          "    database,connect_timeout_ms,batch_max}\n"
          "  cluster.{token,token_file}  smtp.{host,port,from,starttls,user,\n"
          "    password,password_file}  console.url  log.level\n",
          DEFAULT_CONFIG);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents) {
  if (node.stopping) return;
  log_info("received %s; shutting down", strsignal(w->signum));
  node.stopping = true;
  worker_stop();
  master_shutdown();
  elect_stop(); /* resigns the lease so a successor need not wait */
  ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv) {
  char err[512];
  const char *config = NULL;
  bool check = false;
  log_set_ident("heracrond");
  if (cfg_init(&node.cfg) < 0) {
    fprintf(stderr, "heracrond: out of memory\n");
    return 1;
  }
  /* Pass 1: the file; pass 2: overrides, which win over it. */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      cfg_free(&node.cfg);
      return 0;
    }
    if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
      printf("heracrond %s\n", PACKAGE_VERSION);
      cfg_free(&node.cfg);
      return 0;
    }
    if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
      if (++i >= argc) {
        fprintf(stderr, "heracrond: %s needs a file name\n", a);
        cfg_free(&node.cfg);
        return 2;
      }
      config = argv[i];
    } else if (strncmp(a, "--config=", 9) == 0) {
      config = a + 9;
    } else if (strcmp(a, "--check-config") == 0) {
      check = true;
    } else if (strncmp(a, "--", 2) != 0 || strchr(a, '.') == NULL) {
      fprintf(stderr, "heracrond: unknown argument '%s'\n", a);
      usage(stderr);
      cfg_free(&node.cfg);
      return 2;
    }
  }
  if (config == NULL && access(DEFAULT_CONFIG, R_OK) == 0)
    config = DEFAULT_CONFIG;
  if (config != NULL &&
      cfg_load_file(&node.cfg, config, err, sizeof(err)) < 0) {
    fprintf(stderr, "heracrond: %s\n", err);
    cfg_free(&node.cfg);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
      i++;
      continue;
    }
    if (strncmp(a, "--", 2) == 0 && strchr(a, '.') != NULL &&
        strncmp(a, "--config=", 9) != 0 &&
        cfg_override(&node.cfg, a + 2, err, sizeof(err)) < 0) {
      fprintf(stderr, "heracrond: %s\n", err);
      cfg_free(&node.cfg);
      return 2;
    }
  }
  if (cfg_finish(&node.cfg, err, sizeof(err)) < 0 ||
      node_setup(err, sizeof(err)) < 0) {
    fprintf(stderr, "heracrond: %s\n", err);
    node_teardown();
    cfg_free(&node.cfg);
    return 2;
  }
  if (check) {
    cfg_dump(&node.cfg, stdout);
    node_teardown();
    cfg_free(&node.cfg);
    return 0;
  }
  if (node.cfg.cluster.token == NULL || node.cfg.cluster.token[0] == '\0') {
    fprintf(stderr, "heracrond: cluster.token (or cluster.token_file) is "
                    "required: every node of a cluster shares it\n");
    node_teardown();
    cfg_free(&node.cfg);
    return 2;
  }
  log_set_level_name(node.cfg.log.level);
  signal(SIGPIPE, SIG_IGN);

  node.loop = ev_default_loop(EVFLAG_AUTO);
  if (node.loop == NULL) {
    fprintf(stderr, "heracrond: cannot initialise libev\n");
    return 1;
  }
  conn_global_init(node.loop);
  ev_signal sigterm, sigint;
  ev_signal_init(&sigterm, on_signal, SIGTERM);
  ev_signal_init(&sigint, on_signal, SIGINT);
  ev_signal_start(node.loop, &sigterm);
  ev_signal_start(node.loop, &sigint);

  int rc = 1;
  if (store_start(node.loop, &node.cfg) < 0) goto out;
  if (http_start(&node.cfg, err, sizeof(err)) < 0) {
    log_error("%s", err);
    goto out_store;
  }
  log_info("node %s starting (version %s, groups %s, %s; master port %s, "
           "http %s)",
           node.cfg.node.name, PACKAGE_VERSION, node.cfg.node.groups,
           node.cfg.node.master_group ? "master group" : "not in the master group",
           node.address, node.cfg.http.listen);
  if (worker_start() < 0) goto out_http;
  if (node.cfg.node.master_group && mailer_start(&node.cfg) < 0) {
    log_error("cannot start the mailer thread");
    goto out_http;
  }
  if (node.cfg.node.master_group &&
      elect_start(node.loop, &node.cfg, master_on_elect) < 0)
    goto out_http;

  ev_run(node.loop, 0);
  rc = 0;

out_http:
  if (!node.stopping) {
    node.stopping = true;
    worker_stop();
    master_shutdown();
    elect_stop();
  }
  mailer_stop();
  http_stop();
out_store:
  store_stop(2000);
out:
  conn_global_shutdown(node.loop);
  ev_signal_stop(node.loop, &sigterm);
  ev_signal_stop(node.loop, &sigint);
  log_info("node %s stopped", node.cfg.node.name);
  node_teardown();
  cfg_free(&node.cfg);
  ev_loop_destroy(node.loop);
  return rc;
}
