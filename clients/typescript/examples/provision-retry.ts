// Seed 003: a provisioning step retried through the daemon's ledger. A
// permanent error (ErrImageNeverPull: the image is not on the host and
// pulls are forbidden) stops at the first failure with the remedy, instead
// of two hours of pods failing the same way; a transient one waits the
// delay the daemon grants and tries again, until the policy's cap
// (EXHAUSTED).
//
//   node dist/examples/provision-retry.js --key KEY [--policy NAME] -- COMMAND...
//
// COMMAND is one attempt (e.g. start the pod); its stderr is the error.
// Exit 0 when an attempt succeeded, 1 when denied or exhausted (the reason
// and the remedy on stderr), 69 when the sidecar cannot be reached.
import { spawnSync } from "node:child_process";
import { SidecarClient, SidecarError } from "../src/index.js";
import type { ReserveRetrySlotResponse } from "../src/index.js";

export type ProvisionEnd =
  | { ok: true; attempts: number }
  | { ok: false; decision: ReserveRetrySlotResponse };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `attempt` until it succeeds or the ledger says stop. */
export async function provisionWithRetry(options: {
  client: SidecarClient;
  key: string;
  policy?: string;
  attempt: () => Promise<void>;
  log?: (line: string) => void;
}): Promise<ProvisionEnd> {
  const { client, key, policy, attempt } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  let granted = false;
  for (let runs = 1; ; runs++) {
    let error: string;
    try {
      await attempt();
      if (granted) await client.completeAttempt({ key, success: true });
      return { ok: true, attempts: runs };
    } catch (e) {
      error = String((e as Error).message ?? e);
    }
    if (granted) await client.completeAttempt({ key, success: false, error });
    for (;;) {
      const decision = await client.reserveRetrySlot({ key, error, policy });
      switch (decision.decision) {
        case "GRANTED":
          log(`attempt ${decision.attempt} failed: ${error}; retrying in ${decision.delaySeconds.toFixed(3)} s`);
          await sleep(decision.delaySeconds * 1000);
          granted = true;
          break;
        case "THROTTLED":
          log(`throttled; asking again in ${decision.retryAfterSeconds} s`);
          await sleep(decision.retryAfterSeconds * 1000);
          continue;
        case "DENIED_PERMANENT":
          log(`permanent failure (${decision.category}), not retrying: ${error}`);
          log(`remedy: ${decision.remedy}`);
          return { ok: false, decision };
        default:
          log(`gave up after ${decision.attempts} retries (${decision.decision}); first error: ${decision.firstError}; last: ${decision.lastError}`);
          return { ok: false, decision };
      }
      break;
    }
  }
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
  const key = flag("--key");
  if (!key || command.length === 0) {
    process.stderr.write("usage: provision-retry.js --key KEY [--policy NAME] -- COMMAND...\n");
    return 64;
  }
  const client = new SidecarClient({ clientName: "provision-retry-example" });
  const attempt = async () => {
    const run = spawnSync(command[0], command.slice(1), { encoding: "utf8" });
    if (run.error) throw run.error;
    if (run.status !== 0) throw new Error(run.stderr.trim() || `exit ${run.status}`);
  };
  try {
    const end = await provisionWithRetry({ client, key, policy: flag("--policy"), attempt });
    if (end.ok) process.stdout.write(`provisioned after ${end.attempts} attempt(s)\n`);
    return end.ok ? 0 : 1;
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
