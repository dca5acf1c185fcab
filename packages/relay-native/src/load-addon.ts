import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { UnsupportedPlatformError } from '@switchyard/core';
import { ADDON_BUILD_ENV } from './defaults.js';

/** One event from an engine thread, as the addon delivers it. */
export type NativeEvent =
  | { type: 'closed'; id: number; up: number; down: number; reason: string; detail: string }
  | {
      type: 'handshake';
      id: number;
      /** The connection awaiting JavaScript's decision; absent when the admission table decided. */
      conn?: object;
      spiffeId: string;
      protocol: string;
      chain: Buffer;
      identityError: string;
      /** A session resumed from a ticket (no certificates exchanged), not a full handshake. */
      resumed: boolean;
      /** Decided on the engine thread from the admission table (absent: JavaScript decides). */
      admitted?: 'accepted' | 'refused';
      /** With `admitted: 'refused'`: the decision's code (`policy`, `unexpected-identity`, ...). */
      refusedCode?: string;
    }
  | H2Event;

/** One HTTP/2 event (`native/h2_addon.c`): a stream opened, a tunnel answered, a stream ended. */
export type H2Event = { id: number; worker: number; stream: number; tag: number } & (
  | {
      type: 'h2stream';
      method: string;
      authority: string;
      xTun: string;
      forwarded: string;
      overflow: boolean;
      /** Set when the admission table decided the stream on the engine (h2_admit.c): JavaScript only hears it. */
      decided?: 'accepted' | 'refused';
      /** With `decided: 'refused'`: the table's code (`policy`, `not-this-workload`, `proxy-port`, `connect`). */
      refusedCode?: string;
      /** With `refusedCode: 'connect'`: why the engine's dial failed. */
      detail?: string;
    }
  | { type: 'h2response'; status: number }
  | { type: 'h2closed'; up: number; down: number; code: number; reason: string }
);

/** A connection's admission question, as the addon reads it (native/admission_addon.c). */
export interface NativeAdmissionQuestion {
  slot: number;
  pinned: boolean;
  /** Identities joined by "\n" ("" for none); absent: the destination is unknown. */
  expected?: string;
  trustDomainFallback: boolean;
  /** The plain socket to relay to once admitted (the engine owns it). */
  plainFd?: number;
}

/** An engine or TLS context handle: opaque to JavaScript. */
export type NativeHandle = object & { readonly __native: unique symbol };

/** The functions of the native addon (`native/addon.c`). */
export interface RelayAddon {
  createEngine(
    options: {
      threads: number;
      idleTimeoutMs: number;
      handshakeTimeoutMs: number;
      pipeSize: number;
      keyUpdatesPerMinute?: number;
      emptyRecordsPerSecond?: number;
      emptyRecordBurst?: number;
      h2IdleTimeoutMs: number;
    },
    onEvents: (events: NativeEvent[]) => void,
  ): NativeHandle;
  closeEngine(engine: NativeHandle): void;
  setRef(engine: NativeHandle, on: boolean): void;
  splice(engine: NativeHandle, id: number, fdA: number, fdB: number): void;
  tls(
    engine: NativeHandle,
    id: number,
    context: NativeHandle,
    isClient: boolean,
    fd: number,
    sniff?: boolean,
    admission?: NativeAdmissionQuestion,
  ): void;
  /** Replaces the engine's admission table (native/admission.c's wire form); throws on a malformed one. */
  setAdmission(engine: NativeHandle, table: Buffer): void;
  /** Admission tables alive: the installed one, and any an engine thread still reads. */
  admissionLiveTables(engine: NativeHandle): number;
  /** The table's verdict on `peer` for a question, without a handshake (agreement tests). */
  admissionDecideForTesting(
    engine: NativeHandle,
    question: NativeAdmissionQuestion,
    peer: string,
  ): { verdict: 'ask' | 'accepted' | 'refused'; code: string };
  accept(engine: NativeHandle, conn: object, plainFd: number): void;
  reject(engine: NativeHandle, conn: object, unused: number): void;
  abort(engine: NativeHandle, id: number): void;
  takeFd(fd: number): number;
  stats(engine: NativeHandle): { connections: number; bytes: number };
  createTlsContext(options: {
    cert: string | Buffer;
    key: string | Buffer;
    ca: string | Buffer;
    groups?: string;
    ciphersuites?: string;
    alpn?: 'h2';
  }): NativeHandle;
  heartbeats(engine: NativeHandle): { turns: number; sinceMs: number }[];
  crashForTesting(engine: NativeHandle, signal: number): void;
  stallForTesting(engine: NativeHandle, thread: number, ms: number): void;
  /** Serves (or dials) HTTP/2 on a handshaken connection instead of relaying it; returns its thread. */
  /** `slot` and `peer`: the admission table decides the connection's streams (h2_admit.c). */
  h2Serve(engine: NativeHandle, conn: object, denied: boolean, slot?: number, peer?: string): number;
  h2Client(engine: NativeHandle, conn: object, unused: boolean): number;
  h2Accept(engine: NativeHandle, worker: number, id: number, stream: number, fd: number): void;
  h2Refuse(engine: NativeHandle, worker: number, id: number, stream: number, status: number): void;
  h2Open(engine: NativeHandle, worker: number, id: number, tag: number, fields: Buffer, fd: number): void;
  h2Goaway(engine: NativeHandle, worker: number, id: number, unused: 0, unused2: 0): void;
  h2Reset(engine: NativeHandle, worker: number, id: number, stream: number, unused: 0): void;
}

