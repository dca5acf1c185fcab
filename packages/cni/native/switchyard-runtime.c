/*
 * switchyard-runtime: an OCI runtime wrapper for Docker (dockerd's "runtimes" with
 * runtimeArgs ["--switchyard-socket=…", "--switchyard-runtime=/usr/sbin/runc"], then
 * `docker run --runtime switchyard`). It runs the real runtime with the arguments it was given,
 * minus its own --switchyard-* flags. Before `start` — the container's namespaces exist and
 * Docker has configured its network, but its program has not run — it asks the node agent to
 * capture the container (POST /v1/runtime/start, packages/cni/src/protocol.ts) and starts it only
 * when the agent says 200. Anything else, or no agent, and the container does not start (fail
 * closed): the reason goes to standard error and, as runc does, to the --log file in JSON.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent-call.h"
#include "out-buf.h"
#include "protocol.h"
#include "runtime-abort.h"

#define FLAG_PREFIX "--switchyard-"

/* What the wrapper was asked to do. */
typedef struct {
  const char *socket, *runtime, *root, *log, *log_format, *subcommand, *id;
  const char *runtime_path; /* the real runtime, once found */
  double timeout_s;
  char **pass; /* the real runtime's argv: [runtime, args without --switchyard-*…, NULL] */
} wrapper_call;

/* runc's and crun's global flags that take a value as the next argument. */
static int takes_value(const char *name) {
  static const char *const names[] = {"root", "log", "log-format", "log-level", "criu", "rootless", "cgroup-manager"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(name, names[i]) == 0) return 1;
  return 0;
}

/* Appends a runc-style JSON line to the --log file, so that the shim reports our reason. */
static void log_json(const wrapper_call *w, const char *msg) {
  if (w->log == NULL || w->log_format == NULL || strcmp(w->log_format, "json") != 0) return;
  int fd = open(w->log, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  char stamp[40];
  time_t t = time(NULL);
  struct tm tm;
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
  out_buf b = {0};
  buf_puts(&b, "{\"level\":\"error\",\"msg\":");
  if (buf_json_string(&b, msg) != 0) buf_puts(&b, "\"switchyard: the container was refused\"");
  buf_puts(&b, ",\"time\":\"");
  buf_puts(&b, stamp);
  buf_puts(&b, "\"}\n");
  if (!b.failed && write(fd, b.data, b.len) < 0) { /* the reason still goes to standard error */
  }
  buf_free(&b);
  close(fd);
}

/* Refuses: the reason on standard error and in the log; exit status 1. */
static int refuse(const wrapper_call *w, const char *reason) {
  char msg[1200];
  snprintf(msg, sizeof msg, "switchyard: %s", reason);
  fprintf(stderr, "%s\n", msg);
  log_json(w, msg);
  return 1;
}

/* Takes the --switchyard-* flags; NULL on success, else why. */
static const char *own_flag(wrapper_call *w, const char *arg) {
  const char *name = arg + strlen(FLAG_PREFIX);
  const char *eq = strchr(name, '=');
  if (eq == NULL || eq[1] == '\0') return "a --switchyard-NAME flag needs a value: --switchyard-NAME=VALUE";
  const char *value = eq + 1;
  size_t len = (size_t)(eq - name);
  if (len == 6 && strncmp(name, "socket", 6) == 0) w->socket = value;
  else if (len == 7 && strncmp(name, "runtime", 7) == 0) w->runtime = value;
  else if (len == 7 && strncmp(name, "timeout", 7) == 0) {
    char *end;
    w->timeout_s = strtod(value, &end);
    if (*end != '\0' || !(w->timeout_s > 0 && w->timeout_s <= 3600))
      return "--switchyard-timeout must be a number of seconds, more than 0 and at most 3600";
  } else return "unknown flag: the wrapper's own flags are --switchyard-socket, --switchyard-runtime, --switchyard-timeout";
  return NULL;
}

/* Splits argv into our flags and the real runtime's argv, and finds the subcommand. */
static const char *parse_args(wrapper_call *w, int argc, char **argv) {
  int n = 1, i = 1;
  for (; i < argc; i++) {
    const char *arg = argv[i];
    if (strncmp(arg, FLAG_PREFIX, strlen(FLAG_PREFIX)) == 0) {
      const char *why = own_flag(w, arg);
      if (why) return why;
      continue;
    }
    if (arg[0] != '-' || arg[1] == '\0') break; /* the subcommand; what follows is its own */
    w->pass[n++] = argv[i];
    const char *name = arg + (arg[1] == '-' ? 2 : 1);
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const char *value = eq ? eq + 1 : NULL;
    char key[32];
    if (len >= sizeof key) continue;
    memcpy(key, name, len);
    key[len] = '\0';
    if (value == NULL && takes_value(key) && i + 1 < argc) value = w->pass[n++] = argv[++i];
    if (strcmp(key, "root") == 0) w->root = value;
    else if (strcmp(key, "log") == 0) w->log = value;
    else if (strcmp(key, "log-format") == 0) w->log_format = value;
  }
  if (i < argc) w->subcommand = argv[i];
  for (int k = i; k < argc; k++) {
    if (k > i && w->id == NULL && argv[k][0] != '-') w->id = argv[k];
    w->pass[n++] = argv[k];
  }
  w->pass[n] = NULL;
  return NULL;
}

/* Same file as this program: a runtime named like us on PATH must not be run (it would loop). */
static int is_self(const char *path) {
  struct stat a, b;
  return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The real runtime's path: as given when it holds a '/', else the first match on PATH. */
static const char *find_runtime(const char *name, char *buf, size_t cap) {
  if (strchr(name, '/')) return name;
  const char *path = getenv("PATH");
  if (path == NULL || path[0] == '\0') path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const char *p = path; *p;) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > 0 && (size_t)snprintf(buf, cap, "%.*s/%s", (int)len, p, name) < cap && access(buf, X_OK) == 0 &&
        !is_self(buf))
      return buf;
    p += len + (end ? 1 : 0);
  }
  return NULL;
}

