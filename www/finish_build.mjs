// The last step of `trunk build` (Trunk.toml's post_build hook), on trunk's staging folder:
//
//   node www/finish_build.mjs <staging dir>
//
// 1. Writes `sw.js` from www/sw.js with this build's manifest: every file the page may load (the
//    app shell and the four engine builds), cached when the service worker installs. The version is a
//    hash of every cached file's name and content (trunk's hashed names included), so a new
//    deployment always has a new service worker, and an unchanged one never does.
// 2. Writes `.gz` and `.br` beside every text or wasm file, for hosts that serve pre-compressed
//    files (nginx `gzip_static`/`brotli_static`, Netlify, Cloudflare). Node's own zlib: nothing
//    to install.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync, unlinkSync } from "node:fs";
import { join, relative, sep, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";

const root = process.argv[2];
if (!root) {
  console.error("usage: node www/finish_build.mjs <staging dir>");
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));

/** Every file under `dir`, as paths relative to `root` with forward slashes. */
function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [relative(root, path).split(sep).join("/")];
  });
}

const cacheable = (f) =>
  !f.endsWith(".gz") && !f.endsWith(".br") && !f.endsWith(".d.ts") && f !== "sw.js" && f !== "_headers" && !f.startsWith("e2e/");

for (const f of files(root)) if (f.endsWith(".gz") || f.endsWith(".br")) unlinkSync(join(root, f));
const cached = files(root).filter(cacheable).sort();
const digest = createHash("sha256");
for (const f of cached) digest.update(`${f}\0`).update(readFileSync(join(root, f))).update("\0");
const version = digest.digest("hex").slice(0, 16);
const cachedFiles = ["./", ...cached.filter((f) => f !== "index.html")];

const template = readFileSync(join(here, "sw.js"), "utf8");
const line = 'const BUILD = { version: "dev", files: ["./"] };';
if (!template.includes(line)) throw new Error("www/sw.js: the BUILD line to replace is missing");
const build = JSON.stringify({ version, files: cachedFiles });
writeFileSync(join(root, "sw.js"), template.replace(line, `const BUILD = ${build};`));

// `trunk serve` (a debug build, rebuilt on every change) skips the 20 s of compression.
if (process.env.TRUNK_PROFILE === "debug") {
  console.log(`finish_build: sw.js version ${version} (${cachedFiles.length} files cached); not compressed (debug)`);
  process.exit(0);
}
const COMPRESSIBLE = /\.(html|js|css|wasm|txt|json|svg)$/;
let before = 0;
let gz = 0;
let br = 0;
for (const f of files(root).filter((f) => COMPRESSIBLE.test(f) && !f.startsWith("e2e/"))) {
  const bytes = readFileSync(join(root, f));
  const g = gzipSync(bytes, { level: 9 });
  const b = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      [constants.BROTLI_PARAM_LGWIN]: 24,
    },
  });
  writeFileSync(join(root, `${f}.gz`), g);
  writeFileSync(join(root, `${f}.br`), b);
  before += bytes.length;
  gz += g.length;
  br += b.length;
}
const mb = (n) => (n / 1048576).toFixed(1);
console.log(
  `finish_build: sw.js version ${version} (${cachedFiles.length} files cached); ` +
    `compressed ${mb(before)} MB → gzip ${mb(gz)} MB, brotli ${mb(br)} MB`,
);
