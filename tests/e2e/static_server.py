#!/usr/bin/env python3
"""Serve a folder over HTTP with the cross-origin-isolation headers the app needs.

    python3 tests/e2e/static_server.py dist 8090 [--plain]

`--plain`: without the isolation headers, as most static hosts serve a site.

Used by the end-to-end tests and the screenshot commands; `make serve` uses `trunk serve`.
"""
import functools
import http.server
import os
import sys
import threading
import time


LINK_LOCK = threading.Lock()
LINK_FREE = 0.0


class IsolatedHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm",
                      ".js": "text/javascript"}

    isolated = True
    # "gzip" or "br": serve `<file>.gz` / `<file>.br` (written by make build) to a browser that
    # accepts them, as nginx's gzip_static and most static hosts do.
    precompressed = None
    SUFFIX = {"gzip": ".gz", "br": ".br"}

    def send_head(self):
        path = self.translate_path(self.path)
        encoding = self.precompressed
        accepted = self.headers.get("Accept-Encoding", "")
        if encoding and encoding in accepted and os.path.isfile(path + self.SUFFIX[encoding]):
            f = open(path + self.SUFFIX[encoding], "rb")
            self.server.encoded = getattr(self.server, "encoded", 0) + 1
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(path))
            self.send_header("Content-Encoding", encoding)
            self.send_header("Vary", "Accept-Encoding")
            self.send_header("Content-Length", str(os.fstat(f.fileno()).st_size))
            self.end_headers()
            return f
        return super().send_head()

    # (bytes per second, latency in seconds): one shared link for every connection, as a
    # classroom's Wi-Fi (the benchmark's first visit); None: as fast as localhost.
    link = None

    def copyfile(self, source, outputfile):
        if not self.link:
            return super().copyfile(source, outputfile)
        rate, latency = self.link
        time.sleep(latency)
        while chunk := source.read(16384):
            with LINK_LOCK:
                global LINK_FREE
                start = max(time.monotonic(), LINK_FREE)
                LINK_FREE = start + len(chunk) / rate
            time.sleep(max(0.0, LINK_FREE - time.monotonic()))
            outputfile.write(chunk)

    def end_headers(self):
        if self.isolated:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args):
        pass


class PlainHandler(IsolatedHandler):
    """Without the isolation headers: how most static hosts serve a page."""
    isolated = False


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A browser that closed a connection mid-response (a test ending, a page reloading).
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def serve(folder, port, isolated=True, precompressed=None, link=None):
    base = IsolatedHandler if isolated else PlainHandler
    if precompressed or link:
        base = type("Served", (base,), {"precompressed": precompressed, "link": link})
    handler = functools.partial(base, directory=folder)
    server = Server(("127.0.0.1", port), handler)
    return server


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--plain"]
    folder = args[0] if args else "dist"
    port = int(args[1]) if len(args) > 1 else 8090
    print(f"serving {folder} on http://127.0.0.1:{port}", flush=True)
    serve(folder, port, isolated="--plain" not in sys.argv).serve_forever()
