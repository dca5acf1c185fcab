import { createInterface } from 'node:readline';

/** One line of Docker's `GET /events` stream, the fields the watcher reads. */
export interface DockerEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
}

/** The events that can change which containers run, or their addresses. */
export const WATCHED_EVENTS: { type: ('container' | 'network')[]; event: string[] } = {
  type: ['container', 'network'],
  event: ['start', 'die', 'destroy', 'connect', 'disconnect'],
};

/**
 * The container an event is about (a network event names it in `Attributes.container`), or
 * undefined for events the watcher does not follow.
 */
export function containerOfEvent(event: DockerEvent): string | undefined {
  if (event.Type === 'container') return event.Actor.ID;
  if (event.Type === 'network') return event.Actor.Attributes?.container;
  return undefined;
}

/**
 * Reads the events stream as one JSON object per line (the daemon writes newline-delimited JSON
 * and chunks need not end on a line), calling `each` in order; lines that are not JSON are
 * reported through `bad` and skipped. A stream that fails is reported through `broken` (readline
 * passes its input's errors on, so they are taken here rather than left unhandled).
 */
export function readEvents(
  stream: NodeJS.ReadableStream,
  each: (event: DockerEvent) => void,
  bad: (line: string) => void,
  broken: (reason: string) => void,
): void {
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('error', (error) => broken(error.message));
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    try {
      each(JSON.parse(line) as DockerEvent);
    } catch {
      bad(line);
    }
  });
}
