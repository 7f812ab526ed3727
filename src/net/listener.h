/* listener: a listening TCP socket on the loop that hands accepted
 * sockets to a callback. */
#ifndef HERACRON_LISTENER_H
#define HERACRON_LISTENER_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

struct listener;

/* Gets an accepted socket (blocking mode as accepted; the callee owns fd). */
typedef void (*listener_fn)(struct listener *l, int fd, void *arg);

struct listener {
  ev_io io;
  int fd;
  listener_fn fn;
  void *arg;
  char addr[128];
};

/* Binds host:port (numeric host, or "0.0.0.0"/"::") and starts accepting.
 * Returns 0, or -1 with a message in err ("cannot listen on ...: ..."). */
int listener_open(struct ev_loop *loop, struct listener *l,
                  const char *hostport, listener_fn fn, void *arg, char *err,
                  size_t errlen);

/* Stops accepting and closes the socket. */
void listener_close(struct ev_loop *loop, struct listener *l);

#endif
