/* script: the text a worker runs — a job's script with its variables and
 * hera's date macros expanded (sched/macro.h), variables taken from the
 * job, then from its folder and each folder above it, nearest first. */
#ifndef HERACRON_SCRIPT_H
#define HERACRON_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "sched/civil.h"

/* A folder's variables as stored: path and a JSON object text. */
struct script_folder {
  const char *path;
  const char *vars; /* may be NULL */
};

/* Expands script for a job in folder (may be NULL: no folder variables).
 * job_vars is the job's JSON object text or NULL.  Returns a new string
 * the caller frees, or NULL with the reason in err. */
char *script_render(const char *script, const char *job_vars,
                    const char *folder, const struct script_folder *folders,
                    size_t nfolders, const struct civil *anchor, char *err,
                    size_t errlen);

/* The macros' anchor: the action's time (its id starts YYYYMMDDHHMM), else
 * the business date YYYYMMDD at midnight, else the local time now. */
void script_anchor(int64_t action_id, const char *bizdate, struct civil *out);

#endif
