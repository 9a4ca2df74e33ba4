/**
 * The portal's front end: plain HTML, CSS and ES modules from src/portal/public, read once at start and
 * served from memory — no build step, no CDN, nothing fetched from anywhere but this origin.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";

export const publicDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../public");

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function walk(dir: string, prefix = ""): Array<[string, string]> {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full, `${prefix}/${name}`) : [[`${prefix}/${name}`, full] as [string, string]];
  });
}

/** Every file of the public directory by URL path; `/` is index.html. Only these paths are ever served. */
export function loadAssets(dir = publicDir): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [url, file] of walk(dir)) {
    const type = types[path.extname(file)];
    if (type === undefined) continue;
    const body = readFileSync(file);
    assets.set(url, { body, type, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` });
  }
  const index = assets.get("/index.html");
  if (index !== undefined) assets.set("/", index);
  return assets;
}

/** Serves an asset (revalidated with its ETag on every load, so a new version shows at once); false if unknown */
export function serveAsset(assets: Map<string, Asset>, req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  const asset = assets.get(pathname);
  if (asset === undefined) return false;
  const headers = { "content-type": asset.type, etag: asset.etag, "cache-control": "no-cache" };
  if (req.headers["if-none-match"] === asset.etag) {
    res.writeHead(304, headers).end();
    return true;
  }
  res.writeHead(200, { ...headers, "content-length": asset.body.length });
  res.end(req.method === "HEAD" ? undefined : asset.body);
  return true;
}
