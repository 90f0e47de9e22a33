#!/usr/bin/env python3
"""Serve a folder over HTTP with the cross-origin-isolation headers the app needs.

    python3 tests/e2e/static_server.py dist 8090 [--plain]

`--plain`: without the isolation headers, as most static hosts serve a site.

Used by the end-to-end tests and the screenshot commands; `make serve` uses `trunk serve`.
"""
import functools
import http.server
import sys


class IsolatedHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm",
                      ".js": "text/javascript"}

    isolated = True

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


def serve(folder, port, isolated=True):
    handler = functools.partial(IsolatedHandler if isolated else PlainHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    return server


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--plain"]
    folder = args[0] if args else "dist"
    port = int(args[1]) if len(args) > 1 else 8090
    print(f"serving {folder} on http://127.0.0.1:{port}", flush=True)
    serve(folder, port, isolated="--plain" not in sys.argv).serve_forever()
