#include "config.h"

#include "master/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
  struct reg_worker *head;
  size_t count;
} reg;

struct reg_worker *registry_find(const char *name) {
  for (struct reg_worker *w = reg.head; w != NULL; w = w->next)
    if (strcmp(w->name, name) == 0) return w;
  return NULL;
}

struct reg_worker *registry_add(const char *name) {
  struct reg_worker *w = calloc(1, sizeof(*w));
  if (w == NULL) return NULL;
  snprintf(w->name, sizeof(w->name), "%s", name);
  w->next = reg.head;
  if (reg.head) reg.head->prev = w;
  reg.head = w;
  reg.count++;
  return w;
}

void registry_remove(struct reg_worker *w) {
  if (w->prev) w->prev->next = w->next;
  else reg.head = w->next;
  if (w->next) w->next->prev = w->prev;
  reg.count--;
  free(w->ids);
  free(w);
}

bool registry_lists(const struct reg_worker *w, uint64_t id) {
  for (size_t i = 0; i < w->nids; i++)
    if (w->ids[i] == id) return true;
  return false;
}

size_t registry_count(void) { return reg.count; }

struct reg_worker *registry_first(void) { return reg.head; }
