/* The admission table: per policy slot, the allow rules of one authorization policy (the data
 * plane's `authorize()`, compiled by JavaScript). A table is never changed once installed: a new
 * one replaces it by pointer, and the old one is freed by whoever lets go of it last (the engine,
 * or a thread still deciding with it), so a decision never sees half a table.
 *
 * Wire format (little-endian), built by src/admission/encode-table.ts:
 *   u32 magic "SWA2", u32 policies, then per policy (slots strictly increasing):
 *   u32 slot, str selfTrustDomain, u16 rules, then per rule: u8 fields (1 spiffeId, 2 trustDomain,
 *   4 namespace, 8 serviceAccount), then one str per field set, in that order; then u8 streams
 *   (0, or 1 and an HBONE stream section: admission_stream.c).
 *   str: u16 length (1..MAX_STRING), bytes without NUL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "engine.h"
#include "admission_internal.h"

const char *const REFUSE_CODE_NAMES[REFUSE_COUNT] = {"", "unexpected-identity", "unknown-destination", "policy",
                                                     "not-this-workload", "proxy-port", "connect"};

#define TABLE_MAGIC 0x32415753u /* "SWA2" */

static void table_free(admission_table *t) {
  if (!t) return;
  for (uint32_t i = 0; t->policies && i < t->n_policies; i++) {
    stream_rules_free(t->policies[i].streams);
    free(t->policies[i].streams);
  }
  free(t->policies);
  free(t->rules);
  free(t->bytes);
  free(t);
}

/* Counts rules first (one allocation for all), checking each policy's header on the way. */
static int count_rules(reader r, uint32_t n_policies, size_t *total) {
  *total = 0;
  for (uint32_t i = 0; i < n_policies && !r.bad; i++) {
    read_u(&r, 4);
    read_str(&r);
    uint32_t n = read_u(&r, 2);
    if (n > MAX_RULES) return -1;
    *total += n;
    for (uint32_t j = 0; j < n && !r.bad; j++) {
      uint32_t fields = read_u(&r, 1);
      if (fields > 15) return -1; /* a rule without a field matches our own trust domain */
      for (uint32_t bit = 1; bit <= 8; bit <<= 1)
        if (fields & bit) read_str(&r);
    }
    uint32_t streams = read_u(&r, 1);
    if (streams > 1) return -1;
    if (streams) stream_rules_read(&r, NULL);
  }
  return r.bad || r.p != r.end ? -1 : 0;
}

static void read_rule(reader *r, rule *out) {
  uint32_t fields = read_u(r, 1);
  memset(out, 0, sizeof *out);
  if (fields & FIELD_SPIFFE_ID) out->spiffe_id = read_str(r);
  if (fields & FIELD_TRUST_DOMAIN) out->trust_domain = read_str(r);
  if (fields & FIELD_NAMESPACE) out->name_space = read_str(r);
  if (fields & FIELD_SERVICE_ACCOUNT) out->service_account = read_str(r);
}

admission_table *admission_parse(const unsigned char *data, size_t len, char *why, size_t why_len) {
  admission_table *t = calloc(1, sizeof *t);
  if (!t || !(t->bytes = malloc(len ? len : 1))) {
    free(t);
    snprintf(why, why_len, "out of memory for the admission table");
    return NULL;
  }
  memcpy(t->bytes, data, len);
  reader r = {t->bytes, t->bytes + len, 0};
  uint32_t magic = read_u(&r, 4);
  t->n_policies = read_u(&r, 4);
  size_t total = 0;
  if (r.bad || magic != TABLE_MAGIC || t->n_policies > MAX_POLICIES || count_rules(r, t->n_policies, &total) != 0) {
    snprintf(why, why_len, "the admission table is malformed (build it with encodeAdmissionTable)");
    table_free(t);
    return NULL;
  }
  t->policies = calloc(t->n_policies ? t->n_policies : 1, sizeof *t->policies);
  t->rules = calloc(total ? total : 1, sizeof *t->rules);
  if (!t->policies || !t->rules) {
    snprintf(why, why_len, "out of memory for the admission table");
    table_free(t);
    return NULL;
  }
  rule *next = t->rules;
  for (uint32_t i = 0; i < t->n_policies; i++) {
    policy *p = &t->policies[i];
    p->slot = read_u(&r, 4);
    p->self_trust_domain = read_str(&r);
    p->n_rules = read_u(&r, 2);
    p->rules = next;
    for (uint32_t j = 0; j < p->n_rules; j++) read_rule(&r, next++);
    if (read_u(&r, 1)) {
      if (!(p->streams = calloc(1, sizeof *p->streams))) {
        snprintf(why, why_len, "out of memory for the admission table");
        table_free(t);
        return NULL;
      }
      stream_rules_read(&r, p->streams);
    }
    if (i > 0 && p->slot <= t->policies[i - 1].slot) r.bad = 1;
  }
  if (r.bad) {
    snprintf(why, why_len, "the admission table is malformed (its slots must strictly increase)");
    table_free(t);
    return NULL;
  }
  atomic_init(&t->refs, 1);
  return t;
}

void admission_release(admission_table *t) {
  if (!t || atomic_fetch_sub(&t->refs, 1) != 1) return;
  atomic_fetch_sub(t->live, 1);
  table_free(t);
}

