#include "config.h"

#include "util/sysinfo.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sysinfo_cores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (int)n;
}

int sysinfo_cpu_sample(struct sysinfo_cpu *s, const char *path, float *load,
                       int max) {
  FILE *f = fopen(path ? path : "/proc/stat", "r");
  if (f == NULL) return -1;
  char line[512];
  int n = 0;
  while (fgets(line, sizeof(line), f) != NULL && n < max &&
         n < SYSINFO_MAX_CORES) {
    /* "cpuN user nice system idle iowait irq softirq steal ..." */
    if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9')
      continue;
    uint64_t v[8] = {0};
    char *p = line + 3;
    strtoul(p, &p, 10); /* the core number */
    for (int i = 0; i < 8; i++) v[i] = strtoull(p, &p, 10);
    uint64_t idle = v[3] + v[4];
    uint64_t total = 0;
    for (int i = 0; i < 8; i++) total += v[i];
    uint64_t busy = total - idle;
    uint64_t dt = total - (n < s->ncores ? s->total[n] : 0);
    uint64_t db = busy - (n < s->ncores ? s->busy[n] : 0);
    load[n] = dt > 0 ? (float)db / (float)dt : 0.0f;
    if (load[n] > 1.0f) load[n] = 1.0f;
    if (load[n] < 0.0f) load[n] = 0.0f;
    s->busy[n] = busy;
    s->total[n] = total;
    n++;
  }
  fclose(f);
  s->ncores = n;
  return n > 0 ? n : -1;
}

int sysinfo_mem_read(struct sysinfo_mem *m, const char *path) {
  FILE *f = fopen(path ? path : "/proc/meminfo", "r");
  if (f == NULL) return -1;
  char line[256];
  uint64_t total = 0, avail = 0;
  int found = 0;
  while (fgets(line, sizeof(line), f) != NULL && found < 2) {
    unsigned long long kb;
    if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) {
      total = kb * 1024u;
      found++;
    } else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
      avail = kb * 1024u;
      found++;
    }
  }
  fclose(f);
  if (total == 0) return -1;
  m->total = total;
  m->used = avail <= total ? total - avail : 0;
  return 0;
}

double sysinfo_loadavg(void) {
  FILE *f = fopen("/proc/loadavg", "r");
  if (f == NULL) return -1;
  double a = -1;
  if (fscanf(f, "%lf", &a) != 1) a = -1;
  fclose(f);
  return a;
}
