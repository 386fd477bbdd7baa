// Test support: a real sidecard on a socket in a temp folder, the image
// store fixture (Tests/Fixtures/image_store.sh) and the SQLite fixture.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, existsSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "../../..");
export const sidecardPath = process.env.SIDECARD ?? join(repoRoot, ".build/debug/sidecard");
export const imageStoreScript = join(repoRoot, "Tests/Fixtures/image_store.sh");
export const sqliteFixture = join(repoRoot, "Tests/Fixtures/sqlite_fixture.py");
// The system python: the one with python3-protobuf and sqlite3.
export const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** Polls `condition` every 10 ms until it holds; false after `timeoutMs`. */
export async function eventually(condition, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return !!(await condition());
}

export class Daemon {
  /**
   * images: names of images the command backend builds (in `store`);
   * extra: more TOML after the base config (debug methods on, DB roots).
   */
  constructor({ images = [], builds = {}, extra = "", databases = "", dir } = {}) {
    // Short: a Unix socket path holds 107 bytes at most.
    this.dir = dir ?? mkdtempSync("/tmp/sc-ts-");
    this.socketPath = join(this.dir, "sidecar.sock");
    this.store = join(this.dir, "store");
    this.dbRoot = join(this.dir, "data");
    this.configPath = join(this.dir, "sidecar.toml");
    this.logPath = join(this.dir, "sidecard.log");
    mkdirSync(this.store, { recursive: true });
    mkdirSync(this.dbRoot, { recursive: true });
    let config = `debug_methods = true\n${extra}\n[databases]\nroots = ["${this.dbRoot}"]\n${databases}\n`;
    if (images.length > 0) {
      config += `[images]\nbackend = "command"\n[images.command]\n`;
      config += `exists = ["${imageStoreScript}", "exists", "${this.store}", "{name}"]\n`;
      config += `remove = ["${imageStoreScript}", "remove", "${this.store}", "{name}"]\npull = []\n`;
      for (const name of images) {
        // builds[name]: an argv of the test's own, instead of the fixture's build.
        const build = builds[name] ?? [imageStoreScript, "build", this.store, name];
        config += `[[images.image]]\nname = "${name}"\nref = "localhost/${name}:latest"\n`;
        config += `build = [${build.map((a) => JSON.stringify(a)).join(", ")}]\n`;
      }
    }
    writeFileSync(this.configPath, config);
  }

  /** Starts sidecard and waits until its socket answers. */
  async start() {
    const { openSync } = await import("node:fs");
    const log = openSync(this.logPath, "a");
    this.process = spawn(sidecardPath, ["--config", this.configPath, "--socket", this.socketPath, "--state-dir", join(this.dir, "state")], {
      stdio: ["ignore", log, log],
    });
    this.exited = new Promise((r) => this.process.once("exit", (code, signal) => r({ code, signal })));
    const ready = await eventually(async () => {
      if (this.process.exitCode !== null) throw new Error(`sidecard exited: ${this.log()}`);
      return existsSync(this.socketPath) && (await canConnect(this.socketPath));
    }, 10000);
    if (!ready) throw new Error(`sidecard did not answer on ${this.socketPath}: ${this.log()}`);
    return this;
  }

  log() {
    try {
      return readFileSync(this.logPath, "utf8");
    } catch {
      return "";
    }
  }

  /** SIGKILL, and waits until it is gone. */
  async kill() {
    if (this.process && this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill("SIGKILL");
      await this.exited;
    }
  }

  async stop() {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // The image store fixture.
  setFlag(name, flag, content = "") {
    writeFileSync(join(this.store, `${name}.${flag}`), content);
  }
  clearFlag(name, flag) {
    rmSync(join(this.store, `${name}.${flag}`), { force: true });
  }
  isPresent(name) {
    return existsSync(join(this.store, name));
  }
  removeImage(name) {
    rmSync(join(this.store, name), { force: true });
  }
  builds(name) {
    const path = join(this.store, "builds.log");
    if (!existsSync(path)) return 0;
    return readFileSync(path, "utf8").split("\n").filter((l) => l === `start ${name}`).length;
  }

  /** A healthy SQLite file of `rows` rows under the roots. */
  makeDatabase(name, rows = 500) {
    const path = join(this.dbRoot, name);
    const made = spawnSync(python, [sqliteFixture, "healthy", path, String(rows)], { encoding: "utf8" });
    if (made.status !== 0) throw new Error(`sqlite fixture failed: ${made.stderr}`);
    return path;
  }
}

async function canConnect(path) {
  const net = await import("node:net");
  return new Promise((resolve) => {
    const s = net.createConnection({ path });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
