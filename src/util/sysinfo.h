/* sysinfo: this host's CPU and memory use, from /proc.  CPU load per core
 * is the busy fraction (0..1) of each core between two samples. */
#ifndef HERACRON_SYSINFO_H
#define HERACRON_SYSINFO_H

#include <stdint.h>

#define SYSINFO_MAX_CORES 1024

struct sysinfo_cpu {
  int ncores;
  uint64_t busy[SYSINFO_MAX_CORES];  /* jiffies at the last sample */
  uint64_t total[SYSINFO_MAX_CORES];
};

struct sysinfo_mem {
  uint64_t total; /* bytes */
  uint64_t used;  /* bytes: total - available */
};

/* Number of cores (online processors), at least 1. */
int sysinfo_cores(void);

/* Samples /proc/stat (path for tests; NULL = /proc/stat) and writes the
 * busy fraction of each core since the previous sample into load[0..n);
 * the first sample gives the fraction since boot.  Returns the number of
 * cores written (<= max), -1 on error. */
int sysinfo_cpu_sample(struct sysinfo_cpu *s, const char *path, float *load,
                       int max);

/* Reads /proc/meminfo (path NULL = the real one).  Returns 0, -1. */
int sysinfo_mem_read(struct sysinfo_mem *m, const char *path);

/* The 1-minute load average, or -1 on error. */
double sysinfo_loadavg(void);

#endif
