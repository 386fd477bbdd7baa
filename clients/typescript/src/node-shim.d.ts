// The few Node APIs this package uses, declared here because Debian ships
// no @types/node. Only for compiling the package; the emitted declarations
// do not depend on it. (Bun implements the same APIs.)
declare module "node:net" {
  export interface Socket {
    write(data: Uint8Array): boolean;
    end(): void;
    destroy(error?: Error): void;
    setNoDelay(noDelay?: boolean): this;
    unref(): this;
    ref(): this;
    readonly destroyed: boolean;
    on(event: "data", listener: (chunk: Uint8Array) => void): this;
    on(event: "connect", listener: () => void): this;
    on(event: "close", listener: (hadError: boolean) => void): this;
    on(event: "error", listener: (error: Error & { code?: string }) => void): this;
    once(event: "connect", listener: () => void): this;
    once(event: "error", listener: (error: Error & { code?: string }) => void): this;
    removeListener(event: string, listener: (...args: any[]) => void): this;
  }
  export function createConnection(options: {
    path: string;
    onread?: { buffer: Uint8Array; callback(count: number, buffer: Uint8Array): boolean };
  }): Socket;
}

declare module "node:fs" {
  export function existsSync(path: string): boolean;
  export function readFileSync(path: string, encoding: "latin1"): string;
}

declare var process: {
  env: Record<string, string | undefined>;
  argv: string[];
  exitCode: number | undefined;
  exit(code?: number): never;
  hrtime: { bigint(): bigint };
  stdout: { write(text: string): boolean };
  stderr: { write(text: string): boolean };
};

declare module "node:child_process" {
  export function spawnSync(
    command: string,
    args: string[],
    options: { encoding: "utf8"; env?: Record<string, string | undefined> },
  ): { status: number | null; stdout: string; stderr: string; error?: Error };
}
