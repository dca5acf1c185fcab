/*
 * Ends a container the wrapper refused to start. After `create`, the container's init process
 * waits for `start`; when `start` fails, dockerd (20.10) asks containerd to delete the task, which
 * refuses a task still "created", and the shim and the waiting init process stay behind. Killing
 * the init process first (through the real runtime) makes the task "stopped", so the caller's
 * clean-up deletes it.
 */
#ifndef SWITCHYARD_RUNTIME_ABORT_H
#define SWITCHYARD_RUNTIME_ABORT_H

/* Kills container `id` of runtime state dir `root` if it is "created", and waits (bounded) until it is reaped. */
void abort_created(const char *runtime, const char *root, const char *id);

#endif
