/* The relay engine's shared types. Worker threads own connections; the JavaScript thread only
 * creates them and posts commands (accept, reject, stop) through a queue. */
#ifndef SWITCHYARD_RELAY_ENGINE_H
#define SWITCHYARD_RELAY_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

/* The addon calls the OpenSSL inside the running Node (3.x); building against older headers
 * would mis-declare it. build-native.mjs points node-gyp at that Node's headers. */
#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "build against the headers of the Node that will load the addon (OpenSSL 3)"
#endif

#include <node_api.h>

#include "admission.h"

/* Why a connection ended; the strings are the `reason` JavaScript sees. */
typedef enum {
  REASON_EOF = 0,         /* both directions ended with FIN / close_notify */
  REASON_RESET,           /* a socket reported an error (ECONNRESET, EPIPE, ...) */
  REASON_IDLE_TIMEOUT,    /* nothing moved for the idle timeout */
  REASON_HANDSHAKE_TIMEOUT,
  REASON_HANDSHAKE_FAILED, /* TLS alert, bad certificate, truncated handshake */
  REASON_IDENTITY,        /* the peer's certificate has no, or more than one, SPIFFE ID */
  REASON_REJECTED,        /* JavaScript refused the peer */
  REASON_ENGINE_CLOSED,   /* the engine was closed with the connection open */
  REASON_TLS_ERROR,       /* TLS failed after the handshake (bad record, truncation) */
  REASON_NOT_TLS,         /* sniffing only: the client's first byte is not a TLS handshake record,
                             or it sent nothing within the handshake timeout; nothing was read:
                             the connection is JavaScript's again */
  REASON_TLS_FLOOD,       /* too many KeyUpdates or records without data (tls_limits.c) */
  REASON_PROTOCOL,        /* HTTP/2: the peer broke the protocol */
  REASON_CALM,            /* HTTP/2: closed with ENHANCE_YOUR_CALM (rapid reset, control-frame flood) */
  REASON_KEEPALIVE,       /* HTTP/2: a PING went unanswered */
  REASON_COUNT
} close_reason;

extern const char *const CLOSE_REASON_NAMES[REASON_COUNT];

typedef enum { KIND_SPLICE, KIND_TLS, KIND_H2 } conn_kind;
typedef enum { ST_HANDSHAKE, ST_AWAIT_DECISION, ST_RELAY, ST_CLOSED } conn_state;

struct conn;

/* One socket of a connection, and what epoll last told us about it (edge-triggered). */
typedef struct side {
  struct conn *conn;
  int fd;
  unsigned readable : 1;
  unsigned writable : 1;
  unsigned registered : 1;
} side;

/* One direction of bytes. Splice directions hold a pipe only while bytes are in flight; TLS
 * directions hold a buffer only while bytes are in flight, so idle connections hold neither. */
typedef struct direction {
  int pipe_r, pipe_w;
  size_t in_pipe;
  char *buf;
  size_t off, len;
  uint64_t bytes;
  unsigned src_eof : 1; /* the source said it will send nothing more */
  unsigned done : 1;    /* ...and that end was passed on to the destination */
} direction;

typedef struct conn {
  double js_id;
  struct worker *w;
  conn_kind kind;
  conn_state state;
  side a; /* splice: first socket; TLS: the encrypted socket */
  side b; /* splice: second socket; TLS: the plain socket (after accept) */
  direction up;   /* a → b (TLS: decrypted from the peer, written in plain) */
  direction down; /* b → a (TLS: read in plain, encrypted to the peer) */
  SSL *ssl;
  SSL_CTX *start_ctx; /* until its thread creates `ssl` from it (relay_tls_start): SSL_new is slow */
  int err; /* errno or 0, for the close detail */
  char detail[160];
  uint64_t last_active;
  struct conn *prev, *next; /* the timer list this connection is on (by last activity) */
  int timer_list;           /* -1: none, else index into worker->timers */
  struct conn *dead_next;
  unsigned dirty : 1;
  unsigned sniff : 1; /* server handshake: look at the first byte (without reading it) first */
  unsigned flood : 1; /* a TLS limit was crossed: `detail` says which; the connection is reset */
  unsigned client : 1; /* TLS: this end dialed (it offers a session to resume) */
  struct conn *dirty_next;
  /* TLS records the peer sent after the handshake (tls_limits.c) */
  uint32_t key_updates;          /* in the window that began at key_update_window */
  uint64_t key_update_window;
  uint64_t empty_debt;           /* records without application data owed, leaking with time */
  uint64_t empty_at;             /* when empty_debt last leaked */
  struct h2_session *h2; /* KIND_H2: the HTTP/2 session (h2.h) */
  /* admission on this thread (admission.h): asked at the handshake's end when `admit` is set;
   * `b` may already hold the plain socket (unwatched) to relay at once */
  unsigned admit : 1;
  admit_request admit_req;
} conn;

