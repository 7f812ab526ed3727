#include "config.h"

#include "worker/outlog.h"

#include <stdlib.h>
#include <string.h>

struct outlog_chunk {
  uint32_t seq;
  size_t len;
  uint8_t *data; /* owned */
};

struct outlog_inst {
  struct outlog_inst *next;
  uint64_t id;
  size_t n, cap;
  struct outlog_chunk *c; /* owned */
};

static struct {
  struct outlog_inst *head;
  size_t bytes;
} ol;

static struct outlog_inst *outlog_find(uint64_t id, int create) {
  for (struct outlog_inst *i = ol.head; i; i = i->next)
    if (i->id == id) return i;
  if (!create) return NULL;
  struct outlog_inst *i = calloc(1, sizeof(*i));
  if (i == NULL) return NULL;
  i->id = id;
  i->next = ol.head;
  ol.head = i;
  return i;
}

int outlog_add(uint64_t id, uint32_t seq, const uint8_t *data, size_t len) {
  struct outlog_inst *i = outlog_find(id, 1);
  if (i == NULL) return -1;
  if (i->n == i->cap) {
    size_t nc = i->cap ? i->cap * 2 : 8;
    struct outlog_chunk *c = realloc(i->c, nc * sizeof(*c));
    if (c == NULL) return -1;
    i->c = c;
    i->cap = nc;
  }
  uint8_t *d = malloc(len ? len : 1);
  if (d == NULL) return -1;
  memcpy(d, data, len);
  i->c[i->n++] = (struct outlog_chunk){seq, len, d};
  ol.bytes += len;
  return 0;
}

static void outlog_free(struct outlog_inst *i) {
  for (size_t k = 0; k < i->n; k++) {
    ol.bytes -= i->c[k].len;
    free(i->c[k].data);
  }
  free(i->c);
  free(i);
}

void outlog_drop(uint64_t id) {
  for (struct outlog_inst **pp = &ol.head; *pp; pp = &(*pp)->next)
    if ((*pp)->id == id) {
      struct outlog_inst *i = *pp;
      *pp = i->next;
      outlog_free(i);
      return;
    }
}

void outlog_each(void (*fn)(uint64_t id, uint32_t seq, const uint8_t *data,
                            size_t len)) {
  for (struct outlog_inst *i = ol.head; i; i = i->next)
    for (size_t k = 0; k < i->n; k++)
      fn(i->id, i->c[k].seq, i->c[k].data, i->c[k].len);
}

size_t outlog_bytes(void) { return ol.bytes; }

void outlog_free_all(void) {
  while (ol.head) {
    struct outlog_inst *i = ol.head;
    ol.head = i->next;
    outlog_free(i);
  }
}
