/* HBONE streams decided from the admission table: a policy's stream section holds what the data
 * plane's serveStream decides a stream by besides the peer's rules (the addresses the workload
 * owns, the proxy's ports, where the app is dialled), compiled by JavaScript (encode-table.ts).
 *
 * Wire form, after a policy's rules and its u8 1: u16 addresses, each an ip; u16 ports, each u16
 * (1..65535); u8 dial (0 ask, 1 the authority, 2 fixed: an ip and a u16 port follow); u32 the
 * connect timeout in ms (≥ 1). ip: u8 family (4 or 6) and 4 or 16 bytes. */
#include <stdlib.h>
#include <string.h>

#include "admission_internal.h"
#include "engine.h"

#define MAX_STREAM_LIST 4096u

static void read_ip(reader *r, ip_addr *out) {
  uint32_t family = read_u(r, 1);
  size_t n = family == 4 ? 4 : family == 6 ? 16 : 0;
  if (r->bad || n == 0 || (size_t)(r->end - r->p) < n) {
    r->bad = 1;
    return;
  }
  if (out) {
    out->family = (uint8_t)family;
    memset(out->bytes, 0, sizeof out->bytes);
    memcpy(out->bytes, r->p, n);
  }
  r->p += n;
}

static void *list_alloc(reader *r, uint32_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) r->bad = 1;
  return p;
}

void stream_rules_read(reader *r, stream_rules *out) {
  uint32_t n = read_u(r, 2);
  if (n > MAX_STREAM_LIST) r->bad = 1;
  if (out && !r->bad && (out->addresses = list_alloc(r, n, sizeof *out->addresses))) out->n_addresses = n;
  for (uint32_t i = 0; i < n && !r->bad; i++) read_ip(r, out ? &out->addresses[i] : NULL);
  n = read_u(r, 2);
  if (n > MAX_STREAM_LIST) r->bad = 1;
  if (out && !r->bad && (out->proxy_ports = list_alloc(r, n, sizeof *out->proxy_ports))) out->n_ports = n;
  for (uint32_t i = 0; i < n && !r->bad; i++) {
    uint32_t port = read_u(r, 2);
    if (port == 0) r->bad = 1;
    if (out) out->proxy_ports[i] = (uint16_t)port;
  }
  uint32_t dial = read_u(r, 1);
  if (dial > DIAL_FIXED) r->bad = 1;
  if (dial == DIAL_FIXED) {
    read_ip(r, out ? &out->fixed : NULL);
    uint32_t port = read_u(r, 2);
    if (port == 0) r->bad = 1;
    if (out) out->fixed_port = (uint16_t)port;
  }
  uint32_t timeout = read_u(r, 4);
  if (timeout == 0) r->bad = 1;
  if (out) {
    out->dial = (dial_mode)dial;
    out->connect_timeout_ms = timeout;
  }
}

void stream_rules_free(stream_rules *s) {
  if (!s) return;
  free(s->addresses);
  free(s->proxy_ports);
  s->addresses = NULL;
  s->proxy_ports = NULL;
}

static int ip_equal(const ip_addr *a, const ip_addr *b) {
  return a->family == b->family && memcmp(a->bytes, b->bytes, a->family == 4 ? 4 : 16) == 0;
}

static int owned(const stream_rules *s, const stream_question *q) {
  if (ip_equal(&q->address, &q->local)) return 1;
  for (uint32_t i = 0; i < s->n_addresses; i++)
    if (ip_equal(&q->address, &s->addresses[i])) return 1;
  return 0;
}

static int proxy_port(const stream_rules *s, uint16_t port) {
  for (uint32_t i = 0; i < s->n_ports; i++)
    if (s->proxy_ports[i] == port) return 1;
  return 0;
}

static void refuse(stream_verdict *v, refuse_code code, int status) {
  v->verdict = ADMIT_REFUSED;
  v->code = code;
  v->status = status;
}

/* serveStream's order: the peer first, then the authority (owned, then not a proxy port), then
 * the dial; a slot that cannot dial leaves the whole stream to JavaScript. */
static void decide(const policy *p, const stream_question *q, stream_verdict *v) {
  const stream_rules *s = p->streams;
  if (!admission_policy_allows(p, q->peer)) refuse(v, REFUSE_POLICY, 401);
  else if (!owned(s, q)) refuse(v, REFUSE_NOT_THIS_WORKLOAD, 400);
  else if (proxy_port(s, q->port)) refuse(v, REFUSE_PROXY_PORT, 503);
  if (v->verdict == ADMIT_REFUSED || s->dial == DIAL_ASK) return;
  v->verdict = ADMIT_ACCEPTED;
  v->to = s->dial == DIAL_FIXED ? s->fixed : q->address;
  v->to_port = s->dial == DIAL_FIXED ? s->fixed_port : q->port;
  v->connect_timeout_ms = s->connect_timeout_ms;
}

void admission_decide_stream(engine *e, const stream_question *q, stream_verdict *v) {
  memset(v, 0, sizeof *v);
  v->verdict = ADMIT_ASK;
  if (!q->peer || !*q->peer) return;
  admission_table *t = admission_acquire(e);
  const policy *p = t ? admission_policy(t, q->slot) : NULL;
  if (p && p->streams) decide(p, q, v);
  admission_release(t);
}
