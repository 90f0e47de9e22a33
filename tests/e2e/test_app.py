#!/usr/bin/env python3
"""End-to-end tests of the built site (dist/) in headless Chromium, driven through chromedriver.

    make build && python3 tests/e2e/test_app.py [--screenshots DIR]

Each test is a function named test_*; a failure exits non-zero (so `make test` fails).
"""
import argparse
import os
import sys
import threading
import traceback

sys.path.insert(0, os.path.dirname(__file__))
from static_server import serve  # noqa: E402
from webdriver import Browser, free_port  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_shell_shows_sections_and_footer(b, url, shots):
    b.get(url)
    b.wait_for("return document.querySelector('[data-testid=main]')", what="the app to mount")
    for section in ("learn", "explore", "gradient-lab", "settings"):
        assert b.text(f"nav-{section}"), f"missing nav-{section}"
    assert "locally" in b.text("footer-local") or "cục bộ" in b.text("footer-local")
    assert b.js("return document.title") == "ResNet Lab"
    b.click("nav-settings")
    assert b.js("return document.querySelector('[data-testid=main]').dataset.section") == "settings"


def test_worker_answers_the_ping(b, url, shots):
    b.get(url)
    status = b.wait_for(
        "const e = document.querySelector('[data-testid=engine-status]');"
        "return e && e.dataset.state === 'ready' ? e.innerText : null;", timeout=60, what="engine ready")
    assert "v0." in status or "v1." in status, status
    if shots:
        b.screenshot(os.path.join(shots, "shell.png"))


def test_language_switch_changes_the_header(b, url, shots):
    b.get(url)
    b.wait_for("return document.querySelector('[data-testid=nav-learn]')", what="header")
    b.click("lang-en")
    english = b.text("nav-learn"), b.text("nav-gradient-lab")
    b.click("lang-vi")
    vietnamese = b.text("nav-learn"), b.text("nav-gradient-lab")
    assert english == ("Learn", "Gradient lab"), english
    assert vietnamese == ("Tìm hiểu", "Phòng thí nghiệm gradient"), vietnamese
    assert b.js("return document.documentElement.lang") == "vi"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dist", default=os.path.join(ROOT, "dist"))
    parser.add_argument("--screenshots", default=None)
    parser.add_argument("-k", default="", help="run only tests whose name contains this")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.dist, "index.html")):
        sys.exit(f"{args.dist}/index.html missing: run `make build` first")
    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
    port = free_port()
    server = serve(args.dist, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{port}/"
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and args.k in n]
    browser = Browser()
    failed = 0
    try:
        for name, fn in tests:
            try:
                fn(browser, url, args.screenshots)
                print(f"ok   {name}", flush=True)
            except Exception:
                failed += 1
                print(f"FAIL {name}\n{traceback.format_exc()}", flush=True)
    finally:
        browser.quit()
        server.shutdown()
    print(f"e2e: {len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
