/* Admission on the engine thread: a table JavaScript compiles from its one authorization point,
 * held as an immutable snapshot the engine swaps by pointer (admission.c). */
#ifndef SWITCHYARD_RELAY_ADMISSION_H
#define SWITCHYARD_RELAY_ADMISSION_H

#include <stdint.h>

struct engine;
struct conn;

/* What the engine decided about a handshaken peer. */
typedef enum {
  ADMIT_ASK = 0,   /* no verdict here: JavaScript decides, as without a table */
  ADMIT_ACCEPTED,  /* relaying already; JavaScript hears it afterwards */
  ADMIT_REFUSED,   /* closed as rejected; the code says why */
} admit_verdict;

/* Why the engine refused (the strings JavaScript sees: its decision's codes). */
typedef enum {
  REFUSE_NONE = 0,
  REFUSE_UNEXPECTED_IDENTITY, /* the destination must present another identity */
  REFUSE_UNKNOWN_DESTINATION, /* no identity is known for the destination, and none is trusted */
  REFUSE_POLICY,              /* no allow rule of the policy matches the peer */
  REFUSE_COUNT
} refuse_code;

extern const char *const REFUSE_CODE_NAMES[REFUSE_COUNT];

/* One connection's question, given with its hand-off (owned by the connection). */
typedef struct admit_request {
  uint32_t slot;       /* the policy in the table */
  char *expected;      /* identities the destination must present, NUL-separated; NULL: unknown */
  size_t expected_len; /* bytes of `expected` */
  unsigned pinned : 1;                /* a client's question: the destination's identity is pinned */
  unsigned trust_domain_fallback : 1; /* pinned, unknown destination: any identity the policy allows */
} admit_request;

typedef struct admission_table admission_table;

/* Parses a table JavaScript built; NULL with `why` on anything malformed (nothing is installed). */
admission_table *admission_parse(const unsigned char *data, size_t len, char *why, size_t why_len);
/* Installs `t` (the engine owns it now); the snapshot it replaces is freed by its last reader. */
void admission_install(struct engine *e, admission_table *t);
/* Drops the engine's table at close. */
void admission_clear(struct engine *e);
/* The verdict for `peer` (the one SPIFFE ID the handshake verified) under the engine's table now. */
admit_verdict admission_decide(struct engine *e, const admit_request *r, const char *peer, refuse_code *code);
/* Tables alive (installed or still read by a thread): 1 after any swap settles, 0 after close. */
int64_t admission_live_tables(struct engine *e);
void admission_request_free(admit_request *r);

#endif
