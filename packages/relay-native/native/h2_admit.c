/* HBONE streams the admission table decides on the engine thread: once the read that brought a
 * stream's headers is done (a stream reset in that same read is never decided nor dialled), the
 * table answers it — refused with its status, or admitted: the engine connects to the app itself
 * and answers 200 once connected. A stream the table cannot decide (no verdict, a method or an
 * authority it does not read exactly as JavaScript does) is reported to JavaScript as before.
 * JavaScript hears of every decided stream afterwards, in the batched events. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "h2.h"

#define FIELD_METHOD 0
#define FIELD_AUTHORITY 1

/* An IP literal only in the text form inet_ntop prints it in, so that the table's byte compare
 * and JavaScript's text compare agree; any other spelling is left to JavaScript. */
static int canonical_ip(const char *text, ip_addr *out) {
  char back[INET6_ADDRSTRLEN];
  struct in_addr a4;
  struct in6_addr a6;
  memset(out, 0, sizeof *out);
  if (inet_pton(AF_INET, text, &a4) == 1) {
    if (!inet_ntop(AF_INET, &a4, back, sizeof back) || strcmp(back, text) != 0) return 0;
    out->family = 4;
    memcpy(out->bytes, &a4, 4);
    return 1;
  }
  if (strchr(text, '.') || inet_pton(AF_INET6, text, &a6) != 1) return 0; /* no embedded IPv4 */
  if (!inet_ntop(AF_INET6, &a6, back, sizeof back) || strcmp(back, text) != 0) return 0;
  out->family = 6;
  memcpy(out->bytes, &a6, 16);
  return 1;
}

/* `address:port` or `[address]:port` (the port 1..65535 in at most 5 digits), as parseAuthority. */
static int parse_authority(const char *text, size_t len, ip_addr *address, uint16_t *port) {
  char host[INET6_ADDRSTRLEN];
  const char *colon = len ? memrchr(text, ':', len) : NULL;
  if (!colon) return 0;
  const char *h = text, *h_end = colon;
  if (len && text[0] == '[') {
    if (colon == text || colon[-1] != ']') return 0;
    h = text + 1;
    h_end = colon - 1;
  } else if (memchr(text, ':', (size_t)(colon - text))) {
    return 0; /* an IPv6 address without brackets */
  }
  size_t hn = (size_t)(h_end - h), pn = len - (size_t)(colon + 1 - text);
  if (hn == 0 || hn >= sizeof host || pn == 0 || pn > 5) return 0;
  uint32_t p = 0;
  for (size_t i = 0; i < pn; i++) {
    char ch = colon[1 + i];
    if (ch < '0' || ch > '9') return 0;
    p = p * 10 + (uint32_t)(ch - '0');
  }
  if (p < 1 || p > 65535) return 0;
  memcpy(host, h, hn);
  host[hn] = 0;
  if (!canonical_ip(host, address) || (text[0] == '[') != (address->family == 6)) return 0;
  *port = (uint16_t)p;
  return 1;
}

int h2_local_address(int fd, ip_addr *out) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(out, 0, sizeof *out);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
  if (ss.ss_family == AF_INET) {
    out->family = 4;
    memcpy(out->bytes, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    return 0;
  }
  if (ss.ss_family != AF_INET6) return -1;
  const struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(a6)) { /* a dual-stack listener's IPv4 client: JavaScript unmaps it too */
    out->family = 4;
    memcpy(out->bytes, a6->s6_addr + 12, 4);
  } else {
    out->family = 6;
    memcpy(out->bytes, a6, 16);
  }
  return 0;
}

static socklen_t to_sockaddr(const ip_addr *a, uint16_t port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (a->family == 4) {
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    memcpy(&in->sin_addr, a->bytes, 4);
    return sizeof *in;
  }
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  memcpy(&in6->sin6_addr, a->bytes, 16);
  return sizeof *in6;
}

static void close_plain(h2_stream *st) {
  if (st->plain.fd < 0) return;
  if (st->plain.registered) epoll_ctl(st->s->c->w->epfd, EPOLL_CTL_DEL, st->plain.fd, NULL);
  st->plain.registered = 0;
  close(st->plain.fd);
  st->plain.fd = -1;
}

/* The dial failed: 503, as the data plane answers a failed connect; JavaScript hears why. */
static void dial_failed(h2_stream *st, int err) {
  close_plain(st);
  st->dialing = 0;
  h2_stream_decided_event(st, ADMIT_REFUSED, REFUSE_CONNECT, err);
  h2_stream_refuse(st->s, st->id, 503);
  conn_mark_dirty(st->s->c);
}

/* A non-blocking connect to the app; 0, or the errno that stopped it. */
static int dial(h2_stream *st, const stream_verdict *v) {
  struct sockaddr_storage ss;
  socklen_t len = to_sockaddr(&v->to, v->to_port, &ss);
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  if (connect(fd, (struct sockaddr *)&ss, len) != 0 && errno != EINPROGRESS) {
    int err = errno;
    close(fd);
    return err;
  }
  st->plain.fd = fd;
  st->plain.readable = st->plain.writable = 0; /* until epoll says the connect is done */
  if (conn_watch(st->s->c, &st->plain) != 0) return errno;
  st->dialing = 1;
  st->dial_deadline = st->s->c->w->now + v->connect_timeout_ms;
  return 0;
}

static int method_is_connect(const h2_stream *st) {
  return st->fields && st->field_len[FIELD_METHOD] == 7 && memcmp(st->fields[FIELD_METHOD], "CONNECT", 7) == 0;
}

void h2_stream_decide(h2_stream *st) {
  h2_session *s = st->s;
  st->decide = 0;
  if (st->state != HS_AWAIT || st->closed) return;
  stream_question q = {.slot = s->stream_slot, .peer = s->peer, .local = s->local};
  stream_verdict v = {.verdict = ADMIT_ASK};
  if (!st->field_overflow && method_is_connect(st) &&
      parse_authority(st->fields[FIELD_AUTHORITY], st->field_len[FIELD_AUTHORITY], &q.address, &q.port))
    admission_decide_stream(s->c->w->engine, &q, &v);
  if (v.verdict == ADMIT_ASK) {
    h2_stream_event(st, EV_H2_STREAM);
  } else if (v.verdict == ADMIT_REFUSED) {
    h2_stream_decided_event(st, ADMIT_REFUSED, v.code, 0);
    h2_stream_refuse(s, st->id, v.status);
  } else {
    int err = dial(st, &v);
    if (err) dial_failed(st, err);
  }
}

/* epoll spoke for a dialling stream: connected (200, relaying) or failed (503). */
void h2_stream_dialed(h2_stream *st) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(st->plain.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err) {
    dial_failed(st, err);
    return;
  }
  st->dialing = 0;
  int one = 1;
  setsockopt(st->plain.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* a tunnel's bytes go out as they come */
  st->plain.readable = st->plain.writable = 1;
  st->state = HS_OPEN;
  nghttp2_nv status = {(uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE};
  nghttp2_data_provider source = h2_stream_source(st);
  if (nghttp2_submit_response(st->s->ng, st->id, &status, 1, &source) != 0)
    nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
  h2_stream_decided_event(st, ADMIT_ACCEPTED, REFUSE_NONE, 0);
}

/* The once-a-second tick: a dial still not connected by its deadline fails as timed out. */
void h2_dial_timeouts(h2_session *s, uint64_t now) {
  for (h2_stream *st = s->streams, *next; st; st = next) {
    next = st->next;
    if (st->dialing && now >= st->dial_deadline) dial_failed(st, ETIMEDOUT);
  }
}
