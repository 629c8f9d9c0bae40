/**
 * The quick start: runs the sqsd daemon on the example config, then sends it a few demo messages from this
 * separate process, the way a web app would. Extra arguments go to `sqsd` (try `--message-limit 7`).
 * Ctrl-C drains the daemon and exits.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { configureSqs } from "sqsd";
import { chargeCard, greet, makeThumbnail } from "./receivers.js";

const sqsdBin = fileURLToPath(new URL("../../bin/sqsd.js", import.meta.url));
const configPath = fileURLToPath(new URL("./sqs.config.ts", import.meta.url));
// The daemon gets its own process group, so Ctrl-C reaches it once, forwarded from here, and drains it
// (a second Ctrl-C would stop it at once).
const daemon = spawn(process.execPath, [sqsdBin, "--config", configPath, ...process.argv.slice(2)], {
  stdio: ["ignore", "pipe", "inherit"],
  detached: true,
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => daemon.kill(signal));
daemon.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

let sent = false;
createInterface({ input: daemon.stdout }).on("line", (line) => {
  console.log(line);
  const endpoint = /"?endpoint"?[=:]"?(http[^"\s]+)/.exec(line)?.[1];
  if (endpoint) configureSqs({ endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  if (!sent && line.includes("sqsd started")) {
    sent = true;
    sendDemoMessages().catch((error: unknown) => {
      console.error("sending demo messages failed:", error);
      daemon.kill("SIGTERM");
    });
  }
});

async function sendDemoMessages(): Promise<void> {
  await Promise.all([
    greet({ name: "Ada" }),
    greet({ name: "Grace" }),
    makeThumbnail({ imageId: 1 }),
    makeThumbnail({ imageId: 2 }),
    makeThumbnail({ imageId: 3 }, { suffix: "big" }),
    chargeCard({ orderId: "A-1001" }, { messageAttributes: { currency: "EUR" } }),
  ]);
  console.log("quickstart: sent 6 demo messages; press Ctrl-C to stop the daemon");
}