/* An event for JavaScript, queued by a worker and delivered in batches. */
/* EV_H2_*: HTTP/2 streams (h2_addon.c builds their objects) */
typedef enum { EV_HANDSHAKE, EV_CLOSED, EV_H2_STREAM, EV_H2_RESPONSE, EV_H2_STREAM_CLOSED } event_type;

typedef struct event {
  event_type type;
  double js_id;
  conn *c;            /* EV_HANDSHAKE: the connection awaiting accept/reject */
  char *spiffe_id;    /* EV_HANDSHAKE */
  unsigned char *chain; /* EV_HANDSHAKE: DER certificates, each prefixed by a 4-byte length */
  size_t chain_len;
  char *protocol;     /* EV_HANDSHAKE: e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384 X25519" */
  int resumed;        /* EV_HANDSHAKE: a session resumed (tls_resume.c), not a full handshake */
  uint64_t up, down;  /* EV_CLOSED */
  close_reason reason;
  char detail[160];
  int32_t stream;     /* EV_H2_*: the stream id */
  double tag;         /* EV_H2_*: JavaScript's name for a request it opened */
  int status;         /* EV_H2_RESPONSE: the status; EV_H2_STREAM_CLOSED: the RST_STREAM code */
  char *fields;       /* EV_H2_STREAM: method, authority, x-tun, forwarded, each NUL-terminated */
  size_t fields_len;
  int worker;         /* EV_H2_*: the thread that holds the connection */
  admit_verdict admitted; /* EV_HANDSHAKE: decided here (relaying or refused), or ASK: JavaScript decides */
  refuse_code refused;    /* EV_HANDSHAKE, ADMIT_REFUSED: why */
} event;

typedef enum {
  CMD_ADD, CMD_ACCEPT, CMD_REJECT, CMD_ABORT, CMD_STOP, CMD_CRASH, CMD_STALL,
  CMD_H2_SERVE, CMD_H2_CLIENT, CMD_H2_ACCEPT, CMD_H2_REFUSE, CMD_H2_OPEN, CMD_H2_GOAWAY, CMD_H2_RESET /* h2_commands.c */
} command_type;

typedef struct command {
  command_type type;
  conn *c;
  int fd; /* CMD_ACCEPT: the plain socket */
  double js_id; /* CMD_ABORT: the connection to reset */
  int arg;      /* CMD_CRASH: the signal (0: a NULL dereference); CMD_STALL: milliseconds */
  int32_t stream; /* CMD_H2_*: the stream, or the status to refuse with */
  int status;
  double tag;
  char *fields; /* CMD_H2_OPEN: the request's header fields; CMD_H2_SERVE: the peer's SPIFFE ID (or NULL) */
  uint32_t slot; /* CMD_H2_SERVE: the admission table's slot for the streams (0: none) */
  size_t fields_len;
  struct command *next;
} command;

#define TIMER_HANDSHAKE 0
#define TIMER_IDLE 1
/* not a timer: connections awaiting JavaScript's decision (it times them), kept so a stop finds them */
#define LIST_AWAITING 2
#define N_CONN_LISTS 3

typedef struct worker {
  struct engine *engine;
  int index;
  pthread_t thread;
  int epfd;
  int wakefd;
  side wake_side;
  /* commands from JavaScript */
  pthread_mutex_t lock;
  command *cmd_head, *cmd_tail;
  /* events for JavaScript */
  event *events;
  size_t n_events, cap_events;
  int signalled;
  /* owned by the worker thread */
  struct { conn *head, *tail; } timers[N_CONN_LISTS];
  conn *dead;
  conn *dirty;
  int spare_pipes[64][2];
  int n_spare_pipes;
  char *spare_buffers[16]; /* relay buffers kept for reuse: no malloc/free per message */
  int n_spare_buffers;
  uint64_t now;
  int stopping;
  int trim_pending; /* memory was freed since the last malloc_trim */
  _Atomic int64_t connections;
  _Atomic uint64_t bytes;
  /* the heartbeat: stamped at every turn of the loop (an idle loop turns every 250 ms), read by
   * JavaScript to tell a stalled thread */
  _Atomic uint64_t turns;
  _Atomic uint64_t last_turn_ms;
  struct h2_worker *h2; /* HTTP/2 sessions of this thread (h2.h), created on first use */
} worker;

