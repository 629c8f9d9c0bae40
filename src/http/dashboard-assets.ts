import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";

/**
 * The dashboard's files, by URL path: the page from the package's `web/` folder, uPlot from `dist/vendor/`,
 * where the build copies it from its npm package (scripts/vendor-assets.js). Both are in the package's
 * `files`, so an installed sqsd serves them with no build step and no CDN. URLs are relative to this module:
 * dist/src/http/ in the package.
 */
const ASSETS: Readonly<Record<string, { readonly file: URL; readonly contentType: string }>> = {
  "/": { file: new URL("../../../web/dashboard.html", import.meta.url), contentType: "text/html; charset=utf-8" },
  "/dashboard": {
    file: new URL("../../../web/dashboard.html", import.meta.url),
    contentType: "text/html; charset=utf-8",
  },
  "/assets/dashboard.js": {
    file: new URL("../../../web/dashboard.js", import.meta.url),
    contentType: "text/javascript; charset=utf-8",
  },
  "/assets/dashboard.css": {
    file: new URL("../../../web/dashboard.css", import.meta.url),
    contentType: "text/css; charset=utf-8",
  },
  "/assets/uPlot.iife.min.js": {
    file: new URL("../../vendor/uPlot.iife.min.js", import.meta.url),
    contentType: "text/javascript; charset=utf-8",
  },
  "/assets/uPlot.min.css": {
    file: new URL("../../vendor/uPlot.min.css", import.meta.url),
    contentType: "text/css; charset=utf-8",
  },
};

/**
 * Only this server's own files, no inline script and no other origin: an error message shown on the page can
 * never run as code, and the page works offline. `connect-src 'self'` covers /events and the control routes.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The URL paths of the dashboard's page and assets. */
export const DASHBOARD_PATHS: readonly string[] = Object.keys(ASSETS);

/**
 * Serves one dashboard file. The files are read on each request (a few per page view; the OS caches them)
 * rather than held in memory by a daemon nobody may ever look at.
 */
export async function serveDashboardAsset(path: string, response: ServerResponse): Promise<void> {
  const asset = ASSETS[path];
  if (!asset) throw new Error(`no dashboard asset at ${path}`);
  let body: Buffer;
  try {
    body = await readFile(asset.file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    response.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    response.end(
      `${path} is missing from this installation (${asset.file.pathname}); a source checkout builds it with npm run build\n`,
    );
    return;
  }
  response.writeHead(200, {
    "content-type": asset.contentType,
    "cache-control": "no-cache",
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
  response.end(body);
}
