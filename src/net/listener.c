#include "config.h"

#include "net/listener.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/cfg.h"
#include "util/log.h"

/* Accepts at most this many peers per event, so a connection storm cannot
 * hold up the frames of established peers. */
#define LISTENER_ACCEPT_BURST 64

static void listener_cb(struct ev_loop *loop, ev_io *w, int revents) {
  struct listener *l = (struct listener *)w;
  for (int i = 0; i < LISTENER_ACCEPT_BURST; i++) {
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
          errno == ECONNABORTED)
        return;
      log_warn("accept on %s: %s", l->addr, strerror(errno));
      return;
    }
    l->fn(l, fd, l->arg);
  }
}

int listener_open(struct ev_loop *loop, struct listener *l,
                  const char *hostport, listener_fn fn, void *arg, char *err,
                  size_t errlen) {
  char host[256], port_s[8];
  uint16_t port;
  l->fd = -1;
  if (cfg_split_hostport(hostport, host, sizeof(host), &port) < 0) {
    snprintf(err, errlen, "cannot listen on '%s': not host:port", hostport);
    return -1;
  }
  snprintf(port_s, sizeof(port_s), "%u", port);
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  int rc = getaddrinfo(host, port_s, &hints, &ai);
  if (rc != 0) {
    snprintf(err, errlen, "cannot listen on %s: %s (use a numeric address)",
             hostport, gai_strerror(rc));
    return -1;
  }
  int fd = socket(ai->ai_family,
                  ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, errlen, "cannot listen on %s: %s", hostport,
             strerror(errno));
    freeaddrinfo(ai);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
    snprintf(err, errlen, "cannot listen on %s: %s", hostport,
             strerror(errno));
    close(fd);
    freeaddrinfo(ai);
    return -1;
  }
  freeaddrinfo(ai);
  l->fd = fd;
  l->fn = fn;
  l->arg = arg;
  snprintf(l->addr, sizeof(l->addr), "%s", hostport);
  ev_io_init(&l->io, listener_cb, fd, EV_READ);
  ev_io_start(loop, &l->io);
  return 0;
}

void listener_close(struct ev_loop *loop, struct listener *l) {
  if (l->fd < 0) return;
  ev_io_stop(loop, &l->io);
  close(l->fd);
  l->fd = -1;
}
