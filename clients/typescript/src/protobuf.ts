// The protobuf wire format, just what the generated codec
// (generated/sidecar.ts) needs: varints (32 and 64 bits), fixed 32/64,
// length-delimited fields, and skipping fields it does not know.

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

const TWO_32 = 4294967296;

// Scratch for reading fixed-width numbers without a DataView per message.
const scratch = new ArrayBuffer(8);
const scratchBytes = new Uint8Array(scratch);
const scratchF64 = new Float64Array(scratch);
const scratchF32 = new Float32Array(scratch);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A 64-bit value: a number when it fits in 53 bits, else a bigint. */
export type Int64 = number | bigint;

export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtobufError";
  }
}

/** Appends protobuf fields to a growing byte buffer. */
export class Writer {
  buf: Uint8Array;
  pos = 0;
  private dataView: DataView | undefined;

  constructor(initial = 64) {
    this.buf = new Uint8Array(initial);
  }

  private get view(): DataView {
    return (this.dataView ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  /** Makes room for `need` more bytes. */
  grow(need: number): void {
    if (this.pos + need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dataView = undefined;
  }

  /** Starts over, keeping the buffer. */
  reset(): void {
    this.pos = 0;
  }

  /** Appends raw bytes (no length). */
  raw(bytes: Uint8Array): void {
    this.grow(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  /** A varint of a non-negative number below 2^32. */
  uint32(value: number): void {
    this.grow(5);
    const buf = this.buf;
    value >>>= 0;
    while (value > 0x7f) {
      buf[this.pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[this.pos++] = value;
  }

  /** int32 and enums: a negative value takes 10 bytes (sign-extended). */
  int32(value: number): void {
    if (value >= 0) this.uint32(value);
    else this.varint64(value < 0 ? BigInt.asUintN(64, BigInt(value)) : BigInt(value));
  }

  /** int64/uint64 from a number (integral) or a bigint. */
  int64(value: Int64): void {
    if (typeof value === "number") {
      if (value >= 0 && value < TWO_32) return this.uint32(value);
      value = BigInt(Math.trunc(value));
    }
    this.varint64(BigInt.asUintN(64, value));
  }

  private varint64(value: bigint): void {
    this.grow(10);
    let lo = Number(value & 0xffffffffn);
    let hi = Number(value >> 32n);
    const buf = this.buf;
    while (hi > 0 || lo > 0x7f) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  uint8(value: number): void {
    this.grow(1);
    this.buf[this.pos++] = value;
  }

  bool(value: boolean): void {
    this.grow(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  double(value: number): void {
    this.grow(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  float(value: number): void {
    this.grow(4);
    this.view.setFloat32(this.pos, value, true);
    this.pos += 4;
  }

  fixed32(value: number): void {
    this.grow(4);
    this.view.setUint32(this.pos, value >>> 0, true);
    this.pos += 4;
  }

  fixed64(value: Int64): void {
    const v = BigInt.asUintN(64, BigInt(value));
    this.grow(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }

  bytes(value: Uint8Array): void {
    this.uint32(value.length);
    this.grow(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  string(value: string): void {
    // Short ASCII strings (method names, keys) skip TextEncoder.
    const n = value.length;
    if (n < 128) {
      let ascii = true;
      for (let i = 0; i < n; i++) {
        if (value.charCodeAt(i) > 0x7f) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.grow(n + 1);
        const buf = this.buf;
        buf[this.pos++] = n;
        for (let i = 0; i < n; i++) buf[this.pos++] = value.charCodeAt(i);
        return;
      }
    }
    this.bytes(encoder.encode(value));
  }

  /** A length-delimited submessage written by `body`. */
  message(body: (w: Writer) => void): void {
    const inner = new Writer(64);
    body(inner);
    this.bytes(inner.finish());
  }
}

/** Reads protobuf fields from a byte range. */
export class Reader {
  pos: number;
  private view: DataView | undefined;
  buf: Uint8Array;
  end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** Reads another range (decoding is synchronous, so one reader can serve them all in turn). */
  reset(buf: Uint8Array, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.view = undefined;
    return this;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  private dataView(): DataView {
    return (this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  private need(count: number): void {
    if (this.pos + count > this.end) throw new ProtobufError("truncated message");
  }

  /** A varint as an unsigned 32-bit number (higher bits dropped, as protobuf does for 32-bit fields). */
  uint32(): number {
    const buf = this.buf;
    let value = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError("truncated varint");
      const b = buf[this.pos++];
      if (shift < 32) value |= (b & 0x7f) << shift;
      shift += 7;
      if (b < 0x80) return value >>> 0;
    }
    throw new ProtobufError("varint longer than 10 bytes");
  }

  int32(): number {
    return this.uint32() | 0;
  }

  /** A varint as 64 bits: a number when it fits in 53 bits, else a bigint. */
  uint64(): Int64 {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError("truncated varint");
      const b = buf[this.pos++];
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      shift += 7;
      if (b < 0x80) {
        lo >>>= 0;
        hi >>>= 0;
        if (hi < 0x200000) return hi * TWO_32 + lo;
        return (BigInt(hi) << 32n) | BigInt(lo);
      }
    }
    throw new ProtobufError("varint longer than 10 bytes");
  }

  /** A varint as a signed 64-bit value. */
  int64(): Int64 {
    const v = this.uint64();
    if (typeof v === "number") return v;
    const signed = BigInt.asIntN(64, v);
    return signed >= -9007199254740991n && signed <= 9007199254740991n ? Number(signed) : signed;
  }

  bool(): boolean {
    return this.uint64() !== 0;
  }

  double(): number {
    this.need(8);
    const buf = this.buf;
    const p = this.pos;
    if (littleEndian) for (let i = 0; i < 8; i++) scratchBytes[i] = buf[p + i];
    else for (let i = 0; i < 8; i++) scratchBytes[7 - i] = buf[p + i];
    this.pos = p + 8;
    return scratchF64[0];
  }

  float(): number {
    this.need(4);
    const buf = this.buf;
    const p = this.pos;
    if (littleEndian) for (let i = 0; i < 4; i++) scratchBytes[i] = buf[p + i];
    else for (let i = 0; i < 4; i++) scratchBytes[3 - i] = buf[p + i];
    this.pos = p + 4;
    return scratchF32[0];
  }

  fixed32(): number {
    this.need(4);
    const v = this.dataView().getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  fixed64(): Int64 {
    this.need(8);
    const v = this.dataView().getBigUint64(this.pos, true);
    this.pos += 8;
    return v <= 9007199254740991n ? Number(v) : v;
  }

  /** The [start, end) of a length-delimited field's content. */
  delimited(): [number, number] {
    const length = this.uint32();
    this.need(length);
    const start = this.pos;
    this.pos += length;
    return [start, this.pos];
  }

  /** Reads a length and returns where that submessage ends. */
  sub(): number {
    const length = this.uint32();
    this.need(length);
    return this.pos + length;
  }

  bytes(): Uint8Array {
    const [start, end] = this.delimited();
    return this.buf.slice(start, end);
  }

  string(): string {
    const [start, end] = this.delimited();
    const buf = this.buf;
    if (end - start < 64) {
      let s = "";
      for (let i = start; i < end; i++) {
        const c = buf[i];
        if (c > 0x7f) return decoder.decode(buf.subarray(start, end));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return decoder.decode(buf.subarray(start, end));
  }

  /** Skips a field of `wireType` whose tag was just read. */
  skip(wireType: number, field = 0): void {
    switch (wireType) {
      case 0:
        this.uint64();
        return;
      case 1:
        this.need(8);
        this.pos += 8;
        return;
      case 2:
        this.delimited();
        return;
      case 3: // a group: skip to its end tag
        for (;;) {
          const tag = this.uint32();
          if ((tag & 7) === 4) {
            if (tag >>> 3 !== field) throw new ProtobufError("mismatched group end");
            return;
          }
          this.skip(tag & 7, tag >>> 3);
        }
      case 5:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new ProtobufError(`invalid wire type ${wireType}`);
    }
  }
}