typedef struct engine {
  worker *workers;
  int n_workers;
  _Atomic unsigned next_worker;
  napi_threadsafe_function tsfn;
  uint32_t idle_timeout_ms;
  uint32_t handshake_timeout_ms;
  /* what a TLS peer may send after the handshake (0: no limit) */
  uint32_t key_updates_per_minute;
  uint32_t empty_records_per_second; /* records carrying no application data */
  uint32_t empty_record_burst;
  int pipe_size;
  uint32_t h2_idle_ms; /* an HTTP/2 connection without a stream this long is closed (0: never) */
  int closed;
  /* the admission table (admission.c): swapped under the lock, freed by its last reader */
  pthread_mutex_t admission_lock;
  admission_table *admission;
  _Atomic int64_t admission_live;
  /* two owners: JavaScript's handle and the event function; the last to let go frees the engine */
  _Atomic int owners;
} engine;

/* loop.c */
uint64_t engine_now_ms(void);
int worker_start(worker *w);
void worker_post(worker *w, command *cmd);
void worker_fatal(const char *what, int err) __attribute__((noreturn));
void conn_touch(conn *c);
void conn_timer_set(conn *c, int list);
void conn_close(conn *c, close_reason reason, int err, const char *detail);
int conn_watch(conn *c, side *s);
void conn_mark_dirty(conn *c);
/* relays a handshaken connection to its plain socket (`fd`, or -1: the one it holds already) */
void conn_start_relay(conn *c, int fd);

/* splice_relay.c */
void splice_pump(conn *c);
void splice_release_pipes(conn *c);
void splice_no_delay(conn *c);

/* tls_limits.c */
void tls_limits_attach(conn *c);
void tls_limits_delivered(conn *c, size_t plain);

/* tls_relay.c */
/* Creates the connection's SSL from `start_ctx` on its own thread; -1 when OpenSSL could not. */
int relay_tls_start(conn *c);
void relay_tls_pump(conn *c);
void relay_tls_handshake(conn *c);
void relay_tls_free_buffers(conn *c);
void relay_tls_release_spares(worker *w);

/* tls_resume.c: tickets and a client session per destination on every context (see the file) */
int tls_resume_configure(SSL_CTX *ctx);
/* Offers the newest fresh session for the destination `fd` is connected to; remembers the
 * destination so the session this handshake brings replaces it. */
void tls_resume_offer(SSL *ssl, int fd);

/* peer_identity.c */
int peer_identity(SSL *ssl, char **spiffe_id, unsigned char **chain, size_t *chain_len, char *why, size_t why_len);

/* events.c */
void events_push(worker *w, const event *ev);
void events_flush(worker *w);
void events_deliver(napi_env env, napi_value js_cb, void *context, void *data);

/* crash.c */
void crash_guard_install(void);
void crash_guard_enter_thread(int index);
void crash_guard_leave_thread(void);

/* addon.c: the open engine behind a handle, or NULL after throwing */
engine *engine_of(napi_env env, napi_value v);

/* h2_commands.c, h2_addon.c, h2_tls.c: the HTTP/2 hooks the engine's files call */
void h2_command(worker *w, command *cmd);
void h2_pump(conn *c);
void h2_release(conn *c, close_reason reason);
void h2_tick(worker *w);
napi_value h2_event_object(napi_env env, event *ev);
void h2_event_free(event *ev);
void h2_define(napi_env env, napi_value exports);
int h2_tls_configure(SSL_CTX *ctx, const char *alpn);
int h2_answers_identity(SSL *ssl);

/* admission_addon.c: a hand-off's admission question (-1: malformed); the admission functions */
int admission_request_read(napi_env env, napi_value obj, admit_request *r);
void admission_define(napi_env env, napi_value exports);

/* tls_context.c */
napi_value relay_tls_context_create(napi_env env, napi_callback_info info);

#endif
