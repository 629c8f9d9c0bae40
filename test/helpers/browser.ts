import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

/** Debian's chromium, or the browser `SQSD_CHROMIUM` names. */
export const chromiumPath = process.env["SQSD_CHROMIUM"] ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, with how to fix it; undefined when they can. */
export function browserMissing(): string | undefined {
  if (existsSync(chromiumPath)) return undefined;
  return (
    `no Chromium at ${chromiumPath}: install Debian's package (sudo apt-get install chromium), ` +
    `or set SQSD_CHROMIUM to a Chromium or Chrome executable`
  );
}

/**
 * Headless Chromium from the system, driven by playwright-core (which downloads no browser of its own). The
 * flags keep it off the network it has no business with: no background updates, sync or component fetches.
 * Playwright gives each launch a fresh profile folder of its own, and removes it on close.
 */
export async function launchChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}