/* The agent's answer text, made printable and cut to a few hundred bytes. */
static void printable(const agent_answer *a, char *buf, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < a->body_len && n + 1 < cap; i++) {
    unsigned char c = (unsigned char)a->body[i];
    buf[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : (c == '\n' || c == '\t') ? ' ' : '?';
  }
  while (n > 0 && buf[n - 1] == ' ') n--;
  buf[n] = '\0';
}

/* Asks the agent to capture the container; 0 when it said 200, else the refusal's exit status. */
static int ask_agent(const wrapper_call *w) {
  char reason[1100], text[400];
  if (w->id == NULL) return 0; /* `start` without an id: the runtime itself refuses it */
  if (w->root == NULL || w->root[0] != '/')
    return refuse(w, "start needs the runtime's --root as an absolute path (the agent reads the container's state there)");
  out_buf req = {0};
  buf_puts(&req, "{\"id\":");
  int bad = buf_json_string(&req, w->id);
  buf_puts(&req, ",\"root\":");
  bad |= buf_json_string(&req, w->root);
  buf_puts(&req, "}");
  if (bad || req.failed) {
    buf_free(&req);
    return refuse(w, "the container id or --root is not valid UTF-8");
  }
  agent_answer a;
  agent_outcome o = agent_post(w->socket, SY_START_PATH, req.data, req.len, w->timeout_s, &a);
  buf_free(&req);
  if (o != AGENT_ANSWERED) {
    snprintf(reason, sizeof reason, "agent unavailable: %s; container %.64s is not started until the agent answers",
             a.detail, w->id);
    abort_created(w->runtime_path, w->root, w->id);
    return refuse(w, reason);
  }
  int status = 0;
  if (a.status != 200) {
    printable(&a, text, sizeof text);
    snprintf(reason, sizeof reason, "the agent refused to start container %.64s (HTTP %d): %s", w->id, a.status,
             text[0] ? text : "(no reason given)");
    abort_created(w->runtime_path, w->root, w->id);
    status = refuse(w, reason);
  }
  agent_answer_free(&a);
  return status;
}

/* Runs the real runtime (execv does not return) or returns the exit status of a refusal. */
static int run(wrapper_call *w, int argc, char **argv) {
  const char *why = parse_args(w, argc, argv);
  if (why) return refuse(w, why);
  char found[4096];
  const char *runtime = find_runtime(w->runtime, found, sizeof found);
  if (runtime == NULL) {
    snprintf(found, sizeof found, "the runtime %.200s is not on PATH; pass --switchyard-runtime=/path/to/runc", w->runtime);
    return refuse(w, found);
  }
  w->pass[0] = (char *)runtime;
  w->runtime_path = runtime;
  if (w->subcommand && strcmp(w->subcommand, "start") == 0) {
    int status = ask_agent(w);
    if (status != 0) return status;
  }
  execv(runtime, w->pass);
  char reason[4200];
  snprintf(reason, sizeof reason, "cannot run the runtime %s: %s", runtime, strerror(errno));
  return refuse(w, reason);
}

int main(int argc, char **argv) {
  wrapper_call w = {.socket = SY_AGENT_SOCKET, .runtime = "runc", .timeout_s = SY_AGENT_TIMEOUT_S};
  w.pass = calloc((size_t)argc + 1, sizeof *w.pass);
  if (w.pass == NULL) return refuse(&w, "out of memory");
  int status = run(&w, argc, argv);
  free(w.pass);
  return status;
}
