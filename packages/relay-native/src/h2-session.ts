import type { Socket } from 'node:net';
import { RELAY_CHANNELS } from './diagnostics.js';
import type { H2Event, NativeHandle, RelayAddon } from './load-addon.js';
import type { RelayCloseReason, RelayResult } from './relay-result.js';
import { takeSocket } from './socket-handoff.js';

/** How one tunnel (an HTTP/2 stream) ended. */
export interface TunnelResult {
  /** Bytes from the HTTP/2 peer to the plain socket. */
  up: number;
  /** Bytes from the plain socket to the HTTP/2 peer. */
  down: number;
  /** `eof` when both sides ended the stream; else why it was cut (`reset`, or the connection's reason). */
  reason: RelayCloseReason;
  /** The RST_STREAM code, when the stream was reset (0 otherwise). */
  code: number;
}

/** A CONNECT (or POST) stream a peer opened on a served connection: JavaScript answers it once. */
export interface IncomingTunnel {
  /** The HTTP/2 stream id. */
  readonly stream: number;
  readonly method: string;
  readonly authority: string;
  /** POST mode's target (`x-tun`), or empty. */
  readonly xTun: string;
  readonly forwarded: string;
  /** A header the engine keeps was too long or repeated: not HBONE, refuse it. */
  readonly overflow: boolean;
  /** Aborted when the stream ends before it was answered (the peer reset it). */
  readonly signal: AbortSignal;
  /**
   * 200, and the stream's bytes go to `plain` (the engine owns it from now on). Resolves with
   * the tunnel's end, or undefined when the stream had ended before (`plain` is closed then).
   */
  accept(plain: Socket): Promise<TunnelResult | undefined>;
  /** Answers `status` (400, 401, 503) and ends the stream. */
  refuse(status: number): void;
  /** Resets the stream (RST_STREAM CANCEL), whatever its stage: a drain deadline. */
  reset(): void;
}

/**
 * A stream the engine's admission table decided (h2_admit.c): refused (answered already) or
 * accepted (the engine dialled the app and relays). JavaScript only hears of it, to report it.
 */
export interface DecidedTunnel {
  /** The HTTP/2 stream id. */
  readonly stream: number;
  readonly authority: string;
  readonly forwarded: string;
  readonly verdict: 'accepted' | 'refused';
  /** Refused: the table's code (`policy`, `not-this-workload`, `proxy-port`, `connect`). */
  readonly code: string;
  /** Refused with `connect`: why the engine's dial failed. */
  readonly detail: string;
  /** Accepted: resolves with the tunnel's end. */
  readonly ended: Promise<TunnelResult> | undefined;
  /** Resets the stream (RST_STREAM CANCEL): a drain deadline. */
  reset(): void;
}

/** What {@link Http2Session.open} resolves with: the peer's answer, and, for a 2xx, the tunnel's end. */
export type OpenedTunnel =
  | { ok: true; status: number; ended: Promise<TunnelResult>; reset: () => void }
  | { ok: false; status?: number; reason: string };

/** The commands of one session, bound to its engine thread and connection. */
export interface H2Commands {
  addon: RelayAddon;
  handle: NativeHandle;
  worker: number;
  id: number;
  /** Whether the engine still runs (commands to a closed engine would throw). */
  running: () => boolean;
}

interface ClientPending {
  answered: (r: OpenedTunnel) => void;
  ended?: (r: TunnelResult) => void;
}

const toTunnel = ({ up, down, reason, code }: Extract<H2Event, { type: 'h2closed' }>): TunnelResult => ({
  up,
  down,
  code,
  reason: reason as RelayCloseReason,
});

/**
 * One HTTP/2 connection the engine speaks on its threads (HBONE): as a server it reports each
 * stream for JavaScript to accept or refuse; as a client it opens CONNECT tunnels. Every decision
 * is JavaScript's; the framing, flow control, keepalive and limits are the engine's.
 */
export class Http2Session {
  /** Resolves when the connection ends. */
  readonly ended: Promise<RelayResult>;
  readonly #c: H2Commands;
  readonly #onStream: ((tunnel: IncomingTunnel) => void) | undefined;
  readonly #onDecided: ((tunnel: DecidedTunnel) => void) | undefined;
  readonly #server = new Map<number, { abort: AbortController; ended?: (r: TunnelResult) => void }>();
  readonly #client = new Map<number, ClientPending>();
  #nextTag = 1;
  #closed = false;
  #goaway = false;

  /** @internal made by {@link PeerHandshake.http2} */
  constructor(
    c: H2Commands,
    ended: Promise<RelayResult>,
    onStream?: (tunnel: IncomingTunnel) => void,
    onDecided?: (tunnel: DecidedTunnel) => void,
  ) {
    this.#c = c;
    this.#onStream = onStream;
    this.#onDecided = onDecided;
    this.ended = ended.then((result) => {
      this.#closed = true;
      this.#failAll(result.reason);
      return result;
    });
  }

  /** Tunnels open or opening on this connection (a pool's stream count). */
  get streams(): number {
    return this.#server.size + this.#client.size;
  }

  /** Whether new tunnels may still be opened here (not closed, no GOAWAY sent). */
  get usable(): boolean {
    return !this.#closed && !this.#goaway && this.#c.running();
  }

