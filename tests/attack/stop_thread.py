"""Stops one thread of a running process for a while, as a debugger or a thread stuck in the
kernel would, and lets it go again: the other threads keep running.

usage: stop_thread.py PID THREAD_NAME SECONDS
Uses ptrace(2) through ctypes: PTRACE_SEIZE and PTRACE_INTERRUPT stop that thread alone (a
SIGSTOP would stop the whole process), PTRACE_DETACH resumes it. Prints one JSON object.
"""
import ctypes
import json
import os
import sys
import time

PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH = 0x4206, 0x4207, 17
WALL = 0x40000000  # __WALL: wait for a thread that is not a child process


def main(pid, name, seconds):
    tids = [t for t in os.listdir(f"/proc/{pid}/task")
            if open(f"/proc/{pid}/task/{t}/comm").read().strip() == name]
    if not tids:
        print(json.dumps({"error": f"no thread named {name}"}))
        return 1
    tid = int(tids[0])
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0 or libc.ptrace(PTRACE_INTERRUPT, tid, None, None) != 0:
        print(json.dumps({"error": os.strerror(ctypes.get_errno())}))
        return 1
    os.waitpid(tid, WALL)  # the thread has stopped
    stopped = time.monotonic()
    time.sleep(seconds)
    libc.ptrace(PTRACE_DETACH, tid, None, None)
    print(json.dumps({"tid": tid, "stopped_s": round(time.monotonic() - stopped, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), sys.argv[2], float(sys.argv[3])))
