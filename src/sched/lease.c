#include "config.h"

#include "sched/lease.h"

uint32_t lease_margin(uint32_t lease_ms) {
  uint32_t m = lease_ms / 10;
  if (m < 100) m = 100;
  if (m > 1000) m = 1000;
  if (m >= lease_ms) m = lease_ms / 2;
  return m;
}

uint64_t lease_valid_until(uint64_t sent_ms, uint32_t lease_ms) {
  return sent_ms + lease_ms - lease_margin(lease_ms);
}

enum lease_outcome lease_apply(struct lease_view *v, int updated,
                               uint64_t epoch, uint64_t sent_ms,
                               uint64_t now_ms, uint32_t lease_ms) {
  if (updated > 0) {
    bool same = v->master && v->epoch == epoch;
    v->master = true;
    v->epoch = epoch;
    v->valid_until = lease_valid_until(sent_ms, lease_ms);
    return same ? LEASE_RENEWED : LEASE_ACQUIRED;
  }
  if (!v->master) return LEASE_CANDIDATE;
  if (updated == 0) {
    lease_reset(v);
    return LEASE_LOST;
  }
  if (now_ms >= v->valid_until) {
    lease_reset(v);
    return LEASE_EXPIRED;
  }
  return LEASE_KEEP;
}

bool lease_must_step_down(const struct lease_view *v, uint64_t now_ms) {
  return v->master && now_ms >= v->valid_until;
}

void lease_reset(struct lease_view *v) {
  v->master = false;
  v->epoch = 0;
  v->valid_until = 0;
}

const char *lease_outcome_name(enum lease_outcome o) {
  static const char *const names[] = {"candidate", "acquired", "renewed",
                                      "lost",      "expired",  "keep"};
  return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}
