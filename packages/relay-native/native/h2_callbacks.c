/* nghttp2's callbacks: streams begin and end, header fields are kept (only the ones HBONE needs,
 * bounded), DATA goes to its tunnel, and the defences count what a peer sends. A callback never
 * closes the connection: it marks the session and the pump acts. */
#include <pthread.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "h2.h"

#define EARLY_RESETS_MAX 100
#define EARLY_RESET_WINDOW_MS 10000
#define REFUSED_STREAMS_MAX 100
#define INVALID_FRAMES_MAX 1000

static const char *const FIELD_NAMES[4] = {":method", ":authority", "x-tun", "forwarded"};

static int on_begin_frame(nghttp2_session *ng, const nghttp2_frame_hd *hd, void *user) {
  (void)ng;
  h2_session *s = user;
  if (hd->type != NGHTTP2_DATA && ++s->control_frames > H2_CONTROL_FRAMES_BURST)
    s->calm_pending = "control-frame-flood: control frames over the budget";
  return 0;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user) {
  h2_session *s = user;
  if (s->client || frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  h2_stream *st = h2_stream_new(s, frame->hd.stream_id);
  nghttp2_session_set_stream_user_data(ng, frame->hd.stream_id, st);
  return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user) {
  (void)flags;
  h2_session *s = user;
  h2_stream *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
  if (!st) return 0;
  if (s->client) {
    if (namelen == 7 && memcmp(name, ":status", 7) == 0 && valuelen == 3)
      st->status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
    return 0;
  }
  for (int i = 0; i < 4; i++) {
    if (strlen(FIELD_NAMES[i]) != namelen || memcmp(FIELD_NAMES[i], name, namelen) != 0) continue;
    if (valuelen >= H2_MAX_FIELD || st->field_len[i]) st->field_overflow = 1;
    else {
      if (!st->fields && !(st->fields = malloc(4 * sizeof *st->fields))) worker_fatal("HTTP/2 stream", ENOMEM);
      memcpy(st->fields[i], value, valuelen);
      st->field_len[i] = (unsigned char)valuelen;
    }
  }
  return 0;
}

/* A stream the peer reset before JavaScript answered it: rapid reset (CVE-2023-44487). */
static void early_reset(h2_session *s) {
  uint64_t now = s->c->w->now;
  if (now - s->reset_window_start > EARLY_RESET_WINDOW_MS) {
    s->reset_window_start = now;
    s->early_resets = 0;
  }
  if (++s->early_resets >= EARLY_RESETS_MAX)
    s->calm_pending = "rapid-reset-goaway: streams reset before they were answered";
}

static void on_headers(h2_session *s, h2_stream *st, const nghttp2_frame *frame) {
  if (!s->client && frame->headers.cat == NGHTTP2_HCAT_REQUEST && st->state == HS_HEADERS) {
    st->state = HS_AWAIT;
    /* with a table: decided after this read (h2_admit.c), so a reset in the same read is never dialled */
    if (s->stream_slot && !s->denied) st->decide = 1;
    else h2_stream_event(st, EV_H2_STREAM);
  } else if (s->client && frame->headers.cat == NGHTTP2_HCAT_RESPONSE && st->state == HS_AWAIT) {
    if (st->status >= 200 && st->status < 300) {
      st->state = HS_OPEN;
      st->borrowed = 0; /* JavaScript lets go of the client socket once it hears of the 2xx */
      st->plain.readable = 1;
      if (st->deferred) {
        st->deferred = 0;
        nghttp2_session_resume_data(s->ng, st->id);
      }
    }
    h2_stream_event(st, EV_H2_RESPONSE);
  }
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user) {
  h2_session *s = user;
  if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK)) s->ping_sent_at = 0;
  h2_stream *st = frame->hd.stream_id ? nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id) : NULL;
  if (!st) return 0;
  if (frame->hd.type == NGHTTP2_HEADERS) on_headers(s, st, frame);
  if (frame->hd.type == NGHTTP2_RST_STREAM && !s->client && st->state == HS_AWAIT && !st->discard) early_reset(s);
  if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
    st->peer_ended = 1;
  return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                         void *user) {
  (void)flags; (void)user;
  /* the connection's window reopens at once; each stream's window bounds what waits for its app */
  nghttp2_session_consume_connection(ng, len);
  h2_stream *st = nghttp2_session_get_stream_user_data(ng, stream_id);
  if (!st || st->state == HS_DONE || st->discard) return 0;
  return h2_stream_take_data(st, data, len);
}

static int on_stream_close(nghttp2_session *ng, int32_t stream_id, uint32_t error_code, void *user) {
  (void)user;
  h2_stream *st = nghttp2_session_get_stream_user_data(ng, stream_id);
  if (!st) return 0;
  nghttp2_session_set_stream_user_data(ng, stream_id, NULL);
  h2_stream_closed(st, error_code);
  return 0;
}

static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *frame, void *user) {
  h2_session *s = user;
  /* a refusal sent: RST_STREAM NO_ERROR tells the peer to stop sending, and the refused stream
   * stops counting against the limit even if the peer never ends its side (submitted only now:
   * a reset queued before the answer would drop it) */
  if (frame->hd.type == NGHTTP2_HEADERS && !s->client) {
    h2_stream *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (st && st->discard) nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
  }
  if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR && !s->calm) {
    s->broken = 1;
    snprintf(s->c->detail, sizeof s->c->detail, "GOAWAY %s", nghttp2_http2_strerror(frame->goaway.error_code));
  }
  /* streams over the advertised limit, refused: a peer that keeps trying is cut off */
  if (frame->hd.type == NGHTTP2_RST_STREAM && frame->rst_stream.error_code == NGHTTP2_REFUSED_STREAM &&
      ++s->refused_streams >= REFUSED_STREAMS_MAX)
    s->calm_pending = "refused-stream-flood: streams opened over the limit";
  return 0;
}

static int on_invalid_frame(nghttp2_session *ng, const nghttp2_frame *frame, int error, void *user) {
  (void)ng; (void)frame; (void)error;
  h2_session *s = user;
  if (++s->invalid_frames >= INVALID_FRAMES_MAX) s->calm_pending = "invalid-frame-flood: invalid frames";
  return 0;
}

/* DATA frames as large as the peer and the windows allow, up to 64 KiB: fewer reads of the app
 * socket and fewer frames (nghttp2's default stops at 16 KiB). */
static ssize_t data_length(nghttp2_session *ng, uint8_t type, int32_t stream_id, int32_t session_window,
                           int32_t stream_window, uint32_t peer_max_frame, void *user) {
  (void)ng; (void)type; (void)stream_id; (void)user;
  ssize_t n = 64 * 1024;
  if (session_window < n) n = session_window;
  if (stream_window < n) n = stream_window;
  if ((ssize_t)peer_max_frame < n) n = (ssize_t)peer_max_frame;
  return n > 0 ? n : 1;
}

static nghttp2_session_callbacks *callbacks;
static pthread_once_t callbacks_once = PTHREAD_ONCE_INIT;

static void callbacks_init(void) {
  if (nghttp2_session_callbacks_new(&callbacks) != 0) worker_fatal("HTTP/2 callbacks", 12);
  nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks, on_begin_frame);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, on_frame_send);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(callbacks, on_invalid_frame);
  nghttp2_session_callbacks_set_data_source_read_length_callback(callbacks, data_length);
}

/* One set of callbacks for every session (they read client or server from the session). */
nghttp2_session_callbacks *h2_callbacks(int client) {
  (void)client;
  pthread_once(&callbacks_once, callbacks_init);
  return callbacks;
}
