/*
 * switchyard-cni: a chained CNI plugin (CNI 0.3.x, 0.4.0, 1.0.0). It forwards ADD, DEL and CHECK
 * to the Switchyard node agent over a unix socket (POST /v1/cni, packages/cni/src/protocol.ts) and
 * waits: ADD succeeds only once the agent has captured the pod's network namespace. When the agent
 * cannot be asked, ADD and CHECK fail with "try again later" (the pod does not start: fail closed)
 * and DEL succeeds (a pod's removal never waits for the agent, which reconciles later). Pods of
 * `excludeNamespaces` pass through without asking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-call.h"
#include "json-scan.h"
#include "out-buf.h"
#include "protocol.h"

#define CONFIG_MAX (1u << 20)

/* CNI's well-known error codes. */
enum { CNI_ERR_VERSION = 1, CNI_ERR_ENV = 4, CNI_ERR_IO = 5, CNI_ERR_DECODE = 6, CNI_ERR_CONFIG = 7, CNI_ERR_LATER = 11 };

/* What the plugin read from its environment and configuration. */
typedef struct {
  const char *command, *container_id, *netns, *ifname, *args;
  char pod_namespace[256], pod_name[256];
  char version[32];
  char socket[512];
  double timeout_s;
  js_span config, prev_result, exclude;
  int has_prev_result, has_exclude;
} cni_call;

/* Prints a CNI error object on standard output; returns the exit status 1. */
static int cni_error(const char *version, int code, const char *msg) {
  out_buf b = {0};
  char head[64];
  buf_puts(&b, "{\"cniVersion\":");
  if (buf_json_string(&b, version[0] ? version : "1.0.0") != 0) buf_puts(&b, "\"1.0.0\"");
  snprintf(head, sizeof head, ",\"code\":%d,\"msg\":", code);
  buf_puts(&b, head);
  if (buf_json_string(&b, msg) != 0) buf_puts(&b, "\"(a message that is not UTF-8)\"");
  buf_puts(&b, "}\n");
  if (!b.failed) fwrite(b.data, 1, b.len, stdout);
  buf_free(&b);
  return 1;
}

