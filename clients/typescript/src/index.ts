export { SidecarClient, defaultSocketPath, processStartTime } from "./client.js";
export type { CallOptions, PageOptions, SidecarClientOptions, WatchStream } from "./client.js";
export { SidecarError, STATUS_NAMES } from "./errors.js";
export type { StatusName } from "./errors.js";
export { FrameDecoder, encodeFrame } from "./framing.js";
export * from "./generated/sidecar.js";
/** `Event` under a name that does not shadow the DOM's. */
export type { Event as SidecarEvent } from "./generated/sidecar.js";
