/* node: the state of one heracrond process, shared by its roles (worker,
 * master, HTTP).  One instance, `node`, defined in daemon/node.c. */
#ifndef HERACRON_NODE_H
#define HERACRON_NODE_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/cfg.h"

struct node {
  struct ev_loop *loop;
  struct cfg cfg;
  char address[300];   /* host:port advertised for this node's master port */
  char *groups_buf;    /* storage for groups[] */
  char *groups[CFG_MAX_GROUPS];
  int ngroups;
  bool stopping;
};

extern struct node node;

/* Resolves the advertised address and splits the groups.  Returns 0, -1
 * with a message in err. */
int node_setup(char *err, size_t errlen);
void node_teardown(void);

#endif
