/* HTTP/2 for HBONE on the engine's threads (nghttp2, linked statically with its symbols hidden).
 * A TLS connection JavaScript accepted for HTTP/2 carries CONNECT streams; each accepted stream
 * relays its DATA to a plain socket. JavaScript decides a stream (authority, authorization, the
 * app's dial) from one event and hands the socket over — or, on a connection served with a slot
 * of the admission table, the engine decides from the table and dials the app itself
 * (h2_admit.c), and JavaScript hears of it afterwards. The engine keeps the limits. */
#ifndef SWITCHYARD_RELAY_H2_H
#define SWITCHYARD_RELAY_H2_H

#include <nghttp2/nghttp2.h>

#include "engine.h"

/* HBONE's settings (ztunnel's): stream and connection windows unequal on purpose. */
#define H2_STREAM_WINDOW (4 * 1024 * 1024)
#define H2_CONNECTION_WINDOW (16 * 1024 * 1024)
#define H2_MAX_FRAME (1024 * 1024)
#define H2_MAX_STREAMS 100
/* A header value longer than this is not HBONE: the stream is refused with 400 by JavaScript. */
#define H2_MAX_FIELD 256
/* Control frames (every frame but DATA) a connection may send per second of the tick: two seconds
 * over it end the connection (h2_commands.c), and so does twice it within one second, counted as
 * the frames arrive (h2_callbacks.c): a flood is cut within a bounded number of frames. */
#define H2_CONTROL_FRAMES_PER_SECOND 10000
#define H2_CONTROL_FRAMES_BURST (2 * H2_CONTROL_FRAMES_PER_SECOND)
/* What a connection told ENHANCE_YOUR_CALM may still send, read and dropped, before it is cut
 * without waiting for its close (h2_session.c): the grace is for its GOAWAY, not its flood. */
#define H2_CALM_DRAIN_BYTES (256 * 1024)

typedef enum { HS_HEADERS, HS_AWAIT, HS_OPEN, HS_DONE } h2_stream_state;

/* One tunnel. `plain` is the socket JavaScript handed over (fd -1 until then). */
typedef struct h2_stream {
  struct h2_session *s;
  int32_t id;
  double tag; /* client streams: JavaScript's name for the request; server streams: 0 */
  h2_stream_state state;
  side plain;
  /* DATA from the peer not yet written to the plain socket (only while the app is slow) */
  char *up_buf;
  size_t up_off, up_len, up_cap;
  uint64_t up_bytes, down_bytes;
  int status;                 /* client streams: the response status once it arrived */
  unsigned peer_ended : 1;    /* END_STREAM received: shut the plain socket's write side once drained */
  unsigned plain_shut : 1;
  unsigned deferred : 1;      /* the data source waits for the plain socket to be readable */
  unsigned down_eof : 1;
  unsigned closed : 1;        /* nghttp2 closed the stream; we may still be draining up_buf */
  unsigned discard : 1;       /* refused: DATA that still comes is dropped */
  unsigned reported : 1;      /* JavaScript knows the stream: it hears of its end */
  unsigned borrowed : 1;      /* the plain socket is JavaScript's too: close without RST or shutdown until 2xx */
  unsigned decide : 1;        /* the admission table decides it once this read is done (h2_admit.c) */
  unsigned dialing : 1;       /* admitted by the table: the engine's connect to the app is in flight */
  uint32_t error_code;
  uint64_t dial_deadline; /* dialing: when the connect times out (ms, the worker's clock) */
  /* :method, :authority, x-tun, forwarded (H2_MAX_FIELD each): allocated by the first header kept
   * and freed once JavaScript has them, so an open tunnel holds none (client streams never do) */
  char (*fields)[H2_MAX_FIELD];
  unsigned char field_len[4];
  unsigned field_overflow : 1;
  struct h2_stream *prev, *next; /* the session's streams */
  struct h2_stream *dead_next;
} h2_stream;

typedef struct h2_session {
  conn *c;
  nghttp2_session *ng;
  int client;
  int denied; /* the policy refused this peer: streams are answered 401 and the connection ends soon */
  uint32_t stream_slot; /* server: the admission table's slot deciding its streams (0: JavaScript decides) */
  char *peer;           /* with stream_slot: the peer's SPIFFE ID */
  ip_addr local;        /* with stream_slot: the address the connection arrived on */
  h2_stream *streams;
  int n_streams;
  /* TLS bytes nghttp2 produced that the socket has not taken yet */
  char *out;
  size_t out_off, out_len, out_cap;
  /* defences */
  uint32_t early_resets;
  uint64_t reset_window_start;
  uint32_t control_frames, control_strikes;
  size_t calm_drained; /* bytes read and dropped since the connection was told to calm down */
  uint32_t invalid_frames, refused_streams;
  uint64_t calm_at;
  uint64_t closing_since; /* GOAWAY flushed and FIN sent: reading only until the peer closes */
  close_reason end_reason;
  const char *calm_pending; /* set in a callback, acted on by the pump */
  uint64_t ping_sent_at; /* 0: no PING outstanding */
  uint64_t last_ping;
  uint64_t idle_since; /* when the last stream ended (0 while streams are open) */
  uint64_t born;
  unsigned goaway_sent : 1;
  unsigned calm : 1;
  unsigned broken : 1; /* we sent GOAWAY with an error: the peer broke the protocol */
  struct h2_session *bucket_next; /* the worker's lookup by JavaScript id */
  struct h2_session *prev, *next; /* the worker's sessions, for the keepalive tick */
} h2_session;

/* The worker's HTTP/2 state (worker->h2). */
#define H2_BUCKETS 4096
typedef struct h2_worker {
  h2_session *buckets[H2_BUCKETS];
  h2_session *sessions;
  h2_stream *dead;
  uint64_t last_tick;
  uint8_t scratch[64 * 1024]; /* TLS plaintext on its way to nghttp2 */
} h2_worker;

/* h2_session.c */
int h2_session_start(conn *c, int client, int denied, uint32_t stream_slot, char *peer);
void h2_pump(conn *c);
void h2_session_calm(h2_session *s, const char *why);
void h2_drain_peer(h2_session *s);
h2_session *h2_lookup(worker *w, double js_id);

/* h2_stream.c */
void h2_buffer_append(char **buf, size_t *len, size_t *cap, const void *data, size_t n);
h2_stream *h2_stream_new(h2_session *s, int32_t id);
void h2_stream_release(h2_stream *st, close_reason reason); /* REASON_EOF: a clean end */
void h2_stream_pump(h2_stream *st);
void h2_stream_reset(h2_stream *st, uint32_t code);
void h2_stream_closed(h2_stream *st, uint32_t error_code);
int h2_stream_take_data(h2_stream *st, const uint8_t *data, size_t len);
nghttp2_data_provider h2_stream_source(h2_stream *st);
void h2_stream_event(h2_stream *st, event_type type);

/* h2_admit.c: streams the admission table decides, and the engine's dial of their app */
void h2_stream_decide(h2_stream *st);
void h2_stream_dialed(h2_stream *st);
void h2_dial_timeouts(h2_session *s, uint64_t now);
int h2_local_address(int fd, ip_addr *out);
void h2_stream_decided_event(h2_stream *st, admit_verdict verdict, refuse_code code, int err);

/* h2_callbacks.c */
nghttp2_session_callbacks *h2_callbacks(int client);

/* h2_commands.c */
void h2_stream_accept(h2_session *s, int32_t id, int fd);
void h2_stream_refuse(h2_session *s, int32_t id, int status);
void h2_stream_open(h2_session *s, double tag, const char *fields, size_t fields_len, int fd);

#endif