/* Reads all of standard input into *out; -1 when it is larger than CONFIG_MAX, -2 when unreadable. */
static int read_stdin(out_buf *out) {
  char chunk[65536];
  for (;;) {
    ssize_t r = read(0, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -2;
    if (r == 0) return out->failed ? -2 : 0;
    if (out->len + (size_t)r > CONFIG_MAX) return -1;
    buf_put(out, chunk, (size_t)r);
  }
}

static const char *const VERSIONS[] = {SY_CNI_VERSIONS};
#define VERSION_COUNT (sizeof VERSIONS / sizeof VERSIONS[0])

static int version_supported(const char *v) {
  for (size_t i = 0; i < VERSION_COUNT; i++)
    if (strcmp(v, VERSIONS[i]) == 0) return 1;
  return 0;
}

/* The supported versions as a list: `"a","b"` (quoted, for JSON) or `a, b` (for people). */
static void versions_list(out_buf *b, int quoted) {
  for (size_t i = 0; i < VERSION_COUNT; i++) {
    if (i) buf_puts(b, quoted ? "," : ", ");
    if (quoted) buf_json_string(b, VERSIONS[i]);
    else buf_puts(b, VERSIONS[i]);
  }
}

/* VERSION: answered here, without the agent. */
static int cmd_version(const out_buf *in) {
  char version[32] = "1.0.0";
  js_span v;
  if (in->len && js_is_object(in->data, in->len) && js_get((js_span){in->data, in->len}, "cniVersion", &v)) {
    char asked[32];
    if (js_string(v, asked, sizeof asked) > 0 && version_supported(asked)) memcpy(version, asked, sizeof version);
  }
  out_buf b = {0};
  versions_list(&b, 1);
  printf("{\"cniVersion\":\"%s\",\"supportedVersions\":[%s]}\n", version, b.failed ? "" : b.data);
  buf_free(&b);
  return 0;
}

/* Copies the value of KEY from CNI_ARGS ("K=V;K=V") into buf; -1 when CNI_ARGS is malformed. */
static int cni_arg(const char *args, const char *key, char *buf, size_t cap) {
  buf[0] = '\0';
  size_t klen = strlen(key);
  for (const char *p = args; *p;) {
    const char *end = strchr(p, ';');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    if (len > 0 && (eq == NULL || eq == p)) return -1;
    if (eq && (size_t)(eq - p) == klen && memcmp(p, key, klen) == 0) {
      size_t vlen = len - klen - 1;
      if (vlen >= cap) return -1;
      memcpy(buf, eq + 1, vlen);
      buf[vlen] = '\0';
    }
    p += len + (end ? 1 : 0);
  }
  return 0;
}

/* Reads and checks the environment; NULL on success, else why (an env error). */
static const char *read_env(cni_call *c) {
  c->container_id = getenv("CNI_CONTAINERID");
  c->netns = getenv("CNI_NETNS");
  c->ifname = getenv("CNI_IFNAME");
  c->args = getenv("CNI_ARGS");
  if (c->netns == NULL) c->netns = "";
  if (c->args == NULL) c->args = "";
  if (c->container_id == NULL || c->container_id[0] == '\0') return "CNI_CONTAINERID is not set";
  if (c->ifname == NULL || c->ifname[0] == '\0') return "CNI_IFNAME is not set";
  if (c->netns[0] == '\0' && strcmp(c->command, "DEL") != 0) return "CNI_NETNS is not set";
  const char *all[] = {c->container_id, c->netns, c->ifname, c->args};
  for (size_t i = 0; i < 4; i++)
    if (!utf8_valid(all[i], strlen(all[i]))) return "a CNI_ variable is not valid UTF-8";
  if (cni_arg(c->args, "K8S_POD_NAMESPACE", c->pod_namespace, sizeof c->pod_namespace) != 0 ||
      cni_arg(c->args, "K8S_POD_NAME", c->pod_name, sizeof c->pod_name) != 0)
    return "CNI_ARGS is not a list of KEY=VALUE pairs separated by ';' (or a value is too long)";
  return NULL;
}

/* Reads the optional keys of the configuration; NULL on success, else why (a config error). */
static const char *read_options(cni_call *c) {
  js_span v;
  snprintf(c->socket, sizeof c->socket, "%s", SY_AGENT_SOCKET);
  if (js_get(c->config, "agentSocket", &v) &&
      (js_string(v, c->socket, sizeof c->socket) <= 0 || c->socket[0] != '/'))
    return "agentSocket must be an absolute path (a string)";
  c->timeout_s = SY_AGENT_TIMEOUT_S;
  if (js_get(c->config, "agentTimeoutSeconds", &v)) {
    char number[64];
    if (!js_is_number(v) || v.len >= sizeof number) return "agentTimeoutSeconds must be a number of seconds";
    memcpy(number, v.start, v.len);
    number[v.len] = '\0';
    c->timeout_s = strtod(number, NULL);
    if (!(c->timeout_s > 0 && c->timeout_s <= 3600)) return "agentTimeoutSeconds must be more than 0 and at most 3600";
  }
  c->has_exclude = js_get(c->config, "excludeNamespaces", &c->exclude);
  if (c->has_exclude) {
    if (!js_is_array(c->exclude)) return "excludeNamespaces must be an array of namespace names";
    size_t pos = 0;
    js_span e;
    while (js_array_next(c->exclude, &pos, &e))
      if (!js_is_string(e)) return "excludeNamespaces must be an array of namespace names";
  }
  c->has_prev_result = js_get(c->config, "prevResult", &c->prev_result);
  if (c->has_prev_result && !js_is_object_span(c->prev_result)) return "prevResult must be an object";
  return NULL;
}

static int excluded(const cni_call *c) {
  if (!c->has_exclude || c->pod_namespace[0] == '\0') return 0;
  size_t pos = 0;
  js_span e;
  char name[256];
  while (js_array_next(c->exclude, &pos, &e))
    if (js_string(e, name, sizeof name) >= 0 && strcmp(name, c->pod_namespace) == 0) return 1;
  return 0;
}

static void build_request(const cni_call *c, out_buf *b) {
  buf_puts(b, "{\"command\":");
  buf_json_string(b, c->command);
  buf_puts(b, ",\"containerId\":");
  buf_json_string(b, c->container_id);
  buf_puts(b, ",\"netns\":");
  buf_json_string(b, c->netns);
  buf_puts(b, ",\"ifName\":");
  buf_json_string(b, c->ifname);
  buf_puts(b, ",\"args\":");
  buf_json_string(b, c->args);
  buf_puts(b, ",\"config\":");
  buf_put(b, c->config.start, c->config.len);
  buf_puts(b, "}");
}

/* The pod as people name it, for messages: namespace/name, or the sandbox id outside Kubernetes. */
static void pod_label(const cni_call *c, char *buf, size_t cap) {
  if (c->pod_namespace[0] || c->pod_name[0]) snprintf(buf, cap, "pod %s/%s", c->pod_namespace, c->pod_name);
  else snprintf(buf, cap, "sandbox %.64s", c->container_id);
}

/* The agent answered with something other than 200. */
static int agent_refused(const cni_call *c, const agent_answer *a) {
  if (js_is_object(a->body, a->body_len)) {
    fwrite(a->body, 1, a->body_len, stdout);
    fputc('\n', stdout);
    return 1;
  }
  char text[301], pod[600], msg[1200];
  size_t n = a->body_len < 300 ? a->body_len : 300;
  memcpy(text, a->body, n);
  text[n] = '\0';
  while (n > 0 && !utf8_valid(text, n)) text[--n] = '\0';
  pod_label(c, pod, sizeof pod);
  snprintf(msg, sizeof msg, "the switchyard agent refused %s of %s (HTTP %d): %s", c->command, pod, a->status, text);
  return cni_error(c->version, CNI_ERR_LATER, msg);
}

static int ask_agent(const cni_call *c) {
  out_buf req = {0};
  build_request(c, &req);
  if (req.failed) {
    buf_free(&req);
    return cni_error(c->version, CNI_ERR_IO, "out of memory building the request to the agent");
  }
  agent_answer a;
  agent_outcome o = agent_post(c->socket, SY_CNI_PATH, req.data, req.len, c->timeout_s, &a);
  buf_free(&req);
  int is_del = strcmp(c->command, "DEL") == 0, status;
  char pod[600], msg[2048];
  pod_label(c, pod, sizeof pod);
  if (o != AGENT_ANSWERED) {
    if (is_del) { /* a pod's removal never waits for the agent: it releases the pod when it is back */
      fprintf(stderr, "switchyard-cni: DEL of %s not told to the agent: %s\n", pod, a.detail);
      return 0;
    }
    snprintf(msg, sizeof msg,
             "switchyard agent unavailable: %s; %s is not started until the agent on %s answers (it is retried)",
             a.detail, pod, c->socket);
    return cni_error(c->version, o == AGENT_BAD_ANSWER ? CNI_ERR_IO : CNI_ERR_LATER, msg);
  }
  if (a.status != 200) {
    status = agent_refused(c, &a);
  } else if (strcmp(c->command, "ADD") != 0) {
    status = 0; /* DEL and CHECK print nothing on success */
  } else if (js_is_object(a.body, a.body_len)) {
    fwrite(a.body, 1, a.body_len, stdout);
    fputc('\n', stdout);
    status = 0;
  } else {
    snprintf(msg, sizeof msg, "the switchyard agent's answer to ADD of %s is not a JSON object", pod);
    status = cni_error(c->version, CNI_ERR_IO, msg);
  }
  agent_answer_free(&a);
  return status;
}

static int run(cni_call *c, out_buf *in) {
  if (strcmp(c->command, "VERSION") == 0) return cmd_version(in);
  if (strcmp(c->command, "ADD") != 0 && strcmp(c->command, "DEL") != 0 && strcmp(c->command, "CHECK") != 0)
    return cni_error("", CNI_ERR_ENV, "CNI_COMMAND must be ADD, DEL, CHECK or VERSION");
  if (!js_is_object(in->data, in->len))
    return cni_error("", CNI_ERR_DECODE, "the network configuration on standard input is not one JSON object");
  c->config = (js_span){in->data, in->len};
  js_span v;
  if (!js_get(c->config, "cniVersion", &v) || js_string(v, c->version, sizeof c->version) <= 0)
    return cni_error("", CNI_ERR_CONFIG, "the network configuration has no cniVersion string");
  if (!version_supported(c->version)) {
    out_buf b = {0};
    buf_puts(&b, "switchyard-cni supports cniVersion ");
    versions_list(&b, 0);
    int status = cni_error("", CNI_ERR_VERSION, b.failed ? "unsupported cniVersion" : b.data);
    buf_free(&b);
    return status;
  }
  const char *why = read_env(c);
  if (why) return cni_error(c->version, CNI_ERR_ENV, why);
  why = read_options(c);
  if (why) return cni_error(c->version, CNI_ERR_CONFIG, why);
  if (!excluded(c)) return ask_agent(c);
  if (strcmp(c->command, "ADD") == 0) {
    if (c->has_prev_result) fwrite(c->prev_result.start, 1, c->prev_result.len, stdout), fputc('\n', stdout);
    else printf("{\"cniVersion\":\"%s\"}\n", c->version);
  }
  return 0;
}

int main(void) {
  cni_call c = {0};
  c.command = getenv("CNI_COMMAND");
  if (c.command == NULL || c.command[0] == '\0') return cni_error("", CNI_ERR_ENV, "CNI_COMMAND is not set");
  out_buf in = {0};
  int got = read_stdin(&in);
  if (got != 0) {
    buf_free(&in);
    return got == -1 ? cni_error("", CNI_ERR_CONFIG, "the network configuration on standard input is larger than 1 MiB")
                     : cni_error("", CNI_ERR_IO, "standard input cannot be read");
  }
  if (in.data == NULL) buf_put(&in, "", 0);
  int status = run(&c, &in);
  buf_free(&in);
  fflush(stdout);
  return ferror(stdout) ? 1 : status;
}
