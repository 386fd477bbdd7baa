// SidecarClient: one connection to sidecard, shared by every call and
// multiplexed by call id; re-made (with a new HELLO) by the first call after
// it was lost.
import { createConnection } from "node:net";
import type { Socket } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import {
  ErrorDetail, ServerFrame, methods,
  type MethodDescriptor, type CheckDbResponse, type ClassifyResponse, type EnsureImageResponse, type Event,
  type HealthResponse, type ImageInfo, type Lease, type MetricsResponse, type PruneResponse, type ReloadResponse,
  type ReportDbErrorResponse, type ReserveRetrySlotResponse, type RetryInfo, type RetryPolicyInfo, type RuleInfo,
  type ScrubResponse,
  type SleepResponse,
} from "./generated/sidecar.js";
import { SidecarError } from "./errors.js";
import { Reader, Writer } from "./protobuf.js";
import { FrameDecoder, encodeFrame } from "./framing.js";

/** Options every call takes. */
export interface CallOptions {
  /** The deadline, sent to the daemon (`timeout_ms`); the client also gives up on its own a second later. */
  timeoutMs?: number;
  /** Aborting it sends CANCEL and rejects the call at once with CANCELLED. */
  signal?: AbortSignal;
}

export interface SidecarClientOptions {
  /** Default: `$SIDECAR_SOCKET`, else `/run/sidecar/sidecar.sock` when it exists, else `$XDG_RUNTIME_DIR/sidecar.sock`. */
  socketPath?: string;
  /** Sent in the HELLO, for the daemon's logs. Default "typescript-client". */
  clientName?: string;
  /** How long connecting keeps retrying while the socket is missing or refuses (a daemon starting). Default 1500. */
  connectRetryMs?: number;
}

/** The socket a client uses when it is given none. */
export function defaultSocketPath(): string {
  const explicit = process.env.SIDECAR_SOCKET;
  if (explicit) return explicit;
  const system = "/run/sidecar/sidecar.sock";
  if (existsSync(system)) return system;
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime) return `${runtime}/sidecar.sock`;
  return system;
}

interface Pending {
  /** An OK REPLY (unary) with its payload: a view, valid during the call. */
  ok(payload: Uint8Array): void;
  /** A STREAM_MESSAGE's payload (a view, valid during the call). */
  message?(payload: Uint8Array): void;
  fail(error: SidecarError): void;
}

function replyError(status: number, message: string, payload: Uint8Array): SidecarError {
  let detail: ErrorDetail | undefined;
  if (payload.length > 0) {
    try {
      detail = ErrorDetail.decode(payload);
    } catch {
      detail = undefined;
    }
  }
  return new SidecarError(status, message, detail);
}

const textDecoder = new TextDecoder();
const scratch = new Writer(256);
declare var Buffer: { allocUnsafe(size: number): Uint8Array } | undefined;
const allocUnsafe = typeof Buffer === "undefined" ? undefined : (size: number) => Buffer!.allocUnsafe(size);
const textEncoder = new TextEncoder();

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** One open connection: frames out (batched per tick), frames in, calls by id. */
class Connection {
  readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The frames to send at the end of this tick. */
  private out = new Writer(4096);
  private flushQueued = false;
  private readonly decoder = new FrameDecoder();
  private readonly methodNames = new Map<string, Uint8Array>();
  private readonly reader = new Reader(new Uint8Array(0));
  /** Set once the connection is over: later calls on it fail with it. */
  closed: SidecarError | undefined;
  serverVersion = "";
  maxMessageBytes = 4 * 1024 * 1024;
  maxInflightCalls = 256;
  private referenced = true;

  constructor(private readonly socket: Socket, readonly socketPath: string, clientName: string) {
    socket.setNoDelay?.(true);
    socket.on("error", (error) => this.end(SidecarError.unavailable(socketPath, error.message)));
    socket.on("close", () => this.end(SidecarError.unavailable(socketPath, "the daemon closed the connection")));
    this.send(encodeFrame({ kind: "HELLO", callId: 0, protocolVersion: "PROTOCOL_VERSION_1", clientName }));
    this.updateRef();
  }

