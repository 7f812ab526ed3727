/* spawn: starting a job's interpreter from the (threaded) worker. */
#ifndef HERACRON_SPAWN_H
#define HERACRON_SPAWN_H

#include <sys/types.h>

/* Runs argv[0] with envp in dir, in a process group of its own that dies
 * with this process (PDEATHSIG), signals at their defaults.  Its stdin is
 * in_fd, stdout and stderr out_fd, and fd 3 st_fd when st_fd >= 0; the
 * caller keeps (and closes) its descriptors.  Returns the pid, or -1 with
 * the reason in err. */
pid_t spawn_process(char *const argv[], char *const envp[], const char *dir,
                    int in_fd, int out_fd, int st_fd, char *err,
                    size_t errlen);

#endif
