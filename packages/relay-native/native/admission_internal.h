/* The admission table's parts, shared by the files that parse and read it (admission.c,
 * admission_stream.c); nothing outside them looks inside a table. */
#ifndef SWITCHYARD_RELAY_ADMISSION_INTERNAL_H
#define SWITCHYARD_RELAY_ADMISSION_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "admission.h"

#define MAX_POLICIES 65536u
#define MAX_RULES 4096u
#define MAX_STRING 1024u
#define FIELD_SPIFFE_ID 1u
#define FIELD_TRUST_DOMAIN 2u
#define FIELD_NAMESPACE 4u
#define FIELD_SERVICE_ACCOUNT 8u

typedef struct span {
  const char *p; /* NULL: the rule leaves this field open */
  size_t n;
} span;

typedef struct rule {
  span spiffe_id, trust_domain, name_space, service_account;
} rule;

/* Where the engine dials a stream it admitted (DIAL_ASK: JavaScript decides the stream). */
typedef enum { DIAL_ASK = 0, DIAL_AUTHORITY, DIAL_FIXED } dial_mode;

/* What a workload's HBONE streams are decided by besides its peer rules (admission_stream.c). */
typedef struct stream_rules {
  uint32_t n_addresses;
  ip_addr *addresses; /* the workload's own, besides the one a connection arrived on */
  uint32_t n_ports;
  uint16_t *proxy_ports;
  dial_mode dial;
  ip_addr fixed; /* DIAL_FIXED */
  uint16_t fixed_port;
  uint32_t connect_timeout_ms;
} stream_rules;

typedef struct policy {
  uint32_t slot;
  span self_trust_domain;
  uint32_t n_rules;
  rule *rules;
  stream_rules *streams; /* NULL: the slot decides no stream */
} policy;

struct admission_table {
  _Atomic int refs;
  _Atomic int64_t *live; /* the engine's count of tables alive */
  uint32_t n_policies;
  policy *policies; /* sorted by slot */
  rule *rules;      /* every policy's rules, one allocation */
  unsigned char *bytes; /* the strings point into this copy of the wire form */
};

typedef struct reader {
  const unsigned char *p, *end;
  int bad;
} reader;

static inline uint32_t read_u(reader *r, int width) {
  if (r->bad || (size_t)(r->end - r->p) < (size_t)width) { r->bad = 1; return 0; }
  uint32_t v = 0;
  for (int i = width - 1; i >= 0; i--) v = (v << 8) | r->p[i];
  r->p += width;
  return v;
}

static inline span read_str(reader *r) {
  uint32_t n = read_u(r, 2);
  if (r->bad || n == 0 || n > MAX_STRING || (size_t)(r->end - r->p) < n || memchr(r->p, 0, n)) {
    r->bad = 1;
    return (span){NULL, 0};
  }
  span s = {(const char *)r->p, n};
  r->p += n;
  return s;
}

/* A policy's HBONE stream section: read (and checked) from `r` into `out`, or skipped when `out`
 * is NULL; allocations `out` holds are freed by stream_rules_free. */
void stream_rules_read(reader *r, stream_rules *out);
void stream_rules_free(stream_rules *s);

/* admission.c: the table now (held until admission_release), a slot's policy, its rules' verdict */
admission_table *admission_acquire(struct engine *e);
void admission_release(admission_table *t);
const policy *admission_policy(const admission_table *t, uint32_t slot);
int admission_policy_allows(const policy *p, const char *peer);

#endif
