// Socket operations Node cannot do itself, for the tproxy driver's data plane:
// transparent (IP_TRANSPARENT) listeners, dials with a socket mark and a non-local source
// address, SO_ORIGINAL_DST, and creating any of these inside another network namespace.
// Plain C against Node-API: a stable ABI, no C++ runtime, no dependency beyond node_api.h.
// Errors: system calls fail with the errno name as `code` (EPERM, EADDRINUSE…), like Node's own;
// arguments the TypeScript layer should never pass are a TypeError with Node's ERR_INVALID_ARG_VALUE.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <node_api.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, "ERR_NAPI_CALL_FAILED", "Node-API call failed"); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

// Throws an Error whose message names the step and the errno text, with .code = the errno name
// (EPERM, EADDRINUSE…) and .syscall = the step, like Node's own system errors.
static napi_value throw_errno(napi_env env, const char* step, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s failed: %s", step, strerror(err));
  napi_value msg, error, code, syscall;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  napi_create_string_utf8(env, strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, step, NAPI_AUTO_LENGTH, &syscall);
  napi_set_named_property(env, error, "code", code);
  napi_set_named_property(env, error, "syscall", syscall);
  napi_throw(env, error);
  return NULL;
}

typedef struct {
  struct sockaddr_storage addr;
  socklen_t len;
} address_t;

static int parse_address(const char* host, int port, address_t* out) {
  memset(out, 0, sizeof *out);
  struct sockaddr_in* v4 = (struct sockaddr_in*)&out->addr;
  struct sockaddr_in6* v6 = (struct sockaddr_in6*)&out->addr;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    out->len = sizeof *v4;
    return AF_INET;
  }
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    out->len = sizeof *v6;
    return AF_INET6;
  }
  return -1;
}

// Runs on the calling thread: switches its network namespace to ns_path (if any), creates a
// socket there, and switches back. A socket belongs to the namespace it was created in.
// Returns the fd, or -1 with *step and errno set.
static int socket_in(const char* ns_path, int family, const char** step) {
  int saved = -1, target = -1, fd = -1, err = 0;
  if (ns_path && ns_path[0]) {
    saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved < 0) { *step = "open /proc/thread-self/ns/net"; return -1; }
    target = open(ns_path, O_RDONLY | O_CLOEXEC);
    if (target < 0) { err = errno; *step = "open network namespace"; close(saved); errno = err; return -1; }
    if (setns(target, CLONE_NEWNET) < 0) {
      err = errno; *step = "setns"; close(saved); close(target); errno = err; return -1;
    }
  }
  fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) { err = errno; *step = "socket"; }
  if (saved >= 0) {
    if (setns(saved, CLONE_NEWNET) < 0) abort();  // a thread left in the wrong namespace must not go on
    close(saved);
    close(target);
  }
  if (fd < 0) errno = err;
  return fd;
}

static int set_transparent(int fd, int family) {
  int one = 1;
  return family == AF_INET6 ? setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof one)
                            : setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one);
}

static char* get_string(napi_env env, napi_value value) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) return NULL;
  size_t len;
  napi_get_value_string_utf8(env, value, NULL, 0, &len);
  char* buf = malloc(len + 1);
  napi_get_value_string_utf8(env, value, buf, len + 1, &len);
  return buf;
}

// listen(host, port, backlog, nsPath | null) -> fd of a listening IP_TRANSPARENT socket
static napi_value Listen(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char* host = get_string(env, argv[0]);
  int32_t port = 0, backlog = 511;
  napi_get_value_int32(env, argv[1], &port);
  napi_get_value_int32(env, argv[2], &backlog);
  char* ns = argc > 3 ? get_string(env, argv[3]) : NULL;
  address_t addr;
  int family = host ? parse_address(host, port, &addr) : -1;
  free(host);
  if (family < 0) { free(ns); napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "listen: host must be an IPv4 or IPv6 literal"); return NULL; }
  const char* step = NULL;
  int fd = socket_in(ns, family, &step);
  free(ns);
  if (fd < 0) return throw_errno(env, step, errno);
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) step = "setsockopt SO_REUSEADDR";
  else if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) step = "setsockopt IPV6_V6ONLY";
  else if (set_transparent(fd, family) < 0) step = family == AF_INET6 ? "setsockopt IPV6_TRANSPARENT" : "setsockopt IP_TRANSPARENT";
  else if (bind(fd, (struct sockaddr*)&addr.addr, addr.len) < 0) step = "bind";
  else if (listen(fd, backlog) < 0) step = "listen";
  else step = NULL;
  if (step) { int err = errno; close(fd); return throw_errno(env, step, err); }
  napi_value result;
  CHECK(napi_create_int32(env, fd, &result));
  return result;
}