  /** An idle connection does not keep the process alive. */
  private updateRef(): void {
    const want = this.pending.size > 0;
    if (want === this.referenced) return;
    this.referenced = want;
    if (want) this.socket.ref?.();
    else this.socket.unref?.();
  }

  private queueFlush(): void {
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  send(bytes: Uint8Array): void {
    this.out.raw(bytes);
    this.queueFlush();
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.closed || this.out.pos === 0) return;
    // The socket keeps the bytes until the kernel took them: a copy, from
    // Node's pool when small; the batch buffer is reused.
    const batch = this.out.finish();
    const data = allocUnsafe ? allocUnsafe(batch.length) : new Uint8Array(batch.length);
    data.set(batch);
    this.out.reset();
    this.socket.write(data);
  }

  /** Appends a CALL frame to the batch (the ClientFrame encoding, written in place). */
  private writeCall(id: number, method: string, timeoutMs: number, payload: Uint8Array): void {
    let name = this.methodNames.get(method);
    if (!name) {
      name = textEncoder.encode(method);
      this.methodNames.set(method, name);
    }
    let body = 1 + varintSize(id) + 2 + 1 + varintSize(name.length) + name.length;
    if (timeoutMs > 0) body += 1 + varintSize(timeoutMs);
    if (payload.length > 0) body += 1 + varintSize(payload.length) + payload.length;
    const w = this.out;
    w.grow(4 + body);
    const buf = w.buf;
    let p = w.pos;
    buf[p] = body >>> 24;
    buf[p + 1] = (body >>> 16) & 0xff;
    buf[p + 2] = (body >>> 8) & 0xff;
    buf[p + 3] = body & 0xff;
    w.pos = p + 4;
    w.uint8(0x08); // call_id
    w.int64(id);
    w.uint8(0x10); // kind = CALL
    w.uint8(2);
    w.uint8(0x1a); // method
    w.uint32(name.length);
    w.raw(name);
    if (timeoutMs > 0) {
      w.uint8(0x20);
      w.uint32(timeoutMs);
    }
    if (payload.length > 0) {
      w.uint8(0x2a);
      w.uint32(payload.length);
      w.raw(payload);
    }
    this.queueFlush();
  }

  /** Registers and sends a call; its answer goes to `pending`. The call id. */
  start(method: string, payload: Uint8Array, timeoutMs: number, pending: Pending): number {
    const id = this.nextId++;
    if (this.closed) {
      pending.fail(this.closed);
      return id;
    }
    this.pending.set(id, pending);
    this.writeCall(id, method, timeoutMs, payload);
    this.updateRef();
    return id;
  }

  /** Stops waiting for call `id` and asks the daemon to stop it; true if it was in flight. */
  cancel(id: number): boolean {
    if (!this.pending.delete(id)) return false;
    if (!this.closed) this.send(encodeFrame({ kind: "CANCEL", callId: id }));
    this.updateRef();
    return true;
  }

  /** Bytes from the socket: a view valid during the call only. */
  onData(chunk: Uint8Array): void {
    try {
      this.decoder.feed(chunk, (body) => this.dispatch(body));
    } catch (error) {
      const e = error instanceof SidecarError ? error : new SidecarError("INTERNAL", `the daemon sent a malformed frame: ${(error as Error).message}`);
      this.end(e);
    }
  }

