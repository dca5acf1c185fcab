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
  REFUSE_NOT_THIS_WORKLOAD,   /* a stream's authority is not an address of the workload (400) */
  REFUSE_PROXY_PORT,          /* a stream's authority is one of the proxy's own ports (503) */
  REFUSE_CONNECT,             /* the engine's dial of the app failed (503) */
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

/* An IP address as bytes (an IPv4-mapped IPv6 address is held as IPv4). */
typedef struct ip_addr {
  uint8_t family; /* 4 or 6 */
  uint8_t bytes[16];
} ip_addr;

/* One HBONE stream's question (admission_stream.c): the peer of its connection, the address the
 * connection arrived on and the authority the stream asks for. */
typedef struct stream_question {
  uint32_t slot;
  const char *peer;
  ip_addr local;
  ip_addr address;
  uint16_t port;
} stream_question;

/* The table's answer for a stream: ADMIT_ACCEPTED comes with where the engine dials the app. */
typedef struct stream_verdict {
  admit_verdict verdict;
  refuse_code code;
  int status;        /* ADMIT_REFUSED: the HTTP status to answer */
  ip_addr to;        /* ADMIT_ACCEPTED: the app's address and port */
  uint16_t to_port;
  uint32_t connect_timeout_ms;
} stream_verdict;

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
/* The verdict for an HBONE stream under the engine's table now (ADMIT_ASK: JavaScript decides). */
void admission_decide_stream(struct engine *e, const stream_question *q, stream_verdict *v);

#endif