// originalDst(fd, family) -> { address, port } | null, from SO_ORIGINAL_DST (REDIRECT/DNAT rules).
static napi_value OriginalDst(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1, family = 4;
  napi_get_value_int32(env, argv[0], &fd);
  napi_get_value_int32(env, argv[1], &family);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int rc = family == 6 ? getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len)
                       : getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len);
  napi_value result;
  if (rc < 0) {
    // ENOENT: the connection was not NATed (TPROXY keeps the destination as the local address).
    if (errno == ENOENT || errno == ENOPROTOOPT) { CHECK(napi_get_null(env, &result)); return result; }
    return throw_errno(env, "getsockopt SO_ORIGINAL_DST", errno);
  }
  char text[INET6_ADDRSTRLEN];
  int port;
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6* v6 = (struct sockaddr_in6*)&ss;
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    port = ntohs(v6->sin6_port);
  } else {
    struct sockaddr_in* v4 = (struct sockaddr_in*)&ss;
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    port = ntohs(v4->sin_port);
  }
  napi_value address, port_value;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &address));
  CHECK(napi_create_int32(env, port, &port_value));
  CHECK(napi_set_named_property(env, result, "address", address));
  CHECK(napi_set_named_property(env, result, "port", port_value));
  return result;
}

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

// socket(family, mark, sourceHost | null, sourcePort, nsPath | null) -> fd of a non-blocking TCP
// socket, created in nsPath's namespace, with SO_MARK `mark` (0: none) and, given a source,
// IP_TRANSPARENT and bound to it (which may be a non-local address: the original client's).
// It is not connected: Node adopts the fd and connects it in its event loop, so a slow or
// black-holed connect holds up nothing else (a blocking connect on libuv's four pool threads did).
static napi_value Socket(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family_number = 0, source_port = 0;
  uint32_t mark = 0;
  napi_get_value_int32(env, argv[0], &family_number);
  napi_get_value_uint32(env, argv[1], &mark);
  char* source = get_string(env, argv[2]);
  napi_get_value_int32(env, argv[3], &source_port);
  char* ns = get_string(env, argv[4]);
  int family = family_number == 6 ? AF_INET6 : family_number == 4 ? AF_INET : -1;
  address_t bound;
  int source_family = source ? parse_address(source, source_port, &bound) : family;
  int has_source = source != NULL;
  free(source);
  if (family < 0 || source_family != family || source_port < 0 || source_port > 65535) {
    free(ns);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "socket: family must be 4 or 6 and the source an IP literal of that family");
    return NULL;
  }
  const char* step = NULL;
  int fd = socket_in(ns, family, &step);
  free(ns);
  if (fd < 0) return throw_errno(env, step, errno);
  int one = 1;
  if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) step = "setsockopt SO_MARK";
  else if (has_source && set_transparent(fd, family) < 0) step = family == AF_INET6 ? "setsockopt IPV6_TRANSPARENT" : "setsockopt IP_TRANSPARENT";
  // Without a source port, let connect() pick it: many dials from one client address then share
  // the ephemeral range per destination instead of exhausting it at bind time.
  else if (has_source && source_port == 0 && setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0) step = "setsockopt IP_BIND_ADDRESS_NO_PORT";
  else if (has_source && bind(fd, (struct sockaddr*)&bound.addr, bound.len) < 0) step = "bind source";
  if (step) { int err = errno; close(fd); return throw_errno(env, step, err); }
  napi_value result;
  CHECK(napi_create_int32(env, fd, &result));
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "listen", NULL, Listen, NULL, NULL, NULL, napi_enumerable, NULL },
    { "socket", NULL, Socket, NULL, NULL, NULL, napi_enumerable, NULL },
    { "originalDst", NULL, OriginalDst, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