  /**
   * One ServerFrame body. REPLY and STREAM_MESSAGE, nearly every frame, are
   * read in place (no copy of the payload); anything else goes through the
   * generated decoder.
   */
  private dispatch(body: Uint8Array): void {
    const r = this.reader.reset(body, 0, body.length);
    let callId = 0;
    let kind = 0;
    let status = 0;
    let msgStart = 0;
    let msgEnd = 0;
    let payStart = 0;
    let payEnd = 0;
    while (r.pos < body.length) {
      const tag = r.uint32();
      if (tag === 0x08) callId = Number(r.uint64());
      else if (tag === 0x10) kind = r.uint32();
      else if (tag === 0x18) status = r.uint32();
      else if (tag === 0x22) {
        msgEnd = r.sub();
        msgStart = r.pos;
        r.pos = msgEnd;
      } else if (tag === 0x2a) {
        payEnd = r.sub();
        payStart = r.pos;
        r.pos = payEnd;
      } else {
        kind = -1; // something else: the general way
        break;
      }
    }
    if (kind === 3 || kind === 2) {
      const pending = this.pending.get(callId);
      if (!pending) return;
      const payload = body.subarray(payStart, payEnd);
      if (kind === 2) {
        pending.message?.(payload);
        return;
      }
      this.pending.delete(callId);
      this.updateRef();
      if (status === 0) pending.ok(payload);
      else pending.fail(replyError(status, textDecoder.decode(body.subarray(msgStart, msgEnd)), payload));
      return;
    }
    const frame = ServerFrame.decode(body);
    switch (frame.kind) {
      case "REPLY":
      case "STREAM_MESSAGE": {
        const id = Number(frame.callId);
        const pending = this.pending.get(id);
        if (!pending) return;
        if (frame.kind === "STREAM_MESSAGE") {
          pending.message?.(frame.payload);
          return;
        }
        this.pending.delete(id);
        this.updateRef();
        if (frame.statusCode === 0) pending.ok(frame.payload);
        else pending.fail(replyError(frame.statusCode, frame.statusMessage, frame.payload));
        return;
      }
      case "HELLO_ACK":
        this.serverVersion = frame.serverVersion;
        if (frame.maxMessageBytes) this.maxMessageBytes = frame.maxMessageBytes;
        if (frame.maxInflightCalls) this.maxInflightCalls = frame.maxInflightCalls;
        return;
      case "GOAWAY":
        throw new SidecarError(frame.statusCode || 14, `the daemon closed the connection (GOAWAY): ${frame.statusMessage}`);
      default:
        return;
    }
  }

  /** Ends the connection: every call in flight fails with `error`, now. */
  end(error: SidecarError): void {
    if (this.closed) return;
    this.closed = error;
    this.socket.destroy();
    const orphans = [...this.pending.values()];
    this.pending.clear();
    for (const p of orphans) p.fail(error);
  }
}

/** A unary call without a deadline or signal: one object per call. */
class UnaryCall<T> implements Pending {
  constructor(
    private readonly resolve: (value: T) => void,
    readonly fail: (error: SidecarError) => void,
    private readonly decode: (payload: Uint8Array) => T,
  ) {}

  ok(payload: Uint8Array): void {
    let value: T;
    try {
      value = this.decode(payload);
    } catch (error) {
      this.fail(error as SidecarError);
      return;
    }
    this.resolve(value);
  }
}

const RETRYABLE_CONNECT = new Set(["ENOENT", "ECONNREFUSED", "EAGAIN"]);

/** Where a socket's bytes go; the Connection sets `onData` once it exists. */
interface Sink {
  onData(chunk: Uint8Array): void;
}

declare var Bun: unknown;
const readBufferBytes = 64 * 1024;

function connectOnce(path: string, sink: Sink): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // Node reads into one buffer per connection with `onread` (no new
    // Buffer per read); Bun, and a Node without it, emit "data" events.
    const reuse = typeof Bun === "undefined";
    const socket = reuse
      ? createConnection({
          path,
          onread: {
            buffer: new Uint8Array(readBufferBytes),
            callback: (count: number, buffer: Uint8Array) => {
              sink.onData(buffer.subarray(0, count));
              return true;
            },
          },
        })
      : createConnection({ path });
    if (!reuse) socket.on("data", (chunk) => sink.onData(chunk));
    const onError = (error: Error & { code?: string }) => reject(error);
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.removeListener("error", onError);
      resolve(socket);
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Options of the list methods' iterators (`iterImages`, `iterLeases`, `iterRetries`). */
export interface PageOptions {
  /** How many items a page holds at most; 0 or absent: the daemon's default (1,000). */
  pageSize?: number;
}

