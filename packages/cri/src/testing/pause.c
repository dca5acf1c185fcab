// The sandbox ("pause") process of the test pods: holds the pod's namespaces and sleeps until
// told to stop. Built statically by the test harness, so the image needs nothing else.
#include <signal.h>
#include <unistd.h>

static void stop(int signal) {
  (void)signal;
  _exit(0);
}

int main(void) {
  signal(SIGTERM, stop);
  signal(SIGINT, stop);
  for (;;) pause();
}
