#!/usr/bin/env python3
"""What a first visit costs: the bytes it transfers with each compression, and the time from a
cold cache to "engine ready" in headless Chromium. Part of `make bench`; alone:

    make build browser-tools && python3 tests/bench/first_visit.py [--write]

`--write` puts the table into BENCHMARKS.md's "First visit" section.

Bytes come from the files in dist/ (the .gz/.br that make build writes beside each file). The
page loads its HTML, JS, CSS, app wasm and one engine build; the service worker then caches the
whole build (the other three engine builds and the samples too) for offline use.
Times: a fresh Chromium profile per run (cold HTTP cache, no service worker yet), the site on a
local server with the isolation headers: once as fast as localhost (compilation and start-up), once
through a 10 Mbit/s link with 40 ms latency that the server enforces.
"""
import json
import os
import statistics
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from static_server import serve  # noqa: E402
from webdriver import Browser, free_port  # noqa: E402

DIST = os.path.join(ROOT, "dist")
RUNS = 3
READY = ("const e = document.querySelector('[data-testid=engine-status]');"
         "return e && e.dataset.state === 'ready' ? performance.now() : null;")


def size(path, suffix=""):
    full = os.path.join(DIST, path + suffix)
    return os.path.getsize(full) if os.path.exists(full) else os.path.getsize(os.path.join(DIST, path))


def manifest():
    """The files the service worker caches (its BUILD line)."""
    text = open(os.path.join(DIST, "sw.js")).read()
    line = next(x for x in text.splitlines() if x.startswith("const BUILD = "))
    files = json.loads(line[len("const BUILD = "):].rstrip(";"))["files"]
    return ["index.html" if f == "./" else f for f in files]


def page_files(build):
    """What the page itself loads on a first visit, by kind."""
    top = os.listdir(DIST)
    pick = lambda end: next(f for f in top if f.startswith(("app-", "style-")) and f.endswith(end))  # noqa: E731
    prefix = f"{build}/" if build else ""
    return {"HTML": ["index.html"], "JS": [pick(".js"), f"{prefix}worker.js", "sw.js"],
            "CSS": [pick(".css")], "wasm": [pick("_bg.wasm"), f"{prefix}worker_bg.wasm"]}


def bytes_table(build):
    kinds = page_files(build)
    loaded = {f for files in kinds.values() for f in files}
    rest = [f for f in manifest() if f not in loaded]
    rows = {}
    for kind, files in [*kinds.items(), ("service worker's offline copy (rest of the build)", rest)]:
        rows[kind] = {enc: sum(size(f, suffix) for f in files) for enc, suffix in
                      (("identity", ""), ("gzip", ".gz"), ("br", ".br"))}
    return rows


# A classroom's Wi-Fi: the server sends at most this, over one link shared by every request (page,
# engine worker and service worker alike; DevTools' emulation would slow the page's requests only).
SLOW = {"mbit_s": 10, "rtt_ms": 40}


def cold_ready_ms(encoding, network=None):
    times = []
    for _ in range(RUNS):
        port = free_port()
        link = network and (network["mbit_s"] * 1e6 / 8, network["rtt_ms"] / 1000)
        server = serve(DIST, port, precompressed=encoding, link=link)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        b = Browser()  # a fresh profile: nothing cached
        try:
            b.get(f"http://127.0.0.1:{port}/")
            times.append(b.wait_for(READY, timeout=180, what="engine ready"))
            if encoding and not getattr(server, "encoded", 0):
                return None  # this Chromium does not accept it over plain http
        finally:
            b.quit()
            server.shutdown()
    return statistics.median(times)


def measure():
    """Bytes per kind and encoding, and cold-cache times: the figures `make bench` records."""
    build = "mt-relaxed" if os.path.exists(os.path.join(DIST, "mt-relaxed", "worker.js")) else ""
    table = bytes_table(build)
    ready = {enc or "identity": cold_ready_ms(enc) for enc in (None, "gzip", "br")}
    slow = {enc or "identity": cold_ready_ms(enc, SLOW) for enc in (None, "gzip", "br")}
    return {"engine_build": build or "plain", "bytes": table, "cold_ready_ms": ready,
            "cold_ready_ms_slow": slow, "slow_link": SLOW}


HEADING = "## First visit"


def section(result):
    """BENCHMARKS.md's first-visit section, from `measure()`."""
    encodings = ("identity", "gzip", "br")
    kb = lambda n: f"{n / 1024:,.0f} KB"  # noqa: E731
    ms = lambda v: "not accepted" if v is None else f"{v:,.0f} ms"  # noqa: E731
    rows = [HEADING, "",
            f"What a first visit transfers, from the files in `dist/` (`make build` writes the `.gz` and `.br`), "
            f"for Chromium on a cross-origin isolated host (engine build `{result['engine_build']}`), and the time "
            "from a cold cache (a fresh profile) to \"engine ready\" (median of 3; `tests/bench/first_visit.py`).",
            "", "| first visit | uncompressed | gzip | brotli |", "| --- | ---: | ---: | ---: |"]
    page = dict.fromkeys(encodings, 0)
    for kind, row in result["bytes"].items():
        if not kind.startswith("service"):
            for e in encodings:
                page[e] += row[e]
            rows.append(f"| {kind} | " + " | ".join(kb(row[e]) for e in encodings) + " |")
    rows.append("| **the page** | " + " | ".join(f"**{kb(page[e])}**" for e in encodings) + " |")
    rest = next(row for kind, row in result["bytes"].items() if kind.startswith("service"))
    rows.append("| then, in the background: the service worker's offline copy (the other engine builds, "
                "the samples) | " + " | ".join(kb(rest[e]) for e in encodings) + " |")
    slow = result["slow_link"]
    rows.append("| cold cache → engine ready, localhost | "
                + " | ".join(ms(result["cold_ready_ms"][e]) for e in encodings) + " |")
    rows.append(f"| cold cache → engine ready, {slow['mbit_s']} Mbit/s link, {slow['rtt_ms']} ms latency | "
                + " | ".join(ms(result["cold_ready_ms_slow"][e]) for e in encodings) + " |")
    rows += ["", "The slow link is enforced by the test server on every response (page, engine worker and service "
             "worker share it). The service worker registers once the engine is ready, so its copy does not "
             "compete with the engine's own download.", ""]
    return rows


def main():
    result = measure()
    text = "\n".join(section(result))
    print(text)
    if "--write" in sys.argv:
        # Replaces this section of BENCHMARKS.md (make bench writes the whole file).
        path = os.path.join(ROOT, "BENCHMARKS.md")
        old = open(path).read()
        before = old.split(HEADING)[0].rstrip("\n") + "\n\n"
        after = ""
        if HEADING in old:
            tail = old.split(HEADING, 1)[1]
            after = ("\n## " + tail.split("\n## ", 1)[1]) if "\n## " in tail else ""
        with open(path, "w") as f:
            f.write(before + text + after)


if __name__ == "__main__":
    main()