/** Every item of every page: the next page is asked for when the one before it is used up. */
async function* everyPage<Item>(fetch: (pageToken: string) => Promise<{ items: Item[]; next: string }>): AsyncGenerator<Item, void, undefined> {
  let pageToken = "";
  do {
    const page = await fetch(pageToken);
    yield* page.items;
    pageToken = page.next;
  } while (pageToken !== "");
}

async function collect<Item>(items: AsyncIterable<Item>): Promise<Item[]> {
  const all: Item[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** What `watch` returns: the events as an async iterator; `close()` (or `break`) cancels the stream. */
export interface WatchStream extends AsyncIterableIterator<Event> {
  close(): void;
}

/**
 * The client of sidecard. Calls may run concurrently: they share one
 * connection, opened on first use; a lost connection is opened again by the
 * next call. Every call rejects with `SidecarError`.
 */
export class SidecarClient {
  readonly socketPath: string;
  readonly clientName: string;
  readonly connectRetryMs: number;
  private conn: Connection | undefined;
  private opening: Promise<Connection> | undefined;
  /** Bumped by close(): a connection that was opening then is closed as it opens. */
  private generation = 0;

  constructor(options: SidecarClientOptions = {}) {
    this.socketPath = options.socketPath ?? defaultSocketPath();
    this.clientName = options.clientName ?? "typescript-client";
    this.connectRetryMs = options.connectRetryMs ?? 1500;
  }

  /** The daemon's version from the HELLO_ACK of the current connection ("" before it came). */
  get serverVersion(): string {
    return this.conn?.serverVersion ?? "";
  }

  /** Closes the connection; a later call opens a new one. */
  close(): void {
    this.generation++;
    this.conn?.end(new SidecarError("CANCELLED", "the client was closed"));
    this.conn = undefined;
  }

  private connection(): Connection | Promise<Connection> {
    const c = this.conn;
    if (c && !c.closed) return c;
    this.conn = undefined;
    return (this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    }));
  }

  private async open(): Promise<Connection> {
    const deadline = Date.now() + this.connectRetryMs;
    const generation = this.generation;
    let pause = 10;
    for (;;) {
      try {
        const sink: Sink = { onData: () => {} };
        const socket = await connectOnce(this.socketPath, sink);
        const conn = new Connection(socket, this.socketPath, this.clientName);
        sink.onData = (chunk) => conn.onData(chunk);
        if (generation !== this.generation) conn.end(new SidecarError("CANCELLED", "the client was closed"));
        this.conn = conn;
        return conn;
      } catch (error) {
        const e = error as Error & { code?: string };
        if (!RETRYABLE_CONNECT.has(e.code ?? "") || Date.now() + pause >= deadline) {
          throw SidecarError.unavailable(this.socketPath, e.message);
        }
        await sleep(pause);
        pause = Math.min(pause * 2, 200);
      }
    }
  }

  // ---------------------------------------------------------------- generic calls

  /** Calls a unary method of the schema with a request message. */
  call<Req, Res>(method: MethodDescriptor<Req, Res>, request: Partial<Req>, options?: CallOptions): Promise<Res> {
    const name = method.name;
    const decode = (payload: Uint8Array): Res => {
      try {
        return method.response.decode(payload);
      } catch (error) {
        throw new SidecarError("INTERNAL", `could not decode the answer of ${name}: ${(error as Error).message}`);
      }
    };
    // The request is copied into the outgoing batch before anything else
    // runs, so one scratch buffer serves every call.
    scratch.reset();
    method.request.write(request, scratch);
    return this.unary(name, scratch.finish(), options ?? {}, decode);
  }

  /** Calls a unary method by name with an encoded request; resolves to the encoded response (a copy). */
  rawCall(method: string, payload: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    return this.unary(method, payload, options, (bytes) => bytes.slice());
  }

  private unary<T>(method: string, payload: Uint8Array, options: CallOptions, decode: (payload: Uint8Array) => T): Promise<T> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new SidecarError("CANCELLED", "cancelled by the caller"));
    const c = this.connection();
    if (c instanceof Connection) return this.startUnary(c, method, payload, options, decode);
    // Sent later: the payload may be a view of the scratch buffer, which the
    // next call overwrites.
    payload = payload.slice();
    return c.then((conn) => {
      if (signal?.aborted) throw new SidecarError("CANCELLED", "cancelled by the caller");
      return this.startUnary(conn, method, payload, options, decode);
    });
  }

  private startUnary<T>(
    conn: Connection, method: string, payload: Uint8Array, options: CallOptions, decode: (payload: Uint8Array) => T,
  ): Promise<T> {
    const timeoutMs = wireTimeout(options.timeoutMs);
    const signal = options.signal;
    if (timeoutMs === 0 && !signal) {
      // The common case, kept lean: nothing to clean up.
      return new Promise<T>((resolve, reject) => {
        conn.start(method, payload, 0, new UnaryCall(resolve, reject, decode));
      });
    }
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let onAbort: (() => void) | undefined;
      const settle = () => {
        if (timer !== undefined) clearTimeout(timer);
        if (onAbort) signal!.removeEventListener("abort", onAbort);
      };
      const id = conn.start(method, payload, timeoutMs, {
        ok(bytes) {
          settle();
          try {
            resolve(decode(bytes));
          } catch (error) {
            reject(error);
          }
        },
        fail(error) {
          settle();
          reject(error);
        },
      });
      if (!conn.pending.has(id)) return; // failed at once
      if (timeoutMs > 0) {
        // The daemon enforces the deadline; this catches one that cannot.
        timer = setTimeout(() => {
          if (conn.cancel(id)) {
            settle();
            reject(new SidecarError("DEADLINE_EXCEEDED", `no answer within ${timeoutMs} ms (the daemon did not enforce the deadline)`));
          }
        }, timeoutMs + 1000);
      }
      if (signal) {
        onAbort = () => {
          if (conn.cancel(id)) {
            settle();
            reject(new SidecarError("CANCELLED", "cancelled by the caller"));
          }
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  /**
   * Calls a server-streaming method; the messages come through the
   * returned iterator until the stream ends (done), fails (throws), or is
   * closed. An aborted signal ends it quietly.
   */
  stream<Req, Res>(method: MethodDescriptor<Req, Res>, request: Partial<Req>, options: CallOptions = {}): AsyncIterableIterator<Res> & { close(): void } {
    const queue: Res[] = [];
    const waiters: { resolve(r: IteratorResult<Res>): void; reject(e: unknown): void }[] = [];
    let ended: { error?: SidecarError } | undefined;
    let cancel: (() => void) | undefined;
    const signal = options.signal;
    const finish = (error?: SidecarError) => {
      if (ended) return;
      ended = error ? { error } : {};
      if (signal && onAbort) signal.removeEventListener("abort", onAbort);
      for (const w of waiters.splice(0)) {
        if (error) w.reject(error);
        else w.resolve({ value: undefined, done: true });
      }
    };
    const push = (value: Res) => {
      const w = waiters.shift();
      if (w) w.resolve({ value, done: false });
      else queue.push(value);
    };
    const close = () => {
      cancel?.();
      finish();
    };
    const onAbort = () => close();
    if (signal?.aborted) finish();
    else {
      signal?.addEventListener("abort", onAbort, { once: true });
      const payload = method.request.encode(request);
      Promise.resolve(this.connection()).then(
        (conn) => {
          if (ended) return;
          const id = conn.start(method.name, payload, wireTimeout(options.timeoutMs), {
            message(bytes) {
              try {
                push(method.response.decode(bytes));
              } catch (error) {
                conn.cancel(id);
                finish(new SidecarError("INTERNAL", `could not decode a message of ${method.name}: ${(error as Error).message}`));
              }
            },
            ok() {
              finish();
            },
            fail(error) {
              finish(error);
            },
          });
          cancel = () => conn.cancel(id);
        },
        (error) => finish(error as SidecarError),
      );
    }
    const iterator = {
      next(): Promise<IteratorResult<Res>> {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
        if (ended) {
          if (ended.error) {
            const error = ended.error;
            ended = {}; // thrown once; then done
            return Promise.reject(error);
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise<IteratorResult<Res>>((resolve, reject) => waiters.push({ resolve, reject }));
      },
      return(): Promise<IteratorResult<Res>> {
        close();
        queue.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      close,
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator as AsyncIterableIterator<Res> & { close(): void };
  }

  // ---------------------------------------------------------------- methods

  /**
   * Liveness and load of the daemon. In fleet mode (docs/fleet.md) also
   * `fleetState` ("connecting", "connected" or "degraded"; "" when off),
   * `fleetHostId`, and while degraded `fleetReason` and
   * `fleetDegradedSinceUnixMs`; with fleet builds (fleet.registry)
   * `fleetClaims`, the images whose build claim this host holds ("NAME
   * (epoch N)"), and `fleetWaits`, those it waits on another host for
   * ("NAME (claimed by HOST)"), both `[]` outside fleet mode.
   */
  health(options?: CallOptions): Promise<HealthResponse> {
    return this.call(methods.Health, {}, options);
  }

  /**
   * Makes sure `image` (a config name or a reference) is present: at once
   * when it is, else after the one build or pull every concurrent caller
   * joins. With `leaseHolder`, a lease of `leaseTtlSeconds` comes with the
   * answer. A failed build or pull rejects as its classification says:
   * UNAVAILABLE when a later try may work (`detail.retryAfterSeconds` says
   * when), NOT_FOUND (the image or repository does not exist) or
   * FAILED_PRECONDITION (credentials, TLS, ...) when it is permanent, each
   * with `detail` (category, permanent, remedy naming the reference).
   */
  ensureImage(
    image: string,
    options: CallOptions & { leaseHolder?: string; leaseTtlSeconds?: number; leaseHolderPid?: number } = {},
  ): Promise<EnsureImageResponse> {
    const { leaseHolder, leaseTtlSeconds, leaseHolderPid } = options;
    const bound = leaseHolderPid ? { leaseHolderPid, leaseHolderStartTime: processStartTime(leaseHolderPid) } : {};
    return this.call(methods.EnsureImage, { image, leaseHolder, leaseTtlSeconds, ...bound }, options);
  }

  /**
   * The images the daemon knows (presence, state, last job, back-off), by
   * name: every page, each with `options` (`timeoutMs` is each page's).
   */
  listImages(options?: CallOptions): Promise<ImageInfo[]> {
    return collect(this.iterImages(options));
  }

  /** The images, by name, a page at a time: `for await (const image of client.iterImages())`. */
  iterImages(options: CallOptions & PageOptions = {}): AsyncGenerator<ImageInfo, void, undefined> {
    return everyPage(async (pageToken) => {
      const page = await this.call(methods.ListImages, { pageSize: options.pageSize, pageToken }, options);
      return { items: page.images, next: page.nextPageToken };
    });
  }

  /**
   * Takes or renews (same holder) a lease that keeps `target` from prune,
   * eviction and repair. With `holderPid` it also ends when that process
   * does (its start time is read from /proc), and `ttlSeconds: 0` sets no
   * time limit.
   */
  acquireLease(lease: { target: string; holder: string; ttlSeconds: number; holderPid?: number }, options?: CallOptions): Promise<Lease> {
    const { holderPid, ...rest } = lease;
    const bound = holderPid ? { holderPid, holderStartTime: processStartTime(holderPid) } : {};
    return this.call(methods.AcquireLease, { ...rest, ...bound }, options);
  }

  /** Ends a lease before its TTL; an unknown id rejects NOT_FOUND. */
  async releaseLease(id: string, options?: CallOptions): Promise<void> {
    await this.call(methods.ReleaseLease, { id }, options);
  }

  /** The leases held now (a caller not an admin: its own), by id: every page. */
  listLeases(options?: CallOptions): Promise<Lease[]> {
    return collect(this.iterLeases(options));
  }

  /** The leases, by id, a page at a time. */
  iterLeases(options: CallOptions & PageOptions = {}): AsyncGenerator<Lease, void, undefined> {
    return everyPage(async (pageToken) => {
      const page = await this.call(methods.ListLeases, { pageSize: options.pageSize, pageToken }, options);
      return { items: page.leases, next: page.nextPageToken };
    });
  }

  /** Checks a SQLite file host-side, read-only (`full`: integrity_check instead of quick_check). */
  checkDb(path: string, options: CallOptions & { full?: boolean; maxErrors?: number } = {}): Promise<CheckDbResponse> {
    return this.call(methods.CheckDb, { path, mode: options.full ? "FULL" : "QUICK", maxErrors: options.maxErrors }, options);
  }

  /**
   * Reports a SQLite error (`error` text or `sqliteCode`) or, with `ok`, a
   * success, seen by `clientId` on `path`. `action` says: CONTINUE,
   * EXIT_TEMPFAIL (exit 75, be respawned) or CORRUPT (stop; see `remedy`).
   * Not safe to repeat blindly: each report counts toward the streak.
   */
  reportDbError(
    report: { path: string; clientId: string; error?: string; sqliteCode?: number; ok?: boolean },
    options?: CallOptions,
  ): Promise<ReportDbErrorResponse> {
    return this.call(
      methods.ReportDbError,
      { path: report.path, clientId: report.clientId, message: report.error, sqliteCode: report.sqliteCode, ok: report.ok },
      options,
    );
  }

  /**
   * May this failed operation be retried, and when? `decision`: GRANTED
   * (wait `delaySeconds`), DENIED_PERMANENT (`category`, `remedy`),
   * EXHAUSTED, THROTTLED (`retryAfterSeconds`). Each call may take an attempt.
   * In fleet mode, `answeredLocally` is true when the fleet's ledger was
   * unreachable and this host decided alone (the fleet-wide cap may then be
   * overshot); always false outside fleet mode.
   */
  reserveRetrySlot(
    request: { key: string; error: string; policy?: string; exitCode?: number; image?: string },
    options?: CallOptions,
  ): Promise<ReserveRetrySlotResponse> {
    return this.call(
      methods.ReserveRetrySlot,
      { key: request.key, lastError: request.error, policy: request.policy, exitCode: request.exitCode, image: request.image },
      options,
    );
  }

  /** Reports how a granted attempt ended. */
  async completeAttempt(report: { key: string; success: boolean; error?: string }, options?: CallOptions): Promise<void> {
    await this.call(methods.CompleteAttempt, report, options);
  }

  /**
   * The retry keys the daemon tracks (a caller not an admin: its own), by
   * key, of one `state` ("active", "failed", "exhausted", "succeeded") and
   * key prefix when given: every page.
   */
  listRetries(filter: { state?: string; keyPrefix?: string } = {}, options?: CallOptions): Promise<RetryInfo[]> {
    return collect(this.iterRetries(filter, options));
  }

  /** The retry keys, by key, a page (`filter.pageSize` at most) at a time. */
  iterRetries(
    filter: { state?: string; keyPrefix?: string } & PageOptions = {},
    options?: CallOptions,
  ): AsyncGenerator<RetryInfo, void, undefined> {
    const { state, keyPrefix, pageSize } = filter;
    return everyPage(async (pageToken) => {
      const page = await this.call(methods.ListRetries, { state, keyPrefix, pageSize, pageToken }, options);
      return { items: page.retries, next: page.nextPageToken };
    });
  }

  /** The retry policies the daemon runs with, sorted by name. */
  async listPolicies(options?: CallOptions): Promise<RetryPolicyInfo[]> {
    return (await this.call(methods.ListPolicies, {}, options)).policies;
  }

  /** (admin) Forgets a retry key: its attempts, failure mark and history. */
  async resetRetry(key: string, options?: CallOptions): Promise<void> {
    await this.call(methods.ResetRetry, { key }, options);
  }

  /**
   * Category, permanent or not, a remedy and, when transient,
   * `retryAfterSeconds` (0: no advice) for an error message (and/or exit
   * code, SQLite code). `image`: the reference the failed operation used;
   * the remedy names it (it is never read from the message).
   */
  classify(
    message: string,
    options: CallOptions & { exitCode?: number; sqliteCode?: number; image?: string } = {},
  ): Promise<ClassifyResponse> {
    return this.call(
      methods.Classify,
      { message, exitCode: options.exitCode, sqliteCode: options.sqliteCode, image: options.image },
      options,
    );
  }

  /** The classification rules in matching order: the config's, then the built-in ones. */
  async listRules(options?: CallOptions): Promise<RuleInfo[]> {
    return (await this.call(methods.ListRules, {}, options)).rules;
  }

  /** The daemon's metrics, Prometheus text format, in `text`. */
  metrics(options?: CallOptions): Promise<MetricsResponse> {
    return this.call(methods.Metrics, {}, options);
  }

  /** (admin) Removes images neither leased, keep_warm nor used lately; `dryRun` only says what. */
  prune(options: CallOptions & { dryRun?: boolean } = {}): Promise<PruneResponse> {
    return this.call(methods.Prune, { dryRun: options.dryRun }, options);
  }

  /**
   * (admin) Re-hashes every blob of every present image (OCI layout backend) and repairs what it
   * finds damaged; resolves when that is done. FAILED_PRECONDITION on backends without blobs.
   */
  scrub(options?: CallOptions): Promise<ScrubResponse> {
    return this.call(methods.Scrub, {}, options);
  }

  /** (admin) Re-reads the daemon's config file, like SIGHUP. */
  reload(options?: CallOptions): Promise<ReloadResponse> {
    return this.call(methods.Reload, {}, options);
  }

  /** Debug.Sleep (a daemon with `debug_methods = true`): answers after `milliseconds`. */
  debugSleep(milliseconds: number, options?: CallOptions): Promise<SleepResponse> {
    return this.call(methods["Debug.Sleep"], { milliseconds }, options);
  }

  /**
   * Events whose topic starts with one of `topicPrefixes` (all when empty),
   * as they happen, until `signal` aborts, `close()` or `break`, the
   * deadline (`timeoutMs`: rejects DEADLINE_EXCEEDED) or the daemon's end
   * (rejects UNAVAILABLE).
   */
  watch(topicPrefixes: string[] = [], options: CallOptions = {}): WatchStream {
    return this.stream(methods.Watch, { topics: topicPrefixes }, options);
  }
}

function wireTimeout(ms: number | undefined): number {
  if (ms === undefined || ms <= 0 || !Number.isFinite(ms)) return 0;
  return Math.min(Math.ceil(ms), 0xffffffff);
}

/**
 * Field 22 of /proc/PID/stat, clock ticks after boot: with the pid it names
 * one process, never a later one that got the pid again (Linux). The
 * command name before it is in parentheses and may hold either.
 */
export function processStartTime(pid: number): bigint {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return BigInt(stat.slice(stat.lastIndexOf(")") + 1).trim().split(/\s+/)[19]);
}
