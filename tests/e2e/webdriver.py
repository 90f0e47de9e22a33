"""A minimal W3C WebDriver client over the standard library, for Debian's chromedriver."""
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

INSECURE_HOST = "resnet-lab.test"
CHROME_ARGS = [
    "--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1000",
    # A name for this machine that is not localhost: pages from it are not a secure context, so
    # they get no service worker and no cross-origin isolation (a site on plain http://).
    f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1",
]
if os.geteuid() == 0:
    CHROME_ARGS.append("--no-sandbox")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriverError(RuntimeError):
    pass


class Browser:
    """One chromedriver process and one session."""

    def __init__(self, chromedriver=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"), webgpu=False,
                 prefs=None):
        """`webgpu`: drop --disable-gpu and turn on WebGPU (SwiftShader where there is no GPU).
        `prefs`: Chromium profile preferences (a user's settings)."""
        self.port = free_port()
        self.driver = subprocess.Popen([chromedriver, f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                self._call("GET", "/status")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        args = [a for a in CHROME_ARGS if not (webgpu and a == "--disable-gpu")]
        if webgpu:
            args.append("--enable-unsafe-webgpu")
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args, **({"prefs": prefs} if prefs else {})},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=300) as resp:
                return json.loads(resp.read() or b"{}").get("value")
        except urllib.error.HTTPError as err:
            raise WebDriverError(err.read().decode(errors="replace")) from None

    @staticmethod
    def wait_for_port(port, timeout=30):
        """Waits until something listens on 127.0.0.1:`port`."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nothing listens on port {port}")

    def cmd(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def cdp(self, command, params):
        """A Chrome DevTools Protocol command (through chromedriver)."""
        return self.cmd("POST", "/goog/cdp/execute", {"cmd": command, "params": params})

    def get(self, url):
        self.cmd("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def js_async(self, script, *args):
        return self.cmd("POST", "/execute/async", {"script": script, "args": list(args)})

    def wait_for(self, script, timeout=60, what="condition", *args):
        """Polls `script` (a JS expression body returning a value) until truthy."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.js(script, *args)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; "
                             f"page says: {self.js('return document.body.innerText')[:800]!r}; "
                             f"console: {self.console()[-5:]}")

    def click(self, testid):
        found = self.js(f"const e = document.querySelector('[data-testid=\"{testid}\"]'); if (e) e.click(); return !!e;")
        assert found, f"no element with data-testid={testid}"

    def text(self, testid):
        return self.js(f"const e = document.querySelector('[data-testid=\"{testid}\"]'); return e ? e.innerText : null;")

    def upload(self, testid, path):
        """Sets a file input's file (WebDriver's way of choosing a file)."""
        found = self.cmd("POST", "/element", {"using": "css selector", "value": f"[data-testid=\"{testid}\"]"})
        element = next(iter(found.values()))
        self.cmd("POST", f"/element/{element}/value", {"text": path})

    def screenshot(self, path):
        import base64
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.cmd("GET", "/screenshot")))

    def console(self):
        try:
            return [e["message"] for e in self.cmd("POST", "/se/log", {"type": "browser"}) or []]
        except WebDriverError:
            return []

    def quit(self):
        try:
            self.cmd("DELETE", "")
        except Exception:
            pass
        self.driver.terminate()
        self.driver.wait(10)