  /**
   * Opens a CONNECT tunnel to `authority` carrying `socket` (client sessions). The socket stays
   * Node's until the peer answers 2xx (a refusal leaves it usable for another attempt); from
   * then on the engine holds it and Node's object may be destroyed.
   */
  open(authority: string, headers: Record<string, string>, socket: Socket): Promise<OpenedTunnel> {
    if (!this.usable) return Promise.resolve({ ok: false, reason: 'the HTTP/2 connection is closing' });
    const fd = takeSocket(this.#c.addon, socket, true);
    const fields = [authority, ...Object.entries(headers).flatMap(([k, v]) => [k.toLowerCase(), v])];
    const tag = this.#nextTag++;
    return new Promise((answered) => {
      this.#client.set(tag, { answered });
      const { addon, handle, worker, id } = this.#c;
      addon.h2Open(handle, worker, id, tag, Buffer.from(`${fields.join('\0')}\0`, 'latin1'), fd);
    });
  }

  /** GOAWAY: open streams finish, no new one starts. */
  goaway(): void {
    if (this.#closed || this.#goaway || !this.#c.running()) return;
    this.#goaway = true;
    const { addon, handle, worker, id } = this.#c;
    addon.h2Goaway(handle, worker, id, 0, 0);
  }

  #reset(stream: number): void {
    if (this.#closed || !this.#c.running()) return;
    const { addon, handle, worker, id } = this.#c;
    addon.h2Reset(handle, worker, id, stream, 0);
  }

  /** @internal one event of this connection */
  event(e: H2Event): void {
    if (e.type === 'h2stream') this.#incoming(e);
    else if (e.type === 'h2response') this.#answered(e);
    else this.#ended(e);
  }

  #ended(e: Extract<H2Event, { type: 'h2closed' }>): void {
    const server = e.tag === 0 ? this.#server.get(e.stream) : undefined;
    if (server) {
      this.#server.delete(e.stream);
      server.abort.abort(new Error('the stream was reset'));
      server.ended?.(toTunnel(e));
      return;
    }
    const client = this.#client.get(e.tag);
    if (!client) return;
    this.#client.delete(e.tag);
    if (client.ended) client.ended(toTunnel(e));
    else client.answered({ ok: false, reason: `the tunnel ended before an answer (${e.reason})` });
  }

  #answered(e: Extract<H2Event, { type: 'h2response' }>): void {
    const pending = this.#client.get(e.tag);
    if (!pending) return;
    if (e.status < 200 || e.status > 299) {
      pending.answered({ ok: false, status: e.status, reason: `status ${e.status}` });
      return;
    }
    const ended = new Promise<TunnelResult>((resolve) => {
      pending.ended = resolve;
    });
    pending.answered({ ok: true, status: e.status, ended, reset: () => this.#reset(e.stream) });
  }

  /** A stream the table decided: an accepted one is followed to its end, a refused one is over. */
  #decided(e: Extract<H2Event, { type: 'h2stream' }>, verdict: 'accepted' | 'refused'): void {
    let ended: Promise<TunnelResult> | undefined;
    if (verdict === 'accepted') {
      const state: { abort: AbortController; ended?: (r: TunnelResult) => void } = {
        abort: new AbortController(),
      };
      ended = new Promise<TunnelResult>((resolve) => {
        state.ended = resolve;
      });
      this.#server.set(e.stream, state);
    }
    const code = e.refusedCode ?? '';
    if (RELAY_CHANNELS.decidedStreams.hasSubscribers)
      RELAY_CHANNELS.decidedStreams.publish({ stream: e.stream, authority: e.authority, verdict, code });
    this.#onDecided?.({
      stream: e.stream,
      authority: e.authority,
      forwarded: e.forwarded,
      verdict,
      code,
      detail: e.detail ?? '',
      ended,
      reset: () => this.#reset(e.stream),
    });
  }

  #incoming(e: Extract<H2Event, { type: 'h2stream' }>): void {
    if (e.decided) {
      this.#decided(e, e.decided);
      return;
    }
    const abort = new AbortController();
    const state: { abort: AbortController; ended?: (r: TunnelResult) => void } = { abort };
    this.#server.set(e.stream, state);
    const { addon, handle, worker, id } = this.#c;
    let answered = false;
    const tunnel: IncomingTunnel = {
      stream: e.stream,
      method: e.method,
      authority: e.authority,
      xTun: e.xTun,
      forwarded: e.forwarded,
      overflow: e.overflow,
      signal: abort.signal,
      accept: (plain) => {
        if (answered) throw new Error('the stream was already answered');
        answered = true;
        if (this.#closed || !this.#server.has(e.stream) || !this.#c.running()) {
          plain.destroy(); // the stream (or its connection) ended meanwhile
          return Promise.resolve(undefined);
        }
        const fd = takeSocket(addon, plain);
        const ended = new Promise<TunnelResult>((resolve) => {
          state.ended = resolve;
        });
        addon.h2Accept(handle, worker, id, e.stream, fd);
        return ended;
      },
      refuse: (status) => {
        if (answered) return;
        answered = true;
        if (!this.#closed && this.#c.running()) addon.h2Refuse(handle, worker, id, e.stream, status);
      },
      reset: () => this.#reset(e.stream),
    };
    this.#onStream?.(tunnel);
  }

  /** The connection ended: whatever still waits hears it. */
  #failAll(reason: RelayCloseReason): void {
    for (const s of this.#server.values()) {
      s.abort.abort(new Error('the connection ended'));
      s.ended?.({ up: 0, down: 0, reason, code: 0 });
    }
    this.#server.clear();
    for (const c of this.#client.values()) {
      if (c.ended) c.ended({ up: 0, down: 0, reason, code: 0 });
      else c.answered({ ok: false, reason: `the HTTP/2 connection ended (${reason})` });
    }
    this.#client.clear();
  }
}
