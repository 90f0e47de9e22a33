#!/usr/bin/env python3
"""Screenshot a running ResNet Lab page in headless Chromium once the engine is ready.

    python3 tests/e2e/screenshot.py http://127.0.0.1:8080/ /tmp/shell.png
    python3 tests/e2e/screenshot.py http://127.0.0.1:8080/ /tmp/explore.png --click sample-cat --wait run-status=done

`--click TESTID` clicks elements in order; `--wait TESTID=STATE` waits for `data-state` after the
clicks. (Chromium's own `--screenshot` flag does not wait for the Web Worker.)
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from webdriver import Browser  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("out")
    p.add_argument("--click", action="append", default=[])
    p.add_argument("--wait", action="append", default=[])
    p.add_argument("--timeout", type=float, default=300)
    a = p.parse_args()
    b = Browser()
    try:
        b.get(a.url)
        b.wait_for("const e = document.querySelector('[data-testid=engine-status]');"
                   "return e && e.dataset.state === 'ready';", timeout=a.timeout, what="engine ready")
        for testid in a.click:
            b.click(testid)
        for cond in a.wait:
            testid, state = cond.split("=")
            b.wait_for(f"const e = document.querySelector('[data-testid={testid}]');"
                       f"return e && e.dataset.state === '{state}';", timeout=a.timeout, what=cond)
        b.screenshot(a.out)
        print(a.out)
    finally:
        b.quit()


if __name__ == "__main__":
    main()
