/* The HTTP/1.0-over-unix-socket client (see agent-call.h). */
#define _GNU_SOURCE
#include "agent-call.h"

#include <errno.h>
#include <poll.h>
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

static agent_outcome fail(agent_answer *out, agent_outcome o, const char *fmt, const char *a, const char *b) {
  snprintf(out->detail, sizeof out->detail, fmt, a, b);
  return o;
}

static agent_outcome connect_agent(int fd, const char *socket_path, double deadline, agent_answer *out) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path)
    return fail(out, AGENT_BAD_SOCKET, "the socket path %s%s is longer than 107 bytes", socket_path, "");
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
  return fail(out, AGENT_TIMEOUT, "the agent on %s did not accept the connection in time%s", socket_path, "");
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
      if (r == 0) return fail(out, AGENT_TIMEOUT, "the agent did not read the request in time%s%s", "", "");
      if (r > 0) continue;
    }
    return fail(out, AGENT_BROKEN, "sending the request failed (%s)%s", strerror(errno), "");
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

static agent_outcome read_answer(int fd, double deadline, agent_answer *out) {
  out_buf in = {0};
  size_t head_len = 0;
  long content_length = -1;
  for (;;) {
    if (head_len > 0 && content_length >= 0 && in.len - head_len >= (size_t)content_length) break;
    char chunk[16384];
    ssize_t r = recv(fd, chunk, sizeof chunk, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int w = wait_fd(fd, POLLIN, deadline);
      if (w > 0) continue;
      buf_free(&in);
      if (w == 0) return fail(out, AGENT_TIMEOUT, "the agent did not answer in time%s%s", "", "");
      return fail(out, AGENT_BROKEN, "reading the answer failed (%s)%s", strerror(errno), "");
    }
    if (r < 0) {
      buf_free(&in);
      return fail(out, AGENT_BROKEN, "reading the answer failed (%s)%s", strerror(errno), "");
    }
    if (r == 0) break;
    buf_put(&in, chunk, (size_t)r);
    if (in.failed || in.len > AGENT_MAX_HEAD + AGENT_MAX_BODY) {
      buf_free(&in);
      return fail(out, AGENT_BAD_ANSWER, "the agent's answer is larger than 1 MiB%s%s", "", "");
    }
    if (head_len == 0) {
      char *end = memmem(in.data, in.len, "\r\n\r\n", 4);
      if (end == NULL && in.len > AGENT_MAX_HEAD) {
        buf_free(&in);
        return fail(out, AGENT_BAD_ANSWER, "the agent's answer has no end of headers%s%s", "", "");
      }
      if (end != NULL) {
        head_len = (size_t)(end - in.data) + 4;
        int p = parse_head(in.data, head_len - 2, &out->status, &content_length);
        if (p != 0) {
          buf_free(&in);
          return fail(out, AGENT_BAD_ANSWER, "%s%s", p == -2 ? "the agent's answer is larger than 1 MiB" :
                      "the agent's answer is not an HTTP/1.x response with a length", "");
        }
      }
    }
  }
  if (head_len == 0 || (content_length >= 0 && in.len - head_len < (size_t)content_length)) {
    buf_free(&in);
    return fail(out, AGENT_BROKEN, "the agent closed the connection before a whole answer%s%s", "", "");
  }
  size_t body_len = in.len - head_len;
  if (content_length >= 0) body_len = (size_t)content_length;
  if (body_len > AGENT_MAX_BODY) {
    buf_free(&in);
    return fail(out, AGENT_BAD_ANSWER, "the agent's answer is larger than 1 MiB%s%s", "", "");
  }
  out->raw = in.data;
  out->body = in.data + head_len;
  out->body[body_len] = '\0';
  out->body_len = body_len;
  return AGENT_ANSWERED;
}

agent_outcome agent_post(const char *socket_path, const char *path, const char *body, size_t body_len,
                         double timeout_s, agent_answer *out) {
  memset(out, 0, sizeof *out);
  double deadline = now_s() + timeout_s;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail(out, AGENT_BROKEN, "cannot make a socket (%s)%s", strerror(errno), "");
  agent_outcome o = connect_agent(fd, socket_path, deadline, out);
  if (o == AGENT_ANSWERED) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.0\r\nHost: switchyard-agent\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     path, body_len);
    if (n < 0 || (size_t)n >= sizeof head) o = fail(out, AGENT_BROKEN, "the request path is too long%s%s", "", "");
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
