import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One request the stand-in received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  httpVersion: string;
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  body: unknown;
}

/**
 * What the stand-in answers: a status and body; `hang`: nothing, ever (the caller's deadline must
 * end it); `close`: the connection closed without an answer; `raw`: these bytes, then silence.
 */
export type StandInAnswer = { status: number; body?: string } | 'hang' | 'close' | { raw: string };

/** The agent's end of our own protocol, on a unix socket in a temp dir: records and answers. */
export interface AgentStandIn {
  socket: string;
  requests: ReceivedRequest[];
  /** Sets how the next requests are answered. */
  answer(fn: (request: ReceivedRequest) => StandInAnswer | Promise<StandInAnswer>): void;
  close(): Promise<void>;
}

/**
 * Starts the stand-in, on `socket` or in a temp dir of its own; by default it answers 200 with an
 * empty body.
 */
export async function startAgentStandIn(socketPath?: string): Promise<AgentStandIn> {
  const dir = socketPath ? undefined : mkdtempSync(join(tmpdir(), 'swy-cni-agent-'));
  const socket = socketPath ?? join(dir as string, 'agent.sock');
  const requests: ReceivedRequest[] = [];
  const open = new Set<Socket>();
  let respond: (request: ReceivedRequest) => StandInAnswer | Promise<StandInAnswer> = () => ({
    status: 200,
    body: '',
  });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const received = {
        method: req.method ?? '',
        path: req.url ?? '',
        httpVersion: req.httpVersion,
        headers: req.headers,
        raw,
        body,
      };
      requests.push(received);
      const answer = await Promise.resolve(respond(received)).catch((error: Error) => ({
        status: 599,
        body: `the stand-in failed: ${error.message}`,
      }));
      if (answer === 'hang') return;
      if (answer === 'close') return void req.socket.destroy();
      if ('raw' in answer) return void req.socket.write(answer.raw);
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(answer.body ?? '');
    });
  });
  server.on('connection', (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    socket,
    requests,
    answer(fn) {
      respond = fn;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
