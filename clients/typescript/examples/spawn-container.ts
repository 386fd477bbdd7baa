// Seed 002: a runner that spawns agent containers makes sure their image is
// there first. However many spawn at once after the image was removed, the
// daemon runs one build and every spawn waits for it; a failing build
// rejects every spawn with the build's output and a remedy, instead of 200
// containers failing on a missing image.
//
//   node dist/examples/spawn-container.js IMAGE [COUNT]
//
// runs COUNT (default 1) spawns at once; prints one summary line
// ("spawned=N failed=N built=N coalesced=N with_remedy=N") and, for a
// failure, the build's output and the remedy. Exit 0 when all spawned, 1
// otherwise. The socket: $SIDECAR_SOCKET or the default.
import { SidecarClient, SidecarError } from "../src/index.js";
import type { EnsureImageResponse } from "../src/index.js";

export interface Spawned<T> {
  image: EnsureImageResponse;
  container: T;
}

/**
 * Ensures `image`, then starts the container with `start`. Rejects with
 * the SidecarError of a failed build (its message holds the build's
 * output, `detail.remedy` what to do) and never calls `start` then.
 */
export async function spawnContainer<T>(
  client: SidecarClient,
  image: string,
  start: (image: EnsureImageResponse) => Promise<T>,
  options: { leaseHolder?: string; timeoutMs?: number } = {},
): Promise<Spawned<T>> {
  const ensured = await client.ensureImage(image, { leaseHolder: options.leaseHolder, leaseTtlSeconds: options.leaseHolder ? 600 : undefined, timeoutMs: options.timeoutMs });
  return { image: ensured, container: await start(ensured) };
}

async function main(): Promise<number> {
  const [image, countText = "1"] = process.argv.slice(2);
  if (!image) {
    process.stderr.write("usage: spawn-container.js IMAGE [COUNT]\n");
    return 64;
  }
  const client = new SidecarClient({ clientName: "spawn-container-example" });
  const count = Number(countText);
  // Stands in for `podman run`: a real runner starts the container here.
  const start = async (ensured: EnsureImageResponse) => `container of ${ensured.ref}`;
  const results = await Promise.allSettled(Array.from({ length: count }, () => spawnContainer(client, image, start, { timeoutMs: 120000 })));
  client.close();
  let spawned = 0, built = 0, coalesced = 0, withRemedy = 0;
  let firstFailure: SidecarError | undefined;
  for (const r of results) {
    if (r.status === "fulfilled") {
      spawned++;
      if (r.value.image.outcome === "BUILT") built++;
      if (r.value.image.coalesced) coalesced++;
    } else {
      const error = r.reason as SidecarError;
      firstFailure ??= error;
      if (error.detail?.remedy && error.message.length > 0) withRemedy++;
    }
  }
  const failed = count - spawned;
  process.stdout.write(`spawned=${spawned} failed=${failed} built=${built} coalesced=${coalesced} with_remedy=${withRemedy}\n`);
  if (firstFailure) {
    process.stderr.write(`cannot spawn on ${image} (${firstFailure.code}): ${firstFailure.message}\n`);
    if (firstFailure.detail?.remedy) process.stderr.write(`remedy: ${firstFailure.detail.remedy}\n`);
  }
  return failed === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then((code) => process.exit(code));
}
