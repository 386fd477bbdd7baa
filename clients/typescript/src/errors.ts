import type { ErrorDetail } from "./generated/sidecar.js";

/** The gRPC status codes, by number. */
export const STATUS_NAMES: Record<number, string> = {
  0: "OK",
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  15: "DATA_LOSS",
  16: "UNAUTHENTICATED",
};

export type StatusName =
  | "OK" | "CANCELLED" | "UNKNOWN" | "INVALID_ARGUMENT" | "DEADLINE_EXCEEDED" | "NOT_FOUND"
  | "ALREADY_EXISTS" | "PERMISSION_DENIED" | "RESOURCE_EXHAUSTED" | "FAILED_PRECONDITION" | "ABORTED"
  | "OUT_OF_RANGE" | "UNIMPLEMENTED" | "INTERNAL" | "UNAVAILABLE" | "DATA_LOSS" | "UNAUTHENTICATED";

/**
 * Every failure of a call: `code` is the gRPC status name, `message` the
 * daemon's (or the client's) reason, `detail` the ErrorDetail a failed
 * REPLY carried (category, permanent, remedy, retryAfterSeconds), if any.
 */
export class SidecarError extends Error {
  readonly code: StatusName;
  readonly statusCode: number;
  readonly detail?: ErrorDetail;

  constructor(code: StatusName | number, message: string, detail?: ErrorDetail) {
    const name = typeof code === "number" ? ((STATUS_NAMES[code] ?? `UNKNOWN`) as StatusName) : code;
    super(message ? `${name}: ${message}` : name);
    this.name = "SidecarError";
    this.code = name;
    this.statusCode = typeof code === "number" ? code : Number(Object.keys(STATUS_NAMES).find((k) => STATUS_NAMES[+k] === name) ?? 2);
    // The message without the code prefix, as the daemon said it.
    Object.defineProperty(this, "message", { value: message, enumerable: false, writable: true });
    if (detail) this.detail = detail;
  }

  override toString(): string {
    return `SidecarError ${this.code}: ${this.message}`;
  }

  /** The daemon at `socket` cannot be reached. */
  static unavailable(socket: string, reason: string): SidecarError {
    return new SidecarError("UNAVAILABLE", `sidecar not reachable at ${socket}: ${reason}`);
  }
}
