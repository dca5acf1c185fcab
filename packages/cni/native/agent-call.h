/*
 * The client side of the agent protocol (packages/cni/src/protocol.ts): one HTTP/1.0 POST over
 * the agent's unix socket, one request a connection, every step (connect, write, read) bounded by
 * one deadline. The answer is delimited by Content-Length, or by the end of the stream.
 */
#ifndef SWITCHYARD_AGENT_CALL_H
#define SWITCHYARD_AGENT_CALL_H

#include <stddef.h>

/* The largest answer body accepted. */
#define AGENT_MAX_BODY (1u << 20)

typedef enum {
  AGENT_ANSWERED = 0, /* status and body are set */
  AGENT_UNREACHABLE,  /* nothing listens on the socket (ENOENT, ECONNREFUSED) */
  AGENT_TIMEOUT,      /* the deadline passed before the whole answer arrived */
  AGENT_BROKEN,       /* the connection failed or closed before a whole answer */
  AGENT_BAD_ANSWER,   /* the agent answered something that is not a bounded HTTP/1.x response */
  AGENT_BAD_SOCKET,   /* the socket path cannot be used (too long for sun_path) */
} agent_outcome;

typedef struct {
  int status;
  char *body; /* NUL-terminated, inside a buffer agent_answer_free releases */
  size_t body_len;
  char *raw;
  char detail[512]; /* why, when the outcome is not AGENT_ANSWERED */
} agent_answer;

/* POSTs body (JSON) to `path` on the unix socket `socket_path` within timeout_s seconds. */
agent_outcome agent_post(const char *socket_path, const char *path, const char *body, size_t body_len,
                         double timeout_s, agent_answer *out);

void agent_answer_free(agent_answer *answer);

#endif
