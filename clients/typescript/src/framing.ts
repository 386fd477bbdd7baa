// The frames: a 4-byte big-endian length, then that many bytes of body.
import { ClientFrame, ServerFrame } from "./generated/sidecar.js";

/** A ClientFrame with its length prefix. */
export function encodeFrame(frame: Partial<ClientFrame>): Uint8Array {
  const body = ClientFrame.encode(frame);
  const out = new Uint8Array(4 + body.length);
  const n = body.length;
  out[0] = n >>> 24;
  out[1] = (n >>> 16) & 0xff;
  out[2] = (n >>> 8) & 0xff;
  out[3] = n & 0xff;
  out.set(body, 4);
  return out;
}

/**
 * Cuts a byte stream into frame bodies, however the stream is split. Bodies
 * are views into the buffer they came in, valid during the callback; a
 * chunk is not kept after `feed` returns (a partial frame is copied).
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private held = 0;
  /** The bytes needed before parsing again: 4 for a header, else header + body. */
  private need = 4;

  constructor(readonly maxBodyBytes = 256 * 1024 * 1024) {}

  /** Feeds a chunk; calls `onBody` for every complete body. Throws on a body over the limit. */
  feed(chunk: Uint8Array, onBody: (body: Uint8Array) => void): void {
    let buf = chunk;
    if (this.held > 0) {
      // A large frame arrives in many chunks: gather them until it is whole.
      this.chunks.push(chunk.slice()); // the caller may reuse its buffer
      this.held += chunk.length;
      if (this.held < this.need) return;
      buf = new Uint8Array(this.held);
      let offset = 0;
      for (const c of this.chunks) {
        buf.set(c, offset);
        offset += c.length;
      }
      this.chunks = [];
      this.held = 0;
    }
    let pos = 0;
    this.need = 4;
    while (buf.length - pos >= 4) {
      const length = ((buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]) >>> 0;
      if (length > this.maxBodyBytes) throw new Error(`a frame of ${length} bytes is over the limit of ${this.maxBodyBytes}`);
      if (buf.length - pos - 4 < length) {
        this.need = 4 + length;
        break;
      }
      onBody(buf.subarray(pos + 4, pos + 4 + length));
      pos += 4 + length;
    }
    if (pos < buf.length) {
      this.chunks = [buf.slice(pos)];
      this.held = buf.length - pos;
    }
  }

  /** Bytes held of a frame not complete yet. */
  get buffered(): number {
    return this.held;
  }
}

/** Decodes every ServerFrame in `bytes` (whole frames), for tests and tools. */
export function decodeServerFrames(bytes: Uint8Array): ServerFrame[] {
  const frames: ServerFrame[] = [];
  new FrameDecoder().feed(bytes, (body) => frames.push(ServerFrame.decode(body)));
  return frames;
}
