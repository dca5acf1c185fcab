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

/** What the stand-in answers; `hang` never answers (the caller's deadline must end it). */
export type StandInAnswer = { status: number; body?: string } | 'hang';

/** The agent's end of our own protocol, on a unix socket in a temp dir: records and answers. */
export interface AgentStandIn {
  socket: string;
  requests: ReceivedRequest[];
  /** Sets how the next requests are answered. */
  answer(fn: (request: ReceivedRequest) => StandInAnswer): void;
  close(): Promise<void>;
}

/** Starts the stand-in; by default it answers 200 with an empty body. */
export async function startAgentStandIn(): Promise<AgentStandIn> {
  const dir = mkdtempSync(join(tmpdir(), 'swy-cni-agent-'));
  const socket = join(dir, 'agent.sock');
  const requests: ReceivedRequest[] = [];
  const open = new Set<Socket>();
  let respond: (request: ReceivedRequest) => StandInAnswer = () => ({ status: 200, body: '' });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
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
      const answer = respond(received);
      if (answer === 'hang') return;
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
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
