import { closeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { type AdmissionTable, engineAdmissionTable } from './admission/admission-table.js';
import {
  DEFAULT_DECISION_TIMEOUT_MS,
  DEFAULT_H2_IDLE_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_PIPE_SIZE,
  DEFAULT_STALL_THRESHOLD_MS,
  defaultThreads,
} from './defaults.js';
import { parseDerChain } from './der-chain.js';
import { RELAY_CHANNELS } from './diagnostics.js';
import { EngineWatchdog, type Heartbeat, type ThreadStall } from './engine-watchdog.js';
import { RelayEngineClosedError } from './errors.js';
import { Http2Session } from './h2-session.js';
import type { HandOffOptions } from './hand-off-options.js';
import {
  loadRelayAddon,
  type NativeAdmissionQuestion,
  type NativeEvent,
  type NativeHandle,
  type RelayAddon,
} from './load-addon.js';
import type { FailedHandshake, PeerHandshake } from './peer-handshake.js';
import type { RelayCloseReason, RelayResult } from './relay-result.js';
import { takeSocket } from './socket-handoff.js';
import { TlsContext, type TlsCredentials } from './tls-credentials.js';

/** Options of {@link createRelayEngine}. */
export interface RelayEngineOptions {
  /** Engine threads, each with its own epoll loop. Default: one per core. */
  threads?: number;
  /** Close a relay after this long without a byte in either direction (ms; 0: never). Default: 1 hour. */
  idleTimeoutMs?: number;
  /** Fail a TLS handshake that takes longer (ms). Default: 10 s. */
  handshakeTimeoutMs?: number;
  /** Reject a handshaken peer JavaScript has not accepted or rejected within this (ms). Default: 10 s. */
  decisionTimeoutMs?: number;
  /** Pipe size of splice relays (bytes). Default: 256 KiB. */
  pipeSize?: number;
  /** Close an HTTP/2 connection that has had no stream this long (ms; 0: never). Default: 5 minutes. */
  h2IdleTimeoutMs?: number;
  /** A thread whose loop has not turned for this long is reported stalled (ms). Default: 5 s. */
  stallThresholdMs?: number;
  /**
   * What a TLS peer may send after its handshake; a peer over a limit is reset (`tls-flood`).
   * Default: no limit (the `mtls-native` carrier gives the data plane's `TLS_RECORD_LIMITS`).
   */
  tlsLimits?: EngineTlsLimits;
}

/** The engine's TLS record limits (the data plane's `TlsRecordLimits`). */
export interface EngineTlsLimits {
  /** KeyUpdate messages in any one minute. */
  keyUpdatesPerMinute: number;
  /** Records carrying no application data a second, sustained, and the burst above it. */
  emptyRecordsPerSecond: number;
  emptyRecordBurst: number;
}

/** What {@link RelayEngine.tls} needs: the socket, which end of TLS it is, and its credentials. */
export interface TlsHandOff extends HandOffOptions {
  role: 'server' | 'client';
  /** A connected TCP socket that Node has not read from (servers: `pauseOnConnect: true`). */
  socket: Socket;
  /** A context from {@link RelayEngine.createTlsContext}, or credentials to build one. */
  credentials: TlsContext | TlsCredentials;
  /**
   * Servers only, with `keepSocket`: look at the client's first byte (peeked, never read) before
   * the handshake; one that is not a TLS handshake record — or none within the handshake
   * timeout — ends it as `not-tls`, and the kept socket still holds every byte (resume Node's
   * reading with `resumeReading`). Default false.
   */
  sniff?: boolean;
  /**
   * Decide the peer on the engine thread, from the engine's {@link RelayEngine.admission} table,
   * instead of handing it to JavaScript: the handshake resolves already admitted (relaying to
   * `plain`) or refused (closed), and JavaScript only hears of it. Default: JavaScript decides.
   */
  admission?: AdmissionQuestion;
}

/** What a connection asks of the engine's admission table (see {@link TlsHandOff.admission}). */
export interface AdmissionQuestion {
  /** The slot of the table that holds the authorization to apply. */
  slot: number;
  /**
   * A client's question: the server must present one of `expected` (or, with none known, is
   * refused unless `trustDomainFallback`) before the rules are applied.
   */
  pinned: boolean;
  /** The identities the destination must present; undefined: none known. */
  expected?: readonly string[] | undefined;
  trustDomainFallback: boolean;
  /**
   * The plain socket to relay to once admitted, handed to the engine with the TLS one (Node's
   * object stays open as a stand-in; destroy it when the handshake resolves). Without it, an
   * admitted peer still waits for `accept()`.
   */
  plain?: Socket;
}

/** Engine-wide counters. */
export interface RelayEngineStats {
  /** Connections the engine holds now (handshaking, awaiting a decision, or relaying). */
  connections: number;
  /** Bytes moved by connections that have closed. */
  bytes: number;
}

type Pending =
  | { stage: 'relay'; resolve: (r: RelayResult) => void }
  | { stage: 'handshake'; resolve: (r: PeerHandshake | FailedHandshake) => void };

const toResult = (e: Extract<NativeEvent, { type: 'closed' }>): RelayResult => ({
  up: e.up,
  down: e.down,
  reason: e.reason as RelayCloseReason,
  detail: e.detail,
});

/**
 * The native relay engine: threads with their own epoll loops that move bytes between
 * descriptors JavaScript hands them, with splice(2) for plain relays and OpenSSL for TLS. Every
 * decision (who, where, whether) stays in JavaScript; the engine reports back in batches.
 */
export class RelayEngine {
  readonly #addon: RelayAddon;
  readonly #handle: NativeHandle;
  readonly #decisionTimeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  readonly #awaiting = new Map<number, object>();
  readonly #watchdog: EngineWatchdog;
  readonly #h2 = new Map<number, Http2Session>();
  #admission: AdmissionTable | undefined;
  #nextId = 1;
  #closed = false;

  /** @internal use {@link createRelayEngine} */
  constructor(addon: RelayAddon, options: RelayEngineOptions) {
    this.#addon = addon;
    this.#decisionTimeoutMs = options.decisionTimeoutMs ?? DEFAULT_DECISION_TIMEOUT_MS;
    this.#handle = addon.createEngine(
      {
        threads: options.threads ?? defaultThreads(),
        idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
        handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
        pipeSize: options.pipeSize ?? DEFAULT_PIPE_SIZE,
        ...options.tlsLimits,
        h2IdleTimeoutMs: options.h2IdleTimeoutMs ?? DEFAULT_H2_IDLE_TIMEOUT_MS,
      },
      (events) => this.#onEvents(events),
    );
    this.#watchdog = new EngineWatchdog(
      () => addon.heartbeats(this.#handle),
      options.stallThresholdMs ?? DEFAULT_STALL_THRESHOLD_MS,
    );
  }

  /** Builds a TLS context once; give it to many {@link RelayEngine.tls} calls, replace it to rotate. */
  createTlsContext(credentials: TlsCredentials): TlsContext {
    return new TlsContext(this.#addon, credentials);
  }

  /**
   * Relays two plain sockets with splice(2) until both directions end (half-close is passed on)
   * or one fails. Both sockets belong to the engine from now on.
   */
  splice(a: Socket, b: Socket, options: HandOffOptions = {}): Promise<RelayResult> {
    this.#assertOpen();
    const fdA = takeSocket(this.#addon, a, options.keepSocket);
    const fdB = takeSocket(this.#addon, b, options.keepSocket);
    return new Promise((resolve) => {
      const id = this.#track({ stage: 'relay', resolve });
      this.#addon.splice(this.#handle, id, fdA, fdB);
      this.#abortOn(options.signal, id);
    });
  }

  /**
   * Runs a TLS 1.3 handshake on the socket in the engine (peer certificate required and verified).
   * Resolves with the peer's identity for JavaScript to accept or reject, or with why it failed.
   */
  tls(handOff: TlsHandOff): Promise<PeerHandshake | FailedHandshake> {
    this.#assertOpen();
    const context =
      handOff.credentials instanceof TlsContext
        ? handOff.credentials
        : this.createTlsContext(handOff.credentials);
    const question = handOff.admission && this.#question(handOff.admission);
    let fd: number;
    try {
      fd = takeSocket(this.#addon, handOff.socket, handOff.keepSocket);
    } catch (error) {
      if (question?.plainFd !== undefined) closeSync(question.plainFd);
      throw error;
    }
    return new Promise((resolve) => {
      const id = this.#track({ stage: 'handshake', resolve });
      const client = handOff.role === 'client';
      const sniff = !client && handOff.keepSocket === true && handOff.sniff === true;
      this.#addon.tls(this.#handle, id, context.handle, client, fd, sniff, question);
      this.#abortOn(handOff.signal, id);
    });
  }

  /**
   * The engine's admission table (created on first use): fill a slot per authorization, and name
   * it in {@link TlsHandOff.admission}.
   */
  get admission(): AdmissionTable {
    this.#assertOpen();
    this.#admission ??= engineAdmissionTable(this.#addon, this.#handle);
    return this.#admission;
  }

  /** @internal admission tables alive in the engine (1 once swaps settle) */
  admissionLiveTables(): number {
    this.#assertOpen();
    return this.#addon.admissionLiveTables(this.#handle);
  }

  /** @internal the table's verdict on `peer` without a handshake (agreement tests) */
  admissionDecideForTesting(
    question: Omit<AdmissionQuestion, 'plain'>,
    peer: string,
  ): { verdict: 'ask' | 'accepted' | 'refused'; code: string } {
    this.#assertOpen();
    return this.#addon.admissionDecideForTesting(this.#handle, this.#question(question), peer);
  }

  /** The addon's form of a question; the plain socket's descriptor is the engine's from here. */
  #question(q: AdmissionQuestion): NativeAdmissionQuestion {
    return {
      slot: q.slot,
      pinned: q.pinned,
      trustDomainFallback: q.trustDomainFallback,
      ...(q.expected ? { expected: q.expected.join('\n') } : {}),
      ...(q.plain ? { plainFd: takeSocket(this.#addon, q.plain, true) } : {}),
    };
  }

  /** Engine-wide counters, read without stopping the threads. */
  stats(): RelayEngineStats {
    this.#assertOpen();
    return this.#addon.stats(this.#handle);
  }

  /** Each thread's heartbeat now: loop turns so far, and how long ago the last one began. */
  heartbeats(): Heartbeat[] {
    this.#assertOpen();
    return this.#addon.heartbeats(this.#handle);
  }

  /**
   * Calls `listener` when a thread's loop stops turning for longer than the stall threshold, and
   * again when it turns. Returns what unsubscribes it.
   */
  onStall(listener: (change: ThreadStall) => void): () => void {
    return this.#watchdog.subscribe(listener);
  }

  /** The threads stalled now (their indexes), as the last heartbeat check saw them. */
  get stalledThreads(): readonly number[] {
    return this.#watchdog.stalled;
  }

  /**
   * Stops every thread. Peers awaiting a decision are rejected; open relays end with
   * `engine-closed`, and their promises resolve.
   */
  close(): void {
    if (this.#closed) return;
    for (const conn of this.#awaiting.values()) this.#addon.reject(this.#handle, conn, 0);
    this.#awaiting.clear();
    this.#closed = true;
    this.#admission = undefined;
    this.#watchdog.stop();
    this.#addon.closeEngine(this.#handle);
  }

  /**
   * @internal proves a crash on an engine thread stops the process loudly: thread 0 dereferences
   * NULL (`signal` 0), or the signal is raised on it alone
   */
  crashForTesting(signal = 0): void {
    this.#addon.crashForTesting(this.#handle, signal);
  }

  /** @internal proves a stalled thread is noticed: `thread` stops turning for `ms` */
  stallForTesting(thread: number, ms: number): void {
    this.#assertOpen();
    this.#addon.stallForTesting(this.#handle, thread, ms);
  }

  /** Resets connection `id` when `signal` aborts; a peer awaiting a decision is rejected instead. */
  #abortOn(signal: AbortSignal | undefined, id: number): void {
    if (!signal) return;
    const abort = this.#aborter(id);
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  }

  /** A function that resets connection `id`, built apart so it holds nothing but the id. */
  #aborter(id: number): () => void {
    return () => {
      if (this.#closed || !this.#pending.has(id)) return;
      const awaiting = this.#awaiting.get(id);
      if (awaiting) {
        this.#awaiting.delete(id);
        this.#addon.reject(this.#handle, awaiting, 0);
      } else this.#addon.abort(this.#handle, id);
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new RelayEngineClosedError('the relay engine is closed; create a new one');
  }

  #track(pending: Pending): number {
    const id = this.#nextId++;
    if (this.#pending.size === 0) this.#addon.setRef(this.#handle, true);
    this.#pending.set(id, pending);
    return id;
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    if (this.#pending.size === 0 && !this.#closed) this.#addon.setRef(this.#handle, false);
    return pending;
  }

  #onEvents(events: NativeEvent[]): void {
    const closed: (RelayResult & { id: number })[] = [];
    const handshakes: {
      id: number;
      spiffeId: string;
      protocol: string;
      resumed: boolean;
      admitted?: string;
    }[] = [];
    for (const event of events) {
      if (event.type === 'h2stream' || event.type === 'h2response' || event.type === 'h2closed') {
        this.#h2.get(event.id)?.event(event);
        continue;
      }
      if (event.type === 'handshake') {
        const { id, spiffeId, protocol, resumed, admitted } = event;
        handshakes.push({ id, spiffeId, protocol, resumed, ...(admitted ? { admitted } : {}) });
        this.#onHandshake(event);
        continue;
      }
      const result = toResult(event);
      closed.push({ id: event.id, ...result });
      this.#awaiting.delete(event.id);
      this.#h2.delete(event.id);
      const pending = this.#settle(event.id);
      if (pending?.stage === 'relay') pending.resolve(result);
      else pending?.resolve({ ok: false, reason: result.reason, detail: result.detail });
    }
    if (closed.length > 0 && RELAY_CHANNELS.closed.hasSubscribers) RELAY_CHANNELS.closed.publish({ closed });
    if (handshakes.length > 0 && RELAY_CHANNELS.handshakes.hasSubscribers)
      RELAY_CHANNELS.handshakes.publish({ handshakes });
  }

  #onHandshake(event: Extract<NativeEvent, { type: 'handshake' }>): void {
    const pending = this.#pending.get(event.id);
    if (pending?.stage !== 'handshake') return;
    if (this.#closed) {
      // a batch the threads sent before they stopped: the connection is gone with them
      this.#settle(event.id);
      pending.resolve({ ok: false, reason: 'engine-closed', detail: '' });
      return;
    }
    const { id, conn } = event;
    // decided by the admission table (the engine gives no handle then): JavaScript only hears it
    if (event.admitted || !conn) {
      this.#onAdmitted(event, pending.resolve);
      return;
    }
    this.#awaiting.set(id, conn);
    let ended: Promise<RelayResult> | undefined;
    const decide = (plain: Socket | undefined, options: HandOffOptions = {}): Promise<RelayResult> => {
      if (ended) return ended;
      if (this.#closed || !this.#awaiting.has(id)) {
        ended = Promise.resolve({ up: 0, down: 0, reason: 'engine-closed', detail: '' });
        return ended;
      }
      const fd = plain ? takeSocket(this.#addon, plain, options.keepSocket) : -1; // may throw: the peer still awaits
      clearTimeout(timer);
      this.#awaiting.delete(id);
      ended = new Promise((resolve) => this.#pending.set(id, { stage: 'relay', resolve }));
      if (fd >= 0) this.#addon.accept(this.#handle, conn, fd);
      else this.#addon.reject(this.#handle, conn, 0);
      return ended;
    };
    const timer = setTimeout(() => void decide(undefined), this.#decisionTimeoutMs);
    timer.unref();
    const der = event.chain;
    pending.resolve({
      ok: true,
      spiffeId: event.spiffeId,
      ...(event.identityError ? { identityError: event.identityError } : {}),
      // parsed on first use: an X509Certificate costs kilobytes, the DER a connection keeps far less
      get chain() {
        return parseDerChain(der);
      },
      protocol: event.protocol,
      resumed: event.resumed,
      accept: (plain, options) => decide(plain, options),
      reject: () => decide(undefined),
      http2: (options) => {
        if (ended || this.#closed || !this.#awaiting.has(id))
          throw new RelayEngineClosedError('the connection was already decided or has ended');
        clearTimeout(timer);
        this.#awaiting.delete(id);
        ended = new Promise((resolve) => this.#pending.set(id, { stage: 'relay', resolve }));
        const streams = options.role === 'server' && !options.denied ? options.streams : undefined;
        const worker =
          options.role === 'server'
            ? this.#addon.h2Serve(this.#handle, conn, options.denied === true, streams?.slot, streams?.peer)
            : this.#addon.h2Client(this.#handle, conn, false);
        const session = new Http2Session(
          { addon: this.#addon, handle: this.#handle, worker, id, running: () => !this.#closed },
          ended,
          options.onStream,
          streams?.onDecided,
        );
        this.#h2.set(id, session);
        return session;
      },
      abort: this.#aborter(id),
    });
  }

  /**
   * A peer the engine decided from its admission table: relaying already, or refused (its close
   * event follows in the same batch). JavaScript holds no handle of it: accept and reject only
   * return how it ends, and abort resets it.
   */
  #onAdmitted(
    event: Extract<NativeEvent, { type: 'handshake' }>,
    resolve: (r: PeerHandshake | FailedHandshake) => void,
  ): void {
    const { id } = event;
    const ended = new Promise<RelayResult>((done) =>
      this.#pending.set(id, { stage: 'relay', resolve: done }),
    );
    const der = event.chain;
    const abort = this.#aborter(id);
    resolve({
      ok: true,
      spiffeId: event.spiffeId,
      get chain() {
        return parseDerChain(der);
      },
      protocol: event.protocol,
      resumed: event.resumed,
      admitted: event.admitted === 'accepted' ? 'accepted' : 'refused',
      ...(event.admitted === 'refused' ? { refusedCode: event.refusedCode ?? '' } : {}),
      accept: () => ended,
      reject: () => {
        abort();
        return ended;
      },
      http2: () => {
        throw new RelayEngineClosedError('the connection was decided by the admission table');
      },
      abort,
    });
  }
}

/**
 * Starts a relay engine (the addon loads on first call).
 *
 * @example
 * ```ts
 * const engine = createRelayEngine({ threads: 2 });
 * const { up, down, reason } = await engine.splice(clientSocket, upstreamSocket);
 * ```
 * @throws UnsupportedPlatformError off Linux or when the addon is not built.
 */
export function createRelayEngine(options: RelayEngineOptions = {}): RelayEngine {
  return new RelayEngine(loadRelayAddon(), options);
}