/* The table now, held until table_release: the lock covers only the load and the count. */
admission_table *admission_acquire(engine *e) {
  pthread_mutex_lock(&e->admission_lock);
  admission_table *t = e->admission;
  if (t) atomic_fetch_add(&t->refs, 1);
  pthread_mutex_unlock(&e->admission_lock);
  return t;
}

void admission_install(engine *e, admission_table *t) {
  t->live = &e->admission_live;
  atomic_fetch_add(&e->admission_live, 1);
  pthread_mutex_lock(&e->admission_lock);
  admission_table *old = e->admission;
  e->admission = t;
  pthread_mutex_unlock(&e->admission_lock);
  admission_release(old);
}

void admission_clear(engine *e) {
  pthread_mutex_lock(&e->admission_lock);
  admission_table *old = e->admission;
  e->admission = NULL;
  pthread_mutex_unlock(&e->admission_lock);
  admission_release(old);
}

int64_t admission_live_tables(engine *e) { return atomic_load(&e->admission_live); }

void admission_request_free(admit_request *r) {
  free(r->expected);
  r->expected = NULL;
  r->expected_len = 0;
}

const policy *admission_policy(const admission_table *t, uint32_t slot) {
  size_t lo = 0, hi = t->n_policies;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->policies[mid].slot == slot) return &t->policies[mid];
    if (t->policies[mid].slot < slot) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

static int span_is(span s, const char *p, size_t n) { return s.n == n && memcmp(s.p, p, n) == 0; }

/* A SPIFFE workload ID's parts, as the data plane's parseSpiffeId reads them. */
typedef struct spiffe_parts {
  span trust_domain, name_space, service_account;
} spiffe_parts;

static int segment_ok(span s, size_t max, int upper) {
  if (s.n < 1 || s.n > max) return 0;
  for (size_t i = 0; i < s.n; i++) {
    char ch = s.p[i];
    int ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' ||
             (upper && ch >= 'A' && ch <= 'Z');
    if (!ok) return 0;
  }
  return 1;
}

/* Takes `len` bytes up to the next '/' (or the end), then expects `after` there. */
static int take_segment(const char **at, const char *end, span *out, const char *after) {
  const char *slash = memchr(*at, '/', (size_t)(end - *at));
  const char *stop = slash ? slash : end;
  *out = (span){*at, (size_t)(stop - *at)};
  size_t n = strlen(after);
  if ((size_t)(end - stop) < n || memcmp(stop, after, n) != 0) return 0;
  *at = stop + n;
  return 1;
}

static int parse_spiffe(const char *id, spiffe_parts *out) {
  static const char scheme[] = "spiffe://";
  size_t len = strlen(id);
  if (len < sizeof scheme - 1 || memcmp(id, scheme, sizeof scheme - 1) != 0) return 0;
  const char *at = id + sizeof scheme - 1, *end = id + len;
  if (!take_segment(&at, end, &out->trust_domain, "/ns/") || !take_segment(&at, end, &out->name_space, "/sa/"))
    return 0;
  if (!take_segment(&at, end, &out->service_account, "") || at != end) return 0;
  return segment_ok(out->trust_domain, 255, 0) && segment_ok(out->name_space, 253, 1) &&
         segment_ok(out->service_account, 253, 1);
}

static int rule_matches(const rule *r, const policy *p, const char *peer, const spiffe_parts *id) {
  span td = r->trust_domain.p ? r->trust_domain : p->self_trust_domain;
  return (!r->spiffe_id.p || span_is(r->spiffe_id, peer, strlen(peer))) &&
         span_is(td, id->trust_domain.p, id->trust_domain.n) &&
         (!r->name_space.p || span_is(r->name_space, id->name_space.p, id->name_space.n)) &&
         (!r->service_account.p || span_is(r->service_account, id->service_account.p, id->service_account.n));
}

int admission_policy_allows(const policy *p, const char *peer) {
  spiffe_parts id;
  if (!parse_spiffe(peer, &id)) return 0;
  for (uint32_t i = 0; i < p->n_rules; i++)
    if (rule_matches(&p->rules[i], p, peer, &id)) return 1;
  return 0;
}

static int expected_has(const admit_request *r, const char *peer) {
  size_t n = strlen(peer);
  for (const char *at = r->expected, *end = r->expected + r->expected_len; at < end;) {
    size_t len = strnlen(at, (size_t)(end - at));
    if (len == n && memcmp(at, peer, n) == 0) return 1;
    at += len + 1;
  }
  return 0;
}

admit_verdict admission_decide(engine *e, const admit_request *r, const char *peer, refuse_code *code) {
  *code = REFUSE_NONE;
  admission_table *t = admission_acquire(e);
  const policy *p = t ? admission_policy(t, r->slot) : NULL;
  admit_verdict verdict = ADMIT_ASK;
  if (p) {
    verdict = ADMIT_REFUSED;
    if (r->pinned && r->expected && !expected_has(r, peer)) *code = REFUSE_UNEXPECTED_IDENTITY;
    else if (r->pinned && !r->expected && !r->trust_domain_fallback) *code = REFUSE_UNKNOWN_DESTINATION;
    else if (!admission_policy_allows(p, peer)) *code = REFUSE_POLICY;
    else verdict = ADMIT_ACCEPTED;
  }
  admission_release(t);
  return verdict;
}
