/* The HTTP/1.0-over-unix-socket client (see agent-call.h). */
#define _GNU_SOURCE
#include "agent-call.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "out-buf.h"

/* Status line and headers beyond this are refused. */
#define AGENT_MAX_HEAD (16u << 10)

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error (errno set). */
static int wait_fd(int fd, short events, double deadline) {
  for (;;) {
    double left = deadline - now_s();
    if (left <= 0) return 0;
    struct pollfd pfd = {.fd = fd, .events = events};
    int ms = left > 1e6 ? 1000000000 : (int)(left * 1000) + 1;
    int r = poll(&pfd, 1, ms);
    if (r > 0) return 1;
    if (r < 0 && errno != EINTR) return -1;
  }
}

__attribute__((format(printf, 3, 4))) static agent_outcome fail(agent_answer *out, agent_outcome o,
                                                                 const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(out->detail, sizeof out->detail, fmt, args);
  va_end(args);
  return o;
}

static agent_outcome connect_agent(int fd, const char *socket_path, double deadline, agent_answer *out) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path)
    return fail(out, AGENT_BAD_SOCKET, "the socket path %s is longer than 107 bytes", socket_path);
  memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
  for (;;) {
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) return AGENT_ANSWERED;
    int e = errno;
    if (e == EINTR) continue;
    if (e == ENOENT || e == ECONNREFUSED)
      return fail(out, AGENT_UNREACHABLE, "no agent listens on %s (%s)", socket_path, strerror(e));
    if (e == EAGAIN) { /* the listen backlog is full: the agent is busy, wait a little */
      if (now_s() >= deadline) break;
      struct timespec pause = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
      nanosleep(&pause, NULL);
      continue;
    }
    if (e == EINPROGRESS) {
      int r = wait_fd(fd, POLLOUT, deadline);
      if (r == 0) break;
      int err = 0;
      socklen_t len = sizeof err;
      if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err == 0) return AGENT_ANSWERED;
      return fail(out, err == ECONNREFUSED ? AGENT_UNREACHABLE : AGENT_BROKEN, "cannot connect to %s (%s)",
                  socket_path, strerror(err));
    }
    return fail(out, AGENT_BROKEN, "cannot connect to %s (%s)", socket_path, strerror(e));
  }
  return fail(out, AGENT_TIMEOUT, "the agent on %s did not accept the connection in time", socket_path);
}

static agent_outcome send_all(int fd, const char *data, size_t len, double deadline, agent_answer *out) {
  size_t sent = 0;
  while (sent < len) {
    ssize_t w = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
    if (w > 0) {
      sent += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int r = wait_fd(fd, POLLOUT, deadline);
      if (r == 0) return fail(out, AGENT_TIMEOUT, "the agent did not read the request in time");
      if (r > 0) continue;
    }
    return fail(out, AGENT_BROKEN, "sending the request failed (%s)", strerror(errno));
  }
  return AGENT_ANSWERED;
}

/* Parses "HTTP/1.x NNN" and the Content-Length header; -1 on anything else. */
static int parse_head(const char *head, size_t head_len, int *status, long *content_length) {
  if (head_len < 12 || strncmp(head, "HTTP/1.", 7) != 0 || (head[7] != '0' && head[7] != '1') || head[8] != ' ')
    return -1;
  for (int i = 9; i < 12; i++)
    if (head[i] < '0' || head[i] > '9') return -1;
  if (head[12] != ' ' && head[12] != '\r') return -1;
  *status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
  *content_length = -1;
  const char *line = strstr(head, "\r\n");
  while (line != NULL && line + 2 < head + head_len) {
    line += 2;
    if (strncasecmp(line, "transfer-encoding:", 18) == 0) return -1; /* never valid for HTTP/1.0 */
    if (strncasecmp(line, "content-length:", 15) == 0) {
      const char *v = line + 15;
      while (*v == ' ' || *v == '\t') v++;
      long n = 0;
      int any = 0;
      for (; *v >= '0' && *v <= '9'; v++, any = 1) {
        n = n * 10 + (*v - '0');
        if (n > (long)AGENT_MAX_BODY) return -2;
      }
      while (*v == ' ' || *v == '\t') v++;
      if (!any || *v != '\r' || (*content_length >= 0 && *content_length != n)) return -1;
      *content_length = n;
    }
    line = strstr(line, "\r\n");
  }
  return 0;
}

