/* workdir: where an instance runs on a worker, and how long that stays.
 *
 * An instance gets work_dir/YYYY-MM-DD/<trigger>-<instance>/ with its
 * script (and, for a map's root or reduce, its input) in files, kept for
 * operators to look at.  A map sub-task shares one directory with the
 * other parts of its map on this worker, its script is written there once
 * per content, and its item comes on a pipe: a map may run 100,000 parts,
 * and creating and deleting files for each was the worker's main cost
 * (ext4 inode allocation).  Day directories older than node.work_keep_days
 * are removed by a child process, never on the loop. */
#ifndef HERACRON_WORKDIR_H
#define HERACRON_WORKDIR_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

#include "proto/heracron.pb-c.h"

struct workdir_place {
  char dir[1024];    /* the working directory */
  char script[1100]; /* the script file */
  int stdin_fd;      /* owned: what the process reads, O_CLOEXEC */
  bool part;         /* a map sub-task (a shared directory) */
};

/* Prepares x's place.  Returns 0 (close pl->stdin_fd after the fork), or
 * -1 with the reason in err. */
int workdir_prepare(const Heracron__Execute *x, const char *trigger_name,
                    struct workdir_place *pl, char *err, size_t errlen);

/* Starts the hourly removal of old day directories (none when
 * node.work_keep_days is 0). */
void workdir_sweep_start(struct ev_loop *loop);
void workdir_sweep_stop(struct ev_loop *loop);

#endif
