// Seed 001: an agent's poll loop over a SQLite file. Each SQLite error is
// reported to the daemon, which counts them per (client, file): past the
// threshold it checks the file host-side. Intact: the view inside is torn
// (a stale mount), so exit 75 (EX_TEMPFAIL) and be respawned with a fresh
// one. Damaged: stop with the remedy; respawning will not help.
//
//   node dist/examples/db-poll-loop.js --db PATH --client ID [--interval-ms N] [--polls N] -- COMMAND...
//
// COMMAND is one poll (e.g. sqlite3 PATH "SELECT ..."); its stderr is the
// error. Exits 0 after --polls good polls, 75 on EXIT_TEMPFAIL, 65 on
// CORRUPT (the remedy on stderr), 69 when the sidecar cannot be reached.
import { spawnSync } from "node:child_process";
import { SidecarClient, SidecarError } from "../src/index.js";

export type PollEnd = { exit: 0 } | { exit: 75; remedy: string } | { exit: 65; remedy: string };

/**
 * Polls with `poll` (resolves: a good poll; rejects with the SQLite error)
 * until `polls` good polls, or the daemon says to stop.
 */
export async function pollLoop(options: {
  client: SidecarClient;
  path: string;
  clientId: string;
  poll: () => Promise<void>;
  intervalMs?: number;
  polls?: number;
  log?: (line: string) => void;
}): Promise<PollEnd> {
  const { client, path, clientId, poll } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  let good = 0;
  let failing = false;
  while (options.polls === undefined || good < options.polls) {
    try {
      await poll();
      good++;
      // A success ends the streak; only worth saying after a failure.
      if (failing) await client.reportDbError({ path, clientId, ok: true });
      failing = false;
    } catch (error) {
      failing = true;
      const text = String((error as Error).message ?? error);
      const answer = await client.reportDbError({ path, clientId, error: text });
      log(`poll failed (${answer.streak}/${answer.threshold}): ${text} -> ${answer.action}`);
      if (answer.action === "EXIT_TEMPFAIL") return { exit: 75, remedy: answer.remedy };
      if (answer.action === "CORRUPT") return { exit: 65, remedy: answer.remedy };
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
  }
  return { exit: 0 };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const split = args.indexOf("--");
  const flags = args.slice(0, split < 0 ? args.length : split);
  const command = split < 0 ? [] : args.slice(split + 1);
  const flag = (name: string) => {
    const i = flags.indexOf(name);
    return i >= 0 ? flags[i + 1] : undefined;
  };
  const path = flag("--db");
  const clientId = flag("--client");
  if (!path || !clientId || command.length === 0) {
    process.stderr.write("usage: db-poll-loop.js --db PATH --client ID [--interval-ms N] [--polls N] -- COMMAND...\n");
    return 64;
  }
  const client = new SidecarClient({ clientName: "db-poll-loop-example" });
  const poll = async () => {
    const run = spawnSync(command[0], command.slice(1), { encoding: "utf8" });
    if (run.error) throw run.error;
    if (run.status !== 0) throw new Error(run.stderr.trim() || `exit ${run.status}`);
  };
  try {
    const end = await pollLoop({
      client, path, clientId, poll,
      intervalMs: Number(flag("--interval-ms") ?? 500),
      polls: flag("--polls") === undefined ? undefined : Number(flag("--polls")),
    });
    if (end.exit === 75) process.stderr.write(`${path} is intact host-side: this view of it is torn; exiting 75 to be respawned\n`);
    if (end.exit === 65) process.stderr.write(`${path} is really corrupt: ${end.remedy}\n`);
    return end.exit;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return error instanceof SidecarError && error.code === "UNAVAILABLE" ? 69 : 1;
  } finally {
    client.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then((code) => process.exit(code));
}
