/* Debian's libnghttp2.a is built for executables (PIE), not shared objects: one debug helper in
 * it, nghttp2_map_print_distance (never called), reads the C library's `stderr` through a
 * relocation a shared object cannot have. This hidden definition satisfies it inside the addon
 * (no text relocation, nothing exported); it is set to the C library's own stream at load, so
 * anything in the addon that writes to stderr still reaches it. */
#define _GNU_SOURCE
#include <dlfcn.h>

__attribute__((visibility("hidden"))) void *stderr;

__attribute__((constructor)) static void h2_link_stderr(void) {
  void **libc = dlsym(RTLD_DEFAULT, "stderr");
  stderr = libc ? *libc : 0;
}