let addon: RelayAddon | undefined;

/** What to run when neither a prebuilt addon nor a local build loads; works in any project. */
export const ADDON_BUILD_HINT =
  'rebuild it from source in your project: "npm rebuild @switchyard/relay-native" (npm) or "pnpm rebuild @switchyard/relay-native" (pnpm); that needs python3, make, a C compiler and Node\'s headers (apt-get install python3 make gcc)';

/** node-gyp-build's one function (the package is CommonJS and ships no types). */
type NodeGypBuild = (packageRoot: string) => unknown;

/**
 * Loads the addon on first use, so importing the package does nothing. A local build
 * (`build/Release/`, made by `build:native` or by the install script where no prebuilt addon
 * fits) comes first; then node-gyp-build picks the prebuilt binary the package ships for
 * linux-x64 and linux-arm64 (`prebuilds/`). Both sit at the package root, one level above `src/`
 * and `dist/`. With `SWITCHYARD_RELAY_NATIVE_BUILD=asan` it loads the local AddressSanitizer
 * build instead (Node itself is not built with ASan, so the process must start with libasan in
 * `LD_PRELOAD`).
 *
 * @throws UnsupportedPlatformError off Linux, or when no build fits this machine, saying what to run.
 */
export function loadRelayAddon(): RelayAddon {
  if (addon) return addon;
  if (process.platform !== 'linux') {
    throw new UnsupportedPlatformError(
      `the native relay engine needs Linux (this is ${process.platform}); use the JavaScript carriers on this platform`,
    );
  }
  const file = addonFile(process.env[ADDON_BUILD_ENV]);
  const require = createRequire(import.meta.url);
  const local = fileURLToPath(new URL(`../build/Release/${file}.node`, import.meta.url));
  try {
    // The ASan build is never shipped: it is local or nothing.
    if (existsSync(local) || file !== RELEASE) addon = require(local) as RelayAddon;
    else
      addon = (require('node-gyp-build') as NodeGypBuild)(
        fileURLToPath(new URL('..', import.meta.url)),
      ) as RelayAddon;
    return addon;
  } catch (cause) {
    throw new UnsupportedPlatformError(
      `the native relay engine has no prebuilt binary for linux-${process.arch} and was not built here (${(cause as Error).message.split('\n')[0]}); ${ADDON_BUILD_HINT}`,
      { cause },
    );
  }
}

/** The release build's file name (a local build, or the prebuilt one's source). */
const RELEASE = 'switchyard_relay';

/** The addon file a build name selects; an unknown name is refused rather than ignored. */
function addonFile(build: string | undefined): string {
  if (build === undefined || build === '' || build === 'release') return RELEASE;
  if (build === 'asan') return 'switchyard_relay_asan';
  throw new UnsupportedPlatformError(
    `${ADDON_BUILD_ENV}=${JSON.stringify(build.slice(0, 80))} names no build of the native relay engine; use "release" (the default) or "asan", or unset it`,
  );
}

/**
 * Why the native engine cannot run in this process, or `undefined` when it can: loads the addon
 * (once) without starting anything, so a command can refuse before it listens.
 */
export function nativeEngineUnavailable(): string | undefined {
  try {
    loadRelayAddon();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