/* An answer being read: the bytes so far, and once the headers are in, where the body starts. */
typedef struct {
  out_buf in;
  size_t head_len; /* 0 until the end of the headers arrived */
  long content_length; /* -1: the body ends with the stream */
  int eof;
} answer_reader;

/* Receives what is there, waiting for more until the deadline. */
static agent_outcome recv_more(int fd, double deadline, answer_reader *r, agent_answer *out) {
  for (;;) {
    char chunk[16384];
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      buf_put(&r->in, chunk, (size_t)n);
      if (r->in.failed || r->in.len > AGENT_MAX_HEAD + AGENT_MAX_BODY)
        return fail(out, AGENT_BAD_ANSWER, "the agent's answer is larger than 1 MiB");
      return AGENT_ANSWERED;
    }
    if (n == 0) {
      r->eof = 1;
      return AGENT_ANSWERED;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) break;
    int w = wait_fd(fd, POLLIN, deadline);
    if (w == 0) return fail(out, AGENT_TIMEOUT, "the agent did not answer in time");
    if (w < 0) break;
  }
  return fail(out, AGENT_BROKEN, "reading the answer failed (%s)", strerror(errno));
}

/* Once the headers are complete, parses them. */
static agent_outcome find_head(answer_reader *r, agent_answer *out) {
  char *end = memmem(r->in.data, r->in.len, "\r\n\r\n", 4);
  if (end == NULL)
    return r->in.len > AGENT_MAX_HEAD ? fail(out, AGENT_BAD_ANSWER, "the agent's answer has no end of headers")
                                      : AGENT_ANSWERED;
  r->head_len = (size_t)(end - r->in.data) + 4;
  int p = parse_head(r->in.data, r->head_len - 2, &out->status, &r->content_length);
  if (p == -2) return fail(out, AGENT_BAD_ANSWER, "the agent's answer is larger than 1 MiB");
  if (p != 0) return fail(out, AGENT_BAD_ANSWER, "the agent's answer is not an HTTP/1.x response with a length");
  return AGENT_ANSWERED;
}

static int body_complete(const answer_reader *r) {
  return r->head_len > 0 && r->content_length >= 0 && r->in.len - r->head_len >= (size_t)r->content_length;
}

static agent_outcome read_answer(int fd, double deadline, agent_answer *out) {
  answer_reader r = {.content_length = -1};
  agent_outcome o = AGENT_ANSWERED;
  while (o == AGENT_ANSWERED && !r.eof && !body_complete(&r)) {
    o = recv_more(fd, deadline, &r, out);
    if (o == AGENT_ANSWERED && r.head_len == 0 && r.in.len > 0) o = find_head(&r, out);
  }
  if (o == AGENT_ANSWERED && (r.head_len == 0 || (r.content_length >= 0 && !body_complete(&r))))
    o = fail(out, AGENT_BROKEN, "the agent closed the connection before a whole answer");
  size_t body_len = r.content_length >= 0 ? (size_t)r.content_length : r.in.len - r.head_len;
  if (o == AGENT_ANSWERED && body_len > AGENT_MAX_BODY)
    o = fail(out, AGENT_BAD_ANSWER, "the agent's answer is larger than 1 MiB");
  if (o != AGENT_ANSWERED) {
    buf_free(&r.in);
    return o;
  }
  out->raw = r.in.data;
  out->body = r.in.data + r.head_len;
  out->body[body_len] = '\0';
  out->body_len = body_len;
  return AGENT_ANSWERED;
}

agent_outcome agent_post(const char *socket_path, const char *path, const char *body, size_t body_len,
                         double timeout_s, agent_answer *out) {
  memset(out, 0, sizeof *out);
  double deadline = now_s() + timeout_s;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail(out, AGENT_BROKEN, "cannot make a socket (%s)", strerror(errno));
  agent_outcome o = connect_agent(fd, socket_path, deadline, out);
  if (o == AGENT_ANSWERED) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.0\r\nHost: switchyard-agent\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     path, body_len);
    if (n < 0 || (size_t)n >= sizeof head) o = fail(out, AGENT_BROKEN, "the request path is too long");
    if (o == AGENT_ANSWERED) o = send_all(fd, head, (size_t)n, deadline, out);
    if (o == AGENT_ANSWERED) o = send_all(fd, body, body_len, deadline, out);
    if (o == AGENT_ANSWERED) o = read_answer(fd, deadline, out);
  }
  close(fd);
  return o;
}

void agent_answer_free(agent_answer *answer) {
  free(answer->raw);
  answer->raw = answer->body = NULL;
}
