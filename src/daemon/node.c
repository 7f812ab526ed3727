#include "config.h"

#include "daemon/node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node node = {
    .loop = NULL,
    .stopping = false,
};

int node_setup(char *err, size_t errlen) {
  char host[256];
  uint16_t port;
  if (cfg_split_hostport(node.cfg.master.listen, host, sizeof(host), &port) <
      0) {
    snprintf(err, errlen, "master.listen '%s' is not host:port",
             node.cfg.master.listen);
    return -1;
  }
  const char *adv = node.cfg.node.address;
  if (adv == NULL || adv[0] == '\0') {
    /* Default: the listen host unless it is a wildcard, else our name. */
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) {
      if (gethostname(host, sizeof(host)) < 0) snprintf(host, sizeof(host), "localhost");
      host[sizeof(host) - 1] = '\0';
    }
    snprintf(node.address, sizeof(node.address), "%s:%u", host, port);
  } else {
    char h2[256];
    uint16_t p2;
    if (cfg_split_hostport(adv, h2, sizeof(h2), &p2) == 0)
      snprintf(node.address, sizeof(node.address), "%s", adv);
    else if (strchr(adv, ':') == NULL || adv[0] == '[')
      snprintf(node.address, sizeof(node.address), "%s:%u", adv, port);
    else {
      snprintf(err, errlen, "node.address '%s' is not host or host:port", adv);
      return -1;
    }
  }
  /* The election thread advertises cfg.node.address: make it complete. */
  char *full = strdup(node.address);
  if (full == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  free(node.cfg.node.address);
  node.cfg.node.address = full;

  node.groups_buf = strdup(node.cfg.node.groups ? node.cfg.node.groups : "");
  if (node.groups_buf == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  node.ngroups = cfg_split_list(node.groups_buf, node.groups, CFG_MAX_GROUPS);
  if (node.ngroups == 0) {
    snprintf(err, errlen, "node.groups is empty: name at least one group");
    return -1;
  }
  return 0;
}

void node_teardown(void) {
  free(node.groups_buf);
  node.groups_buf = NULL;
  node.ngroups = 0;
}
