#!/usr/bin/env python3
"""End-to-end tests of the built site (dist/) in headless Chromium, driven through chromedriver.

    make build && python3 tests/e2e/test_app.py [--screenshots DIR]

Each test is a function named test_*; a failure exits non-zero (so `make test` fails).
"""
import argparse
import array
import json
import math
import http.server
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from static_server import serve  # noqa: E402
from webdriver import INSECURE_HOST, Browser, free_port  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ARGS = None


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
    # The worker says how much wasm memory it holds (shown in the footer, read by make bench),
    # again once the seeded init is built: then it holds ResNet-50's 25.6 M weights.
    memory = b.wait_for("const e = document.querySelector('[data-testid=engine-memory]');"
                        "return e && Number(e.dataset.bytes) > 100e6 ? Number(e.dataset.bytes) : null;",
                        timeout=120, what="the engine's memory once built")
    assert memory < 2e9, memory
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


CLI = os.path.join(ROOT, "target", "release", "resnet-lab")
STATE = "const e = document.querySelector('[data-testid=run-status]'); return e ? e.dataset.state : null;"


def predictions(b):
    return b.js("return [...document.querySelectorAll('[data-testid=prediction]')]"
                ".map(e => [e.dataset.class, e.dataset.prob]);")


def run_sample(b, name="cat", timeout=180):
    """Clicks a sample and waits for the run to finish; returns (ms from click to done, longest task)."""
    b.js("window.__longest = 0; try { new PerformanceObserver(l => l.getEntries().forEach("
         "e => window.__longest = Math.max(window.__longest, e.duration))).observe({entryTypes: ['longtask']}); }"
         "catch (e) {} window.__t0 = performance.now(); window.__gap = 0; window.__last = null;"
         "const tick = t => { if (window.__last !== null) window.__gap = Math.max(window.__gap, t - window.__last);"
         " window.__last = t; if (window.__done === null) requestAnimationFrame(tick); }; requestAnimationFrame(tick);"
         "window.__done = null; const o = new MutationObserver(() => { const e = document.querySelector("
         "'[data-testid=run-status]'); if (e && e.dataset.state === 'done' && window.__done === null) "
         "window.__done = performance.now(); }); o.observe(document.body, {subtree: true, attributes: true, childList: true});")
    b.click(f"sample-{name}")
    b.wait_for(f"{STATE.replace('return e ? e.dataset.state : null;', '')} return e && e.dataset.state === 'running';",
               timeout=30, what="run started")
    b.wait_for("return window.__done !== null;", timeout=timeout, what="run-status done")
    return b.js("return [window.__done - window.__t0, Math.max(window.__longest, window.__gap)];")


def generated_weights(name, init, seed, truncate=None):
    """A checkpoint exported by the CLI into dist/e2e/ (served next to the app)."""
    folder = os.path.join(ARGS.dist, "e2e")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        subprocess.run([CLI, "export-init", "--init", init, "--seed", str(seed), "--out", path], check=True)
        if truncate:
            with open(path, "r+b") as f:
                f.truncate(os.path.getsize(path) - truncate)
    return f"e2e/{name}"


FC_SCALE = 0.05


def fixture_weights():
    """The fixture checkpoint (batch norm with real statistics, tests/fixtures/predict.json) with
    its classifier scaled by FC_SCALE, so that its softmax is not saturated: the top-5
    probabilities say something. The logits scale exactly (the classifier is linear)."""
    folder = os.path.join(ARGS.dist, "e2e")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "fixture-bn1-fc.safetensors")
    if not os.path.exists(path):
        subprocess.run([CLI, "export-init", "--init", "he", "--seed", "0", "--bn-stats", "1", "--out", path], check=True)
        with open(path, "r+b") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(size))
            for name in ("fc.weight", "fc.bias"):
                start, end = header[name]["data_offsets"]
                f.seek(8 + size + start)
                values = array.array("f", f.read(end - start))
                values = array.array("f", (v * FC_SCALE for v in values))
                f.seek(8 + size + start)
                f.write(values.tobytes())
    return "e2e/fixture-bn1-fc.safetensors"


def fixture_top(case="cat_full_preprocessing", k=6):
    """(class index, probability) of the fixture's logits × FC_SCALE, best first."""
    with open(os.path.join(ROOT, "tests", "fixtures", "predict.json")) as f:
        logits = next(c for c in json.load(f)["cases"] if c["case"] == case)["logits"]
    z = [FC_SCALE * v for v in logits]
    top = max(z)
    e = [math.exp(v - top) for v in z]
    total = sum(e)
    return sorted(((i, v / total) for i, v in enumerate(e)), key=lambda t: -t[1])[:k]


def test_explore_sample_shows_predictions_and_five_stages(b, url, shots):
    b.get(url)
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    ms, longest = run_sample(b)
    rows = predictions(b)
    assert len(rows) == 5, rows
    probabilities = [float(p) for _, p in rows]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1 + 1e-6, rows
    channels = b.js("return [1,2,3,4,5].map(i => { const e = document.querySelector(`[data-testid=stage-${i}]`);"
                    " return e ? Number(e.dataset.channels) : null; });")
    assert channels == [64, 256, 512, 1024, 2048], channels
    assert b.js("return document.querySelectorAll('[data-testid=stage-2] canvas').length") >= 32
    assert b.js("return !!document.querySelector('[data-testid=crop]')")
    print(f"     click → predictions {ms:.0f} ms; longest main-thread task or frame gap {longest:.0f} ms")
    # Cross-origin isolated (this server), Chromium has relaxed SIMD: the fastest build.
    assert f"wasm CPU, {isolated_threads(b, 'mt-relaxed')}, relaxed SIMD" in b.js("return document.body.innerText")
    assert longest < 200, f"the main thread was blocked for {longest:.0f} ms"
    b.click("arch-layer2.0")
    assert "layer2.0" in b.text("residual-view")
    b.click("block-channels")
    channels = b.wait_for("const e = document.querySelector('[data-testid=\"block-layer2.0\"]');"
                          "return e ? e.dataset.channels : null;", timeout=60, what="block channels")
    assert channels == "512", channels
    if shots:
        b.js("window.scrollTo(0, 0)")
        b.screenshot(os.path.join(shots, "explore.png"))


BACKEND = "const e = document.querySelector('[data-testid=run-status]'); return e ? e.dataset.backend : null;"


def choose_backend(b, value):
    """Picks a backend in Settings (the current image re-runs on it) and returns to Explore."""
    b.click("nav-settings")
    b.js("const s = document.querySelector('[data-testid=backend-select]'); s.value = arguments[0];"
         "s.dispatchEvent(new Event('change', {bubbles: true}));", value)
    b.click("nav-explore")


def test_auto_backend_without_webgpu_runs_on_cpu_and_webgpu_says_why(b, url, shots):
    # This browser runs with --disable-gpu: no adapter.
    b.get(url)
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    run_sample(b)
    assert b.js(BACKEND) == "cpu"
    assert not b.js("return !!document.querySelector('[data-testid=gpu-fallback]')")
    b.get(url + "?backend=webgpu")
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    run_sample(b)
    assert b.js(BACKEND) == "cpu"
    assert "GPU" in b.text("gpu-fallback")


def test_webgpu_backend_matches_cpu_and_falls_back_when_the_device_is_lost(_b, url, shots):
    gpu = Browser(webgpu=True)
    try:
        # The fixture checkpoint: both backends against PyTorch, not only each other.
        # WebGPU chosen explicitly: SwiftShader runs (Auto would pass it over).
        gpu.get(f"{url}?lang=en&backend=webgpu&weights={fixture_weights()}")
        gpu.wait_for(WEIGHTS_LOADED, timeout=120, what="the fixture checkpoint")
        gpu.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
        ms, _ = run_sample(gpu, timeout=300)
        assert gpu.js(BACKEND) == "webgpu", gpu.js(BACKEND)
        on_gpu = predictions(gpu)
        assert_matches_pytorch(on_gpu, tolerance=1e-3)
        assert "WebGPU" in gpu.js("return document.body.innerText")
        print(f"     WebGPU (SwiftShader) click → predictions {ms:.0f} ms")
        channels = gpu.js("return [1,2,3,4,5].map(i => { const e = document.querySelector("
                          "`[data-testid=stage-${i}]`); return e ? Number(e.dataset.channels) : null; });")
        assert channels == [64, 256, 512, 1024, 2048], channels
        choose_backend(gpu, "cpu")
        gpu.wait_for(BACKEND.replace("return e ? e.dataset.backend : null;",
                                     "return e && e.dataset.state === 'done' && e.dataset.backend === 'cpu';"),
                     timeout=120, what="re-run on the CPU")
        on_cpu = predictions(gpu)
        assert_matches_pytorch(on_cpu)
        assert [c for c, _ in on_gpu] == [c for c, _ in on_cpu], (on_gpu, on_cpu)
        assert all(abs(float(p) - float(q)) < 1e-3 for (_, p), (_, q) in zip(on_gpu, on_cpu)), (on_gpu, on_cpu)

        # A device lost mid-session: the next run falls back to the CPU and says so.
        gpu.get(url + "?lang=en&backend=webgpu&gpu_fault=lose")
        gpu.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
        run_sample(gpu, timeout=300)
        assert gpu.js(BACKEND) == "webgpu"
        run_sample(gpu, "coffee", timeout=300)
        assert gpu.js(BACKEND) == "cpu", gpu.js(BACKEND)
        assert "lost" in gpu.text("gpu-fallback"), gpu.text("gpu-fallback")
        assert len(predictions(gpu)) == 5
        if shots:
            gpu.screenshot(os.path.join(shots, "gpu-fallback.png"))
    finally:
        gpu.quit()


AUTO_KEY = "resnet-lab.auto-backend"
AUTO_PICK = "const e = document.querySelector('[data-testid=auto-pick]'); return e ? e.innerText : null;"


def remembered_auto(b):
    """Auto's choice as the page stored it in localStorage (None if none)."""
    stored = b.js("return localStorage.getItem(arguments[0]);", AUTO_KEY)
    return json.loads(stored) if stored else None


def auto_pick_text(b):
    b.click("nav-settings")
    text = b.wait_for(AUTO_PICK, what="Auto's choice in Settings")
    b.click("nav-explore")
    return text


def test_auto_backend_passes_over_swiftshader_and_keeps_the_faster_one_measured(_b, url, shots):
    # A Chromium whose only WebGPU adapter is SwiftShader (no GPU on this machine).
    gpu = Browser(webgpu=True)
    try:
        gpu.get(url + "?lang=en")
        gpu.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
        run_sample(gpu)
        assert gpu.js(BACKEND) == "cpu", gpu.js(BACKEND)
        assert not gpu.js("return !!document.querySelector('[data-testid=gpu-fallback]')")
        text = auto_pick_text(gpu)
        assert text.startswith("Auto → CPU (wasm CPU") and "google swiftshader renders in software" in text, text
        pick = remembered_auto(gpu)
        assert pick["picked"] == "Cpu" and pick["reason"] == "SoftwareAdapter", pick

        # The measurement itself, with SwiftShader timed as if it were hardware (test hook): the
        # user's result comes from the CPU first, then both are timed and the faster kept.
        gpu.js("localStorage.removeItem(arguments[0]);", AUTO_KEY)
        gpu.get(url + "?lang=en&auto_adapter=measure")
        gpu.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
        run_sample(gpu)
        assert gpu.js(BACKEND) == "cpu", gpu.js(BACKEND)
        gpu.wait_for("const v = localStorage.getItem(arguments[0]); return !!v && v.includes('Measured');",
                     300, "Auto's measurement", AUTO_KEY)
        pick = remembered_auto(gpu)
        timed = pick["reason"]["Measured"]
        assert pick["picked"] == "Cpu" and 0 < timed["cpu_ms"] < timed["gpu_ms"], pick
        print(f"     Auto measured: CPU {timed['cpu_ms']:.0f} ms vs WebGPU (SwiftShader) {timed['gpu_ms']:.0f} ms")
        text = auto_pick_text(gpu)
        assert text.startswith("Auto → CPU (wasm CPU") and " ms vs WebGPU (google swiftshader): " in text, text
        if shots:
            gpu.click("nav-settings")
            gpu.screenshot(os.path.join(shots, "auto-backend.png"))
            gpu.click("nav-explore")

        # The remembered choice is what Auto runs on later, with no new measurement: made to say
        # WebGPU, it sends the next visit's run to WebGPU (no measurement would pick SwiftShader).
        pick["picked"] = "WebGpu"
        gpu.js("localStorage.setItem(arguments[0], arguments[1]);", AUTO_KEY, json.dumps(pick))
        gpu.get(url + "?lang=en")
        gpu.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
        run_sample(gpu, timeout=300)
        assert gpu.js(BACKEND) == "webgpu", gpu.js(BACKEND)
        assert auto_pick_text(gpu).startswith("Auto → WebGPU (google swiftshader): ")

        # A choice made by another engine build does not apply: back to passing SwiftShader over.
        pick["engine"] = "0.0.0 single simd128"
        gpu.js("localStorage.setItem(arguments[0], arguments[1]);", AUTO_KEY, json.dumps(pick))
        gpu.get(url + "?lang=vi")
        gpu.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
        run_sample(gpu)
        assert gpu.js(BACKEND) == "cpu", gpu.js(BACKEND)
        assert remembered_auto(gpu)["reason"] == "SoftwareAdapter"
        text = auto_pick_text(gpu)
        assert text.startswith("Tự động → CPU (CPU wasm") and "chạy bằng phần mềm" in text, text
    finally:
        gpu.quit()


def isolated_threads(b, build):
    """The threads the page says a cross-origin isolated page runs on, given the threaded
    `build` folder (there only when the nightly was available to `make build`)."""
    cores = min(b.js("return navigator.hardwareConcurrency"), 4)
    threaded = cores > 1 and os.path.exists(os.path.join(ARGS.dist, build, "worker.js"))
    return f"{cores} threads" if threaded else "1 thread"


def sample_predictions(b, page):
    """Opens `page` on the fixture checkpoint, runs the cat sample, checks its top-5 against
    PyTorch's (decoding, preprocessing and the whole network in this build) and returns them."""
    sep = "&" if "?" in page else "?"
    b.get(f"{page}{sep}weights={fixture_weights()}")
    b.wait_for(WEIGHTS_LOADED, timeout=120, what="the fixture checkpoint")
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    run_sample(b)
    rows = predictions(b)
    assert_matches_pytorch(rows)
    return rows


def assert_matches_pytorch(rows, tolerance=5e-5):
    """The page's top-5 on the cat sample are PyTorch's (torchvision's preprocessing from PIL's
    decoding, tests/fixtures/predict.json), classes in order and each probability within
    `tolerance`: 5e-5 is what 1e-4·max|logit| (the native logits' bound) moves a probability of
    0.07 by; WebGPU gets 1e-3. The page and the fixture agree to the 1e-6 the page shows; the 5th
    and 6th classes are 1.4e-4 apart."""
    expected = fixture_top(k=5)
    assert [int(c) for c, _ in rows] == [c for c, _ in expected], (rows, expected)
    worst = max(abs(float(p) - q) for (_, p), (_, q) in zip(rows, expected))
    print(f"     top-5 against PyTorch: largest |Δp| {worst:.1e} (tolerance {tolerance:.0e})", flush=True)
    assert worst <= tolerance, (rows, expected)


CAM = "const e = document.querySelector('[data-testid=cam]'); return e ? Object.assign({}, e.dataset) : null;"


def cam_shown(b, stage, cls, timeout=240):
    """Waits for the big map of class `cls` at `stage` (its run done) and returns its values."""
    b.wait_for("const s = document.querySelector('[data-testid=cam-status]');"
               " const d = document.querySelector('[data-testid=cam]');"
               f" return !!(s && s.dataset.state === 'done' && d && d.dataset.stage === '{stage}'"
               f" && d.dataset.class === '{cls}');",
               timeout=timeout, what=f"CAM of class {cls} at stage {stage}")
    return [float(v) for v in b.js(CAM)["values"].split(",")]


def cli_cam(weights, cls, layer, method="gradcam"):
    out = subprocess.run([CLI, "cam", "--weights", weights, "--image", os.path.join(ROOT, "tests", "fixtures", "cat_decoded.png"),
                          "--class", str(cls), "--top", "0", "--stage", layer, "--method", method, "--json"],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["maps"][0]["values"]


def assert_same_map(page, cli, what):
    # The page decodes the JPEG in the browser, the CLI reads PIL's decoding of it (lossless):
    # the inputs agree as the top-5 do (5e-5 in probability); the page shows 5 decimals.
    assert len(page) == len(cli), (what, len(page), len(cli))
    worst = max(abs(p - q) for p, q in zip(page, cli))
    print(f"     {what}: page vs CLI, largest difference {worst:.1e}", flush=True)
    assert worst <= 2e-3, (what, worst)


def test_cam_maps_the_top5_follows_clicks_stages_search_and_the_share_link(b, url, shots):
    """On the fixture checkpoint and the cat sample: the Grad-CAM panel maps the top-5 at Stage 5
    (each class its own map, the big one the CLI's), follows a click on a prediction, the stage
    buttons, the method and the class search, blends by the opacity slider, exports a PNG and
    makes a link that restores class and stage."""
    page = f"{url}?lang=en&weights={fixture_weights()}"
    b.get(page)
    b.wait_for(WEIGHTS_LOADED, timeout=120, what="the fixture checkpoint")
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    run_sample(b)
    rows = predictions(b)
    assert not b.js("return document.querySelector('[data-testid=cam]')"), "maps before anyone asked"
    assert not b.js("return document.querySelector('[data-testid=cam-untrained]')"), "trained weights warned"
    b.click("cam-show")
    top1 = rows[0][0]
    values = cam_shown(b, 5, top1)
    weights = os.path.join(ARGS.dist, fixture_weights())
    assert_same_map(values, cli_cam(weights, top1, "layer4"), "Grad-CAM top-1 at layer4")
    strip = b.js("return [...document.querySelectorAll('[data-testid=cam-strip-item]')].map(e => e.dataset.class)")
    assert strip == [c for c, _ in rows], (strip, rows)
    maps = b.js("return [...document.querySelectorAll('[data-testid=cam-strip-item]')].map(e => e.dataset.values)")
    assert len(set(maps)) == 5, "two classes have the same map"
    caption = b.text("cam-caption")
    print(f"     {caption}", flush=True)
    # A click on the second prediction: its map (already computed with the top-5) is shown big.
    b.js("document.querySelectorAll('[data-testid=prediction]')[1].click()")
    second = rows[1][0]
    values = cam_shown(b, 5, second)
    assert_same_map(values, cli_cam(weights, second, "layer4"), "Grad-CAM 2nd class at layer4")
    # Stage 4 (layer3): 14×14, computed anew; Grad-CAM++ there too.
    b.click("cam-stage-4")
    values = cam_shown(b, 4, second)
    assert len(values) == 14 * 14 and b.js("return document.querySelector('[data-testid=cam-stage]').dataset.stage") == "4"
    assert_same_map(values, cli_cam(weights, second, "layer3"), "Grad-CAM 2nd class at layer3")
    b.js("const s = document.querySelector('[data-testid=cam-method]'); s.value = 'gradcam++';"
         "s.dispatchEvent(new Event('change', {bubbles: true}));")
    b.wait_for("return document.querySelector('[data-testid=cam-caption]').innerText.includes('Grad-CAM++')",
               timeout=240, what="Grad-CAM++")
    values = cam_shown(b, 4, second)
    assert_same_map(values, cli_cam(weights, second, "layer3", "gradcam++"), "Grad-CAM++ 2nd class at layer3")
    # A newer request cancels the running one: Stage 2 (slow), then at once Stage 5.
    b.click("cam-stage-2")
    b.click("cam-stage-5")
    cam_shown(b, 5, second)
    # Opacity 0 shows the crop itself, 100 the heatmap alone.
    pixels = ("const c = document.querySelector('[data-testid=cam]');"
              "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.slice(0, 4000));")
    crop = ("const c = document.querySelector('[data-testid=crop]');"
            "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.slice(0, 4000));")
    def set_opacity(v):
        b.js("const i = document.querySelector('[data-testid=cam-opacity]'); i.value = arguments[0];"
             "i.dispatchEvent(new Event('input', {bubbles: true}));", v)
    set_opacity(0)
    b.wait_for(f"{pixels.replace('return ', 'const p = ')} const q = (() => {{ {crop} }})();"
               " return p.every((v, i) => v === q[i]);", what="opacity 0 shows the crop")
    set_opacity(100)
    b.wait_for(f"{pixels.replace('return ', 'const p = ')} const q = (() => {{ {crop} }})();"
               " return p.some((v, i) => Math.abs(v - q[i]) > 40);", what="opacity 100 shows the heatmap")
    set_opacity(50)
    # Any class by name: tabby (281) is mapped although it is not in the top-5.
    b.js("const i = document.querySelector('[data-testid=cam-class-search]'); i.value = 'tabby';"
         "i.dispatchEvent(new Event('change', {bubbles: true}));")
    values = cam_shown(b, 5, "281")
    assert_same_map(values, cli_cam(weights, 281, "layer4", "gradcam++"), "Grad-CAM++ of tabby at layer4")
    # PNG export: the canvas as a PNG data URL, handed to a download link.
    b.js("window.__saved = null; const click = HTMLAnchorElement.prototype.click;"
         "HTMLAnchorElement.prototype.click = function () { window.__saved = [this.href, this.download]; };")
    b.click("cam-png")
    href, name = b.wait_for("return window.__saved;", what="PNG export")
    assert href.startswith("data:image/png;base64,") and name.endswith("-281-layer4.png"), (href[:40], name)
    if shots:
        b.js("document.querySelector('[data-testid=cam-panel]').scrollIntoView()")
        b.screenshot(os.path.join(shots, "cam-top5.png"))
    # The share link restores class and stage (the image stays on this machine: pick it again).
    link = b.js("return document.querySelector('[data-testid=cam-link]').value")
    assert "cam=281" in link and "cam_stage=layer4" in link, link
    b.click("cam-stage-3")
    link = b.js("return document.querySelector('[data-testid=cam-link]').value")
    assert "cam_stage=layer2" in link, link
    b.get(f"{link}&lang=en&weights={fixture_weights()}")
    b.wait_for(WEIGHTS_LOADED, timeout=120, what="the fixture checkpoint")
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    run_sample(b)
    cam_shown(b, 3, "281")
    assert b.js("return document.querySelector('[data-testid=cam-stage]').dataset.stage") == "3"


def test_cam_on_untrained_weights_says_the_map_means_nothing(b, url, shots):
    b.get(url + "?lang=vi&cam=top")
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    run_sample(b)
    top1 = predictions(b)[0][0]
    cam_shown(b, 5, top1)
    assert "chưa có ý nghĩa" in b.text("cam-untrained")
    b.click("lang-en")
    assert "means nothing yet" in b.text("cam-untrained")


def test_page_top5_on_the_fixture_checkpoint_is_pytorchs(b, url, shots):
    sample_predictions(b, url)
    text = b.js("return document.body.innerText")
    assert f"wasm CPU, {isolated_threads(b, 'mt-relaxed')}, relaxed SIMD" in text


def assert_same_predictions(rows, reference, tolerance=1e-4):
    assert [c for c, _ in rows] == [c for c, _ in reference], (rows, reference)
    assert all(abs(float(p) - float(q)) < tolerance for (_, p), (_, q) in zip(rows, reference))


def serve_without_isolation():
    """The site from a second server without the COOP/COEP headers, at an address that is not
    localhost (plain http://): no service worker can isolate it, so it stays single-threaded."""
    port = free_port()
    server = serve(ARGS.dist, port, isolated=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{INSECURE_HOST}:{port}/"


def site_with(folder, sub):
    """A new site root whose /<sub>/ is `folder`."""
    parent = tempfile.mkdtemp(prefix="resnet-lab-site-")
    os.symlink(os.path.abspath(folder), os.path.join(parent, sub))
    return parent


def serve_under_sub_path(folder, sub="resnet-lab"):
    """`folder` served as /<sub>/ of a host that sends no special headers (GitHub Pages)."""
    port = free_port()
    server = serve(site_with(folder, sub), port, isolated=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}/{sub}/"


def test_page_without_isolation_or_service_worker_runs_single_threaded_and_says_why(b, url, shots):
    isolated = sample_predictions(b, url)
    plain, plain_url = serve_without_isolation()
    try:
        single = sample_predictions(b, plain_url + "?lang=en")
        assert b.js("return self.crossOriginIsolated") is False
        assert b.js("return 'serviceWorker' in navigator") is False
        assert "wasm CPU, 1 thread, relaxed SIMD" in b.js("return document.body.innerText")
        if b.js("return navigator.hardwareConcurrency") > 1:
            note = b.js("const e = document.querySelector('[data-testid=isolation-note]');"
                        "return e ? [e.dataset.state, e.innerText] : null;")
            assert note and note[0] == "unavailable" and "service worker" in note[1], note
        assert_same_predictions(single, isolated)
    finally:
        plain.shutdown()


def test_a_browser_that_blocks_site_data_runs_single_threaded_and_says_why(b, url, shots):
    # Chromium set to block all site data: no service worker, no Cache Storage, no storage.
    blocked = Browser(prefs={"profile.default_content_setting_values.cookies": 2})
    server, site = serve_under_sub_path(ARGS.dist, "blocked")
    try:
        rows = sample_predictions(blocked, site + "?lang=en")
        assert blocked.js("return self.crossOriginIsolated") is False
        assert "wasm CPU, 1 thread" in blocked.js("return document.body.innerText")
        if blocked.js("return navigator.hardwareConcurrency") > 1:
            note = blocked.wait_for("const e = document.querySelector('[data-testid=isolation-note]');"
                                    "return e && e.dataset.state === 'unavailable' ? e.innerText : null;",
                                    timeout=30, what="the reason for one thread")
            assert "service worker" in note, note
        assert len(rows) == 5
    finally:
        blocked.quit()
        server.shutdown()


RELOADS = "return performance.getEntriesByType('navigation')[0].type;"
OFFLINE = "const e = document.querySelector('[data-testid=offline]'); return e && e.dataset.state === 'ready';"


def test_under_a_sub_path_without_headers_the_service_worker_isolates_after_one_reload(b, url, shots):
    reference = sample_predictions(b, url)
    server, site = serve_under_sub_path(ARGS.dist)
    try:
        b.get(f"{site}?lang=en&weights={fixture_weights()}")
        # The service worker installs (the whole build, cached), takes over and reloads the page
        # once, now with COOP/COEP: the threaded engine runs.
        b.wait_for("return self.crossOriginIsolated === true;", timeout=120, what="isolation by the service worker")
        assert b.js(RELOADS) == "reload", b.js(RELOADS)
        assert b.js("return location.pathname") == "/resnet-lab/"
        b.wait_for(WEIGHTS_LOADED, timeout=120, what="the fixture checkpoint, from the cache")
        b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
        run_sample(b)
        assert_same_predictions(predictions(b), reference)
        assert_matches_pytorch(predictions(b))
        text = b.js("return document.body.innerText")
        assert f"wasm CPU, {isolated_threads(b, 'mt-relaxed')}, relaxed SIMD" in text, text[:2000]
        assert not b.js("return document.querySelector('[data-testid=isolation-note]')")
        b.wait_for(OFFLINE, timeout=60, what="available offline")
        # Opened again, it is isolated from the start: no second reload.
        b.get(site + "?lang=en")
        b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
        assert b.js(RELOADS) == "navigate" and b.js("return self.crossOriginIsolated") is True
        if shots:
            b.screenshot(os.path.join(shots, "sub-path.png"))
    finally:
        server.shutdown()


def test_the_service_worker_never_reloads_a_page_that_holds_the_users_work(b, url, shots):
    server, site = serve_under_sub_path(ARGS.dist, "busy")
    try:
        b.get(site + "?lang=en")
        b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
        run_sample(b)  # an image and its results: the user's work
        b.wait_for("return !!navigator.serviceWorker.controller;", timeout=120, what="the service worker")
        time.sleep(2)
        assert b.js(RELOADS) == "navigate" and len(predictions(b)) == 5
        assert b.js("return self.crossOriginIsolated") is False
        if b.js("return navigator.hardwareConcurrency") > 1:
            assert b.js("return document.querySelector('[data-testid=isolation-note]').dataset.state") == "pending"
        # The next visit is isolated from the start.
        b.get(site + "?lang=en")
        b.wait_for("return self.crossOriginIsolated === true;", timeout=30, what="isolation on the next visit")
        assert b.js(RELOADS) == "navigate"
    finally:
        server.shutdown()


WEIGHTS_LOADED = ("const e = document.querySelector('[data-testid=weights-status]');"
                  "return e && e.dataset.state === 'pretrained' ? e.innerText : null;")


def test_after_one_visit_the_site_runs_offline_with_its_cached_checkpoint(b, url, shots):
    # Its own checkpoint: Cache Storage is per origin, and the root's must stay without it for
    # the other tests.
    weights = generated_weights("xavier-4.safetensors", "xavier", 4)
    b.get(f"{url}?weights={weights}")
    b.wait_for(WEIGHTS_LOADED, timeout=120, what="weights loaded")
    run_sample(b)
    reference = predictions(b)
    # A server in its own process: stopping it closes every connection the browser holds.
    port = free_port()
    server = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "e2e", "static_server.py"),
                               site_with(ARGS.dist, "offline"), str(port), "--plain"], stdout=subprocess.DEVNULL)
    site = f"http://127.0.0.1:{port}/offline/"
    try:
        Browser.wait_for_port(port)
        b.get(f"{site}?weights={weights}")
        b.wait_for("return self.crossOriginIsolated === true;", timeout=120, what="isolation by the service worker")
        b.wait_for(WEIGHTS_LOADED, timeout=120, what="weights downloaded")
        b.wait_for(OFFLINE, timeout=60, what="available offline")
    finally:
        server.kill()
        server.wait()
    # The network is gone: nothing outside the cache answers.
    answer = b.js_async("const done = arguments[arguments.length - 1];"
                        "fetch('e2e/none.bin').then(r => done('answered ' + r.status), e => done('failed'));")
    assert answer == "failed", answer
    b.get(f"{site}?weights={weights}&lang=en")
    status = b.wait_for(WEIGHTS_LOADED, timeout=120, what="the checkpoint from Cache Storage")
    assert "from cache" in status, status
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples offline")
    run_sample(b)
    assert_same_predictions(predictions(b), reference)
    assert b.js("return self.crossOriginIsolated") is True
    assert f"{isolated_threads(b, 'mt-relaxed')}, relaxed SIMD" in b.js("return document.body.innerText")
    assert b.js(OFFLINE)
    if shots:
        b.screenshot(os.path.join(shots, "offline.png"))


def test_a_new_deployment_replaces_the_cached_site_whole(b, url, shots):
    folder = tempfile.mkdtemp(prefix="resnet-lab-deploy-")
    site_dir = os.path.join(folder, "site")
    shutil.copytree(ARGS.dist, site_dir, ignore=shutil.ignore_patterns("*.br", "*.gz", "e2e"))
    server, site = serve_under_sub_path(site_dir, "deploy")
    try:
        b.get(site)
        b.wait_for(OFFLINE, timeout=120, what="available offline")
        old = b.js_async("const done = arguments[arguments.length - 1]; caches.keys().then(done);")
        # A second deployment: another page (a marker in index.html), hence another version.
        index = os.path.join(site_dir, "index.html")
        with open(index) as f:
            html = f.read()
        with open(index, "w") as f:
            f.write(html.replace("<head>", '<head>\n  <meta name="deployment" content="second" />', 1))
        subprocess.run(["node", os.path.join(ROOT, "www", "finish_build.mjs"), site_dir], check=True,
                       capture_output=True)
        b.get(site)
        # The old cache serves this visit, the new version installs beside it and takes over.
        b.wait_for("return !!document.querySelector('meta[name=deployment]');", timeout=120,
                   what="the second deployment")
        new = b.js_async("const done = arguments[arguments.length - 1]; caches.keys().then(done);")
        apps = [k for k in new if k.startswith("resnet-lab-app-")]
        assert len(apps) == 1 and apps[0] not in old, (old, new)
        b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
        run_sample(b)
        assert len(predictions(b)) == 5
    finally:
        server.shutdown()
        shutil.rmtree(folder, ignore_errors=True)


WORKER_BUILDS = ["worker.js", "relaxed/worker.js"]
THREADED_WORKER_BUILDS = ["mt/worker.js", "mt-relaxed/worker.js"]


def test_site_has_every_engine_worker_build(b, url, shots):
    # `make build` (trunk and its post_build hook) must have made all four whenever the pinned
    # nightly is there (`make nightly-tools`); the page would quietly fall back to a slower one.
    wanted = list(WORKER_BUILDS)
    nightly = subprocess.run(["rustc", "+resnet-lab-nightly", "--version"], capture_output=True).returncode == 0
    if nightly:
        wanted += THREADED_WORKER_BUILDS
    else:
        print("     NOTE no nightly toolchain (make nightly-tools failed): no threaded builds to check")
    missing = [w for w in wanted if not os.path.exists(os.path.join(ARGS.dist, w))]
    assert not missing, f"missing from {ARGS.dist}: {missing} (see the post_build hook's output)"


# Makes this Chromium's WebAssembly refuse relaxed SIMD (f32x4.relaxed_madd) as far as the page's
# probe can tell, like a browser that does not have it.
NO_RELAXED_SIMD = """
(() => {
  const validate = WebAssembly.validate;
  WebAssembly.validate = function (bytes) {
    const a = new Uint8Array(ArrayBuffer.isView(bytes) ? bytes.buffer.slice(bytes.byteOffset,
      bytes.byteOffset + bytes.byteLength) : bytes);
    for (let i = 0; i + 2 < a.length; i++) {
      if (a[i] === 0xfd && a[i + 1] === 0x85 && a[i + 2] === 0x02) return false;
    }
    return validate.call(WebAssembly, bytes);
  };
})();
"""


def test_browser_without_relaxed_simd_gets_the_plain_builds_with_the_same_predictions(b, url, shots):
    relaxed = sample_predictions(b, url)
    plain_browser = Browser()
    not_isolated, not_isolated_url = serve_without_isolation()
    try:
        plain_browser.cdp("Page.addScriptToEvaluateOnNewDocument", {"source": NO_RELAXED_SIMD})
        # Isolated: the threaded plain build; not isolated: trunk's single-threaded one.
        for page, label in [(url, f"wasm CPU, {isolated_threads(b, 'mt')}"),
                            (not_isolated_url, "wasm CPU, 1 thread")]:
            rows = sample_predictions(plain_browser, page + "?lang=en")
            text = plain_browser.js("return document.body.innerText")
            assert label in text and "relaxed SIMD" not in text, (label, text[:2000])
            assert_same_predictions(rows, relaxed)
    finally:
        plain_browser.quit()
        not_isolated.shutdown()


def test_weights_from_query_change_the_predictions(b, url, shots):
    b.get(url)
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    run_sample(b)
    before = predictions(b)
    weights = generated_weights("xavier-3.safetensors", "xavier", 3)
    b.get(f"{url}?weights={weights}")
    b.wait_for("const e = document.querySelector('[data-testid=weights-status]');"
               "return e && e.dataset.state === 'pretrained';", timeout=120, what="weights loaded")
    assert "xavier-3.safetensors" in b.text("weights-status")
    assert "from cache" not in b.text("weights-status")
    run_sample(b)
    after = predictions(b)
    assert len(after) == 5 and after != before, (before, after)
    # The next visit takes the same checkpoint from Cache Storage.
    b.get(f"{url}?weights={weights}")
    b.wait_for("const e = document.querySelector('[data-testid=weights-status]');"
               "return e && e.dataset.state === 'pretrained';", timeout=120, what="weights loaded again")
    assert "from cache" in b.text("weights-status"), b.text("weights-status")


def test_corrupt_image_shows_an_error_and_keeps_results(b, url, shots):
    b.get(url)
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    run_sample(b)
    before = predictions(b)
    corrupt = os.path.join(tempfile.mkdtemp(), "broken.jpg")
    with open(corrupt, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 20)
    b.upload("image-input", corrupt)
    b.wait_for("return document.querySelector('[data-testid=error]')", timeout=30, what="error message")
    assert "image" in b.text("error").lower()
    assert predictions(b) == before
    assert b.js("return document.querySelectorAll('[data-testid^=stage-]').length") >= 5


def test_truncated_weights_show_an_error_and_keep_everything(b, url, shots):
    b.get(url)
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    run_sample(b)
    before = predictions(b)
    truncated = generated_weights("truncated.safetensors", "he", 1, truncate=4096)
    b.click("nav-settings")
    status_before = b.text("weights-status")
    b.js("const i = document.querySelector('[data-testid=weights-url]'); i.value = arguments[0];"
         "i.dispatchEvent(new Event('input', {bubbles: true}));", truncated)
    b.click("weights-load")
    b.wait_for("return document.querySelector('[data-testid=error]')", timeout=60, what="error message")
    message = b.text("error")
    assert "not a valid safetensors file" in message, message
    assert b.text("weights-status") == status_before
    b.click("nav-explore")
    assert predictions(b) == before


def png_file(width, height, path=None, header_only=False):
    """A real RGB PNG (a gradient) written with the standard library; `header_only` stops
    after the IHDR chunk (a decompression bomb's header)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    out = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))]
    if not header_only:
        z = zlib.compressobj(1)
        parts = []
        row = bytes((x * 7) % 256 for x in range(width * 3))
        for y in range(height):
            parts.append(z.compress(b"\x00" + row[y % 3:] + row[:y % 3]))
        parts.append(z.flush())
        out += [chunk(b"IDAT", b"".join(parts)), chunk(b"IEND", b"")]
    path = path or os.path.join(tempfile.mkdtemp(), f"{width}x{height}.png")
    with open(path, "wb") as f:
        f.writelines(out)
    return path


def upload_expecting_error(b, path, words):
    """Uploads `path` as the image; waits for an error naming the problem (any of `words`)."""
    b.js("const e = document.querySelector('[data-testid=error] button'); if (e) e.click();")
    b.upload("image-input", path)
    message = b.wait_for("const e = document.querySelector('[data-testid=error]'); return e ? e.innerText : null;",
                         timeout=60, what=f"an error for {os.path.basename(path)}")
    assert any(w in message for w in words), f"{os.path.basename(path)}: {message}"
    return message


def upload_and_run(b, path):
    """Uploads `path` as the image, waits for its run and returns the top-5."""
    b.js("window.__done = null; const o = new MutationObserver(() => { const e = document.querySelector("
         "'[data-testid=run-status]'); if (e && e.dataset.state === 'running') window.__done = 'running';"
         " if (e && e.dataset.state === 'done' && window.__done === 'running') window.__done = 'done'; });"
         "o.observe(document.body, {subtree: true, attributes: true, childList: true});")
    b.upload("image-input", path)
    b.wait_for("return window.__done === 'done';", timeout=180, what=f"the run on {os.path.basename(path)}")
    return predictions(b)


def test_photos_decode_as_pil_shows_them_orientation_transparency_colour(b, url, shots):
    b.get(f"{url}?lang=en&weights={fixture_weights()}")
    b.wait_for(WEIGHTS_LOADED, timeout=120, what="the fixture checkpoint")
    folder = os.path.join(ROOT, "tests", "fixtures", "decoding")
    # Each file and PIL's view of it (upright, over white, without its gamma) give the same
    # network input, so the same top-5 (Chromium's libjpeg-turbo and PIL's agree on this JPEG).
    # With Chromium's defaults the gAMA file moved p(top-1) from 0.065 to 0.121, and the
    # transparent one gave 0.065 where PIL's over white gives 0.141.
    for file, reference, tolerance in [("exif6.jpg", "exif6_upright.png", 5e-5),
                                       ("alpha.png", "alpha_over_white.png", 5e-5),
                                       ("gamma1.png", "plain.png", 5e-5)]:
        ours = upload_and_run(b, os.path.join(folder, file))
        theirs = upload_and_run(b, os.path.join(folder, reference))
        worst = max(abs(float(p) - float(q)) for (_, p), (_, q) in zip(ours, theirs))
        print(f"     {file} against PIL's {reference}: largest |Δp| {worst:.1e}", flush=True)
        assert [c for c, _ in ours] == [c for c, _ in theirs], (file, ours, theirs)
        assert worst <= tolerance, (file, ours, theirs)


def test_hostile_images_give_clear_messages_and_keep_results(b, url, shots):
    b.get(url + "?lang=en")
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    run_sample(b)
    before = predictions(b)
    folder = tempfile.mkdtemp()
    with open(os.path.join(ROOT, "static", "samples", "cat.jpg"), "rb") as f:
        cat = f.read()
    truncated = os.path.join(folder, "cut.jpg")
    with open(truncated, "wb") as f:
        f.write(cat[: len(cat) // 3])
    empty = os.path.join(folder, "empty.png")
    open(empty, "wb").close()
    cases = [
        (png_file(8192, 1), ["more than 32 times"]),
        (png_file(1, 8192), ["more than 32 times"]),
        (png_file(30000, 30000, os.path.join(folder, "bomb.png"), header_only=True), ["200 megapixels"]),
        (truncated, ["incomplete"]),
        (empty, ["empty"]),
    ]
    for path, words in cases:
        upload_expecting_error(b, path, words)
        assert predictions(b) == before, f"{os.path.basename(path)} changed the predictions"
    # A 100-megapixel photo is decoded downscaled and predicted.
    b.js("const e = document.querySelector('[data-testid=error] button'); if (e) e.click();")
    big = png_file(12500, 8000, os.path.join(folder, "big.png"))
    b.upload("image-input", big)
    b.wait_for(f"{STATE.replace('return e ? e.dataset.state : null;', '')} return e && e.dataset.state === 'running';",
               timeout=120, what="the 100 MP run to start")
    b.wait_for(STATE.replace("return e ? e.dataset.state : null;", "return e && e.dataset.state === 'done';"),
               timeout=300, what="the 100 MP run to finish")
    assert not b.js("return document.querySelector('[data-testid=error]')"), b.text("error")
    assert len(predictions(b)) == 5
    # And the next sample still runs, with the first predictions again.
    run_sample(b)
    assert_same_predictions(predictions(b), before)


class Misbehaving(http.server.BaseHTTPRequestHandler):
    """Weights served badly, from another origin (with CORS, as the Hugging Face hub does):
    /lying states a longer Content-Length than it sends; /cut stops halfway through the body.
    /slow sends the body in 1 MB pieces, 0.2 s apart, and records whether the browser hung up
    before the end. GETs are counted, so a test can tell whether anything was downloaded."""
    body = b""
    gets = []
    slow_cut_short = None

    def cors(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "Content-Length")
        self.send_header("Cross-Origin-Resource-Policy", "cross-origin")

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.cors()
        self.end_headers()

    def do_GET(self):
        Misbehaving.gets.append(self.path)
        body = self.body
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        stated = len(body) + (4096 if self.path.startswith("/lying") else 0)
        if self.path.startswith("/huge"):
            stated, body = 600 << 20, body[:1 << 20]
        self.send_header("Content-Length", str(stated))
        self.cors()
        self.end_headers()
        if self.path.startswith("/cut"):
            body = body[: len(body) // 2]
        if self.path.startswith("/slow"):
            Misbehaving.slow_cut_short = False
            try:
                for start in range(0, len(body), 1 << 20):
                    self.wfile.write(body[start:start + (1 << 20)])
                    self.wfile.flush()
                    time.sleep(0.2)
            except (BrokenPipeError, ConnectionResetError):
                Misbehaving.slow_cut_short = True
            self.close_connection = True
            return
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


def misbehaving_server():
    with open(os.path.join(ARGS.dist, generated_weights("xavier-3.safetensors", "xavier", 3)), "rb") as f:
        Misbehaving.body = f.read()
    Misbehaving.gets = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Misbehaving)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def load_weights_url(b, weights_url):
    b.js("const i = document.querySelector('[data-testid=weights-url]'); i.value = arguments[0];"
         "i.dispatchEvent(new Event('input', {bubbles: true}));", weights_url)
    b.click("weights-load")


def test_broken_weight_downloads_say_so_and_keep_the_weights(b, url, shots):
    server, other = misbehaving_server()
    try:
        b.get(url + "?lang=en")
        b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
        run_sample(b)
        before = predictions(b)
        b.click("nav-settings")
        status_before = b.text("weights-status")
        for path, words in (("/lying.safetensors", ["download", "bytes"]), ("/cut.safetensors", ["download", "bytes"]),
                            ("/huge.safetensors", ["600 MB", "512 MB"])):
            b.js("const e = document.querySelector('[data-testid=error] button'); if (e) e.click();")
            load_weights_url(b, other + path)
            message = b.wait_for("const e = document.querySelector('[data-testid=error]'); return e ? e.innerText : null;",
                                 timeout=120, what=f"an error for {path}")
            assert all(w in message for w in words), f"{path}: {message}"
            assert b.text("weights-status") == status_before, (path, b.text("weights-status"))
        b.click("nav-explore")
        assert predictions(b) == before
    finally:
        server.shutdown()


def test_a_newer_weights_request_cancels_the_running_download(b, url, shots):
    server, other = misbehaving_server()
    try:
        b.get(f"{url}?lang=en&weights={other}/slow.safetensors")
        b.wait_for("return document.querySelector('[data-testid=weights-offer-yes]')", what="the question")
        b.click("weights-offer-yes")
        b.click("nav-settings")
        b.wait_for("const e = document.querySelector('[data-testid=weights-progress]');"
                   "return e && /[1-9]/.test(e.innerText);", timeout=60, what="the slow download under way")
        # The user picks a local file meanwhile: it wins, the download stops.
        b.upload("weights-file", os.path.join(ARGS.dist, generated_weights("xavier-3.safetensors", "xavier", 3)))
        b.wait_for("const e = document.querySelector('[data-testid=weights-status]');"
                   "return e && e.dataset.state === 'pretrained' && e.innerText.includes('xavier-3');",
                   timeout=120, what="the picked file's weights")
        assert "slow" not in b.text("weights-status")
        deadline = time.time() + 30
        while Misbehaving.slow_cut_short is not True and time.time() < deadline:
            time.sleep(0.2)
        assert Misbehaving.slow_cut_short is True, "the slow download was read to the end"
        assert not b.js("return document.querySelector('[data-testid=error]')"), b.text("error")
    finally:
        server.shutdown()


def test_a_cached_checkpoint_that_no_longer_loads_is_downloaded_again(b, url, shots):
    weights = generated_weights("xavier-5.safetensors", "xavier", 5)
    b.get(url + "?lang=en")
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    # A damaged entry under the checkpoint's URL, as a disk error or an old bug would leave it.
    absolute = b.js("return new URL(arguments[0], location.href).href;", weights)
    assert b.js_async("const done = arguments[arguments.length - 1];"
                      "caches.open('resnet-lab-weights-v1').then(c => c.put(arguments[0],"
                      " new Response(new Uint8Array([16, 0, 0, 0, 0, 0, 0, 0, 123, 125])))).then(() => done(true));",
                      absolute)
    b.get(f"{url}?lang=en&weights={weights}")
    status = b.wait_for(WEIGHTS_LOADED, timeout=120, what="the checkpoint, downloaded again")
    assert "xavier-5" in status and "from cache" not in status, status
    assert not b.js("return document.querySelector('[data-testid=error]')"), b.text("error")
    # The good copy replaced the damaged one.
    b.get(f"{url}?lang=en&weights={weights}")
    status = b.wait_for(WEIGHTS_LOADED, timeout=120, what="the checkpoint from the cache")
    assert "from cache" in status, status


def test_a_picked_weights_file_is_read_by_the_worker(b, url, shots):
    b.get(url + "?lang=en")
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    run_sample(b)
    before = predictions(b)
    path = os.path.join(ARGS.dist, generated_weights("xavier-3.safetensors", "xavier", 3))
    b.click("nav-settings")
    b.upload("weights-file", path)
    b.wait_for("const e = document.querySelector('[data-testid=weights-status]');"
               "return e && e.dataset.state === 'pretrained';", timeout=120, what="weights from the file")
    assert "xavier-3.safetensors" in b.text("weights-status"), b.text("weights-status")
    assert "blob:" not in b.text("weights-status")
    b.click("nav-explore")
    run_sample(b)
    assert predictions(b) != before
    # A broken file keeps them.
    broken = os.path.join(tempfile.mkdtemp(), "broken.safetensors")
    with open(broken, "wb") as f:
        f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    b.click("nav-settings")
    status = b.text("weights-status")
    b.upload("weights-file", broken)
    message = b.wait_for("const e = document.querySelector('[data-testid=error]'); return e ? e.innerText : null;",
                         timeout=60, what="an error for the broken file")
    assert "broken.safetensors" in message, message
    assert b.text("weights-status") == status


TIMM_CONFIG = {"architecture": "resnet50", "num_classes": 1000, "pretrained_cfg": {
    "tag": "a1_in1k", "input_size": [3, 224, 224], "test_input_size": [3, 288, 288], "interpolation": "bicubic",
    "crop_pct": 0.95, "test_crop_pct": 1.0, "crop_mode": "center", "mean": [0.485, 0.456, 0.406],
    "std": [0.229, 0.224, 0.225]}}
TRANSFORMERS_PREPROCESSOR = {"crop_pct": 0.875, "do_normalize": True, "do_resize": True,
                             "image_processor_type": "ConvNextImageProcessor", "image_mean": [0.485, 0.456, 0.406],
                             "image_std": [0.229, 0.224, 0.225], "resample": 3, "size": {"shortest_edge": 224}}
# A transformers repository's config.json describes the model, not its preprocessing.
TRANSFORMERS_MODEL_CONFIG = {"architectures": ["ResNetForImageClassification"], "model_type": "resnet",
                             "depths": [3, 4, 6, 3], "hidden_sizes": [256, 512, 1024, 2048]}


def hub_folder(name, files):
    """A folder of dist/e2e/ laid out as a hub repository: model.safetensors (the fixture
    checkpoint, hard-linked) and the given JSON files."""
    folder = os.path.join(ARGS.dist, "e2e", name)
    os.makedirs(folder, exist_ok=True)
    model = os.path.join(folder, "model.safetensors")
    if not os.path.exists(model):
        os.link(os.path.join(ARGS.dist, fixture_weights()), model)
    for file, content in files.items():
        with open(os.path.join(folder, file), "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
    return f"e2e/{name}/model.safetensors"


PREPROCESS = ("const e = document.querySelector('[data-testid=preprocess]');"
              "return e ? [e.dataset.interpolation, Number(e.dataset.resize), Number(e.dataset.crop), e.innerText] : null;")


def test_checkpoints_bring_their_own_preprocessing_and_the_page_says_which(b, url, shots):
    b.get(url + "?lang=en")
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    assert b.js(PREPROCESS)[:3] == ["bilinear", 256, 224], b.js(PREPROCESS)
    assert "torchvision's default" in b.js(PREPROCESS)[3]
    default = sample_predictions(b, url + "?lang=en")
    cases = [
        ("timm", {"config.json": TIMM_CONFIG}, ["bicubic", 235, 224], "bicubic → 235, crop 224 (0.95) · timm"),
        ("hf", {"preprocessor_config.json": TRANSFORMERS_PREPROCESSOR, "config.json": TRANSFORMERS_MODEL_CONFIG},
         ["bicubic", 256, 224], "bicubic → 256, crop 224 (0.875) · transformers preprocessor_config.json"),
    ]
    for name, files, recipe, words in cases:
        weights = hub_folder(name, files)
        b.get(f"{url}?lang=en&weights={weights}")
        b.wait_for(WEIGHTS_LOADED, timeout=120, what=f"the {name} checkpoint")
        shown = b.js(PREPROCESS)
        assert shown[:3] == recipe and words in shown[3], shown
        run_sample(b)
        rows = predictions(b)
        # Same weights, another recipe: other probabilities.
        assert rows != default and len(rows) == 5, (rows, default)
        if shots:
            b.js("window.scrollTo(0, 0)")
            b.screenshot(os.path.join(shots, f"preprocess-{name}.png"))
    # A config that does not read: the weights load, the page says why, torchvision's recipe.
    weights = hub_folder("broken", {"preprocessor_config.json": '{"resample": 1, "size": 224, "crop_pct": 0.875}'})
    b.get(f"{url}?lang=en&weights={weights}")
    b.wait_for(WEIGHTS_LOADED, timeout=120, what="the checkpoint with a broken config")
    message = b.wait_for("const e = document.querySelector('[data-testid=error]'); return e ? e.innerText : null;",
                         timeout=30, what="a message about the config")
    assert "preprocessor_config.json" in message and "resample 1" in message, message
    assert b.js(PREPROCESS)[:3] == ["bilinear", 256, 224]
    # A local checkpoint picked together with its config.
    folder = os.path.join(ARGS.dist, "e2e", "timm")
    b.click("nav-settings")
    b.upload("weights-file", "\n".join([os.path.join(folder, "model.safetensors"), os.path.join(folder, "config.json")]))
    b.wait_for("const e = document.querySelector('[data-testid=weights-status]');"
               "return e && e.dataset.state === 'pretrained' && e.innerText.includes('model.safetensors')"
               " && !e.innerText.includes('http');", timeout=120, what="the picked checkpoint")
    b.click("nav-explore")
    assert b.js(PREPROCESS)[:3] == ["bicubic", 235, 224], b.js(PREPROCESS)


def test_a_weights_link_to_another_site_asks_first(b, url, shots):
    server, other = misbehaving_server()
    try:
        weights = f"{other}/good.safetensors"
        b.get(f"{url}?lang=en&weights={weights}")
        offer = b.wait_for("const e = document.querySelector('[data-testid=weights-offer]');"
                           "return e && e.innerText.includes('MB') ? e.innerText : null;", timeout=60,
                           what="the question, with the stated size")
        assert server.server_address and f"127.0.0.1:{server.server_address[1]}" in offer, offer
        assert f"{len(Misbehaving.body) / 1e6:.1f} MB" in offer, offer
        assert Misbehaving.gets == [], f"downloaded before asking: {Misbehaving.gets}"
        b.click("weights-offer-no")
        assert not b.js("return document.querySelector('[data-testid=weights-offer]')")
        assert Misbehaving.gets == [], Misbehaving.gets
        b.get(f"{url}?lang=en&weights={weights}")
        b.wait_for("return document.querySelector('[data-testid=weights-offer-yes]')", what="the question again")
        b.click("weights-offer-yes")
        b.wait_for("const e = document.querySelector('[data-testid=weights-status]');"
                   "return e && e.dataset.state === 'pretrained';", timeout=120, what="weights loaded")
        # Once agreed: the weights, then the preprocessing configs of the same folder (404 here).
        assert Misbehaving.gets == ["/good.safetensors", "/preprocessor_config.json", "/config.json"], \
            Misbehaving.gets
    finally:
        server.shutdown()


def run_preset(b, preset, timeout=600):
    b.click(f"grad-preset-{preset}")
    t0 = b.js("return performance.now()")
    b.click("grad-run")
    b.wait_for("const e = document.querySelector('[data-testid=grad-status]'); return e && e.dataset.state === 'done';",
               timeout=timeout, what=f"{preset} preset done")
    return b.js("return performance.now()") - t0


def test_gradient_lab_classic_preset_shows_vanishing(b, url, shots):
    b.get(url + "?section=gradient-lab&lang=en")
    b.wait_for("return document.querySelector('[data-testid=grad-run]')", what="the lab")
    ms = run_preset(b, "classic")
    layers = b.js("return document.querySelector('[data-testid=grad-chart]').dataset.layers")
    assert layers == "54", layers
    assert b.js("return document.querySelector('[data-testid=grad-chart-x]').dataset.layers") == "17"
    summary = b.js("return document.querySelector('[data-testid=grad-summary]')")
    assert summary is not None
    assert b.js("return document.querySelector('[data-testid=grad-summary]').dataset.smaller") == "plain"
    text = b.text("grad-summary")
    assert "plain network's gradient" in text and "smaller" in text, text
    print(f"     classic preset at 64×64: {ms:.0f} ms")
    if shots:
        b.screenshot(os.path.join(shots, "lab-classic.png"))
    b.click("lang-vi")
    assert b.text("nav-gradient-lab") == "Phòng thí nghiệm gradient"
    assert b.text("grad-run") == "Chạy cả hai mạng"
    assert "triệt tiêu" in b.text("grad-summary")
    assert "?" in b.js("return document.querySelector('[data-testid=grad-link]').value")
    if shots:
        # The same preset at 224×224 (its share-link key), for the record.
        b.get(url + "?section=gradient-lab&lang=en&size=224")
        b.wait_for("return document.querySelector('[data-testid=grad-run]')", what="the lab")
        b.click("grad-run")
        b.wait_for("const e = document.querySelector('[data-testid=grad-status]');"
                   "return e && e.dataset.state === 'done';", timeout=600, what="classic at 224")
        b.screenshot(os.path.join(shots, "lab-classic-224.png"))


def test_gradient_lab_trained_preset_reads_as_growth(b, url, shots):
    b.get(url + "?section=gradient-lab&lang=en")
    b.wait_for("return document.querySelector('[data-testid=grad-run]')", what="the lab")
    ms = run_preset(b, "trained")
    assert b.js("return document.querySelector('[data-testid=grad-summary]').dataset.smaller") == "skip"
    assert "Nothing vanishes" in b.text("grad-summary")
    print(f"     as-trained preset at 64×64: {ms:.0f} ms")
    if shots:
        b.screenshot(os.path.join(shots, "lab-trained.png"))


def test_gradient_lab_batch_of_8_at_224_fits_and_warns_about_float32(b, url, shots):
    """The batch preset: 8 images at 224 (the current one, the samples, their mirror images) in
    wasm32, with the float32 warning shown; float64 (the "As trained" preset's) hides it."""
    b.get(url + "?section=gradient-lab&lang=en")
    b.wait_for("return document.querySelector('[data-testid=grad-run]')", what="the lab")
    assert not b.js("return document.querySelector('[data-testid=grad-f32-warning]')")
    ms = run_preset(b, "trained-batch", timeout=900)
    assert b.js("return document.querySelector('[data-testid=grad-meta]').dataset.batch") == "8"
    assert "8 images" in b.text("grad-meta"), b.text("grad-meta")
    assert "float32" in b.text("grad-f32-warning")
    assert b.js("return document.querySelector('[data-testid=grad-chart]').dataset.layers") == "54"
    assert "batch=8" in b.js("return document.querySelector('[data-testid=grad-link]').value")
    memory = b.js("const e = document.querySelector('[data-testid=engine-memory]');"
                  "return e ? Number(e.dataset.bytes) : null;")
    print(f"     batch of 8 at 224×224: {ms:.0f} ms, engine wasm memory "
          + (f"{memory / 2**20:.0f} MB" if memory else "not shown"))
    if shots:
        b.screenshot(os.path.join(shots, "lab-batch.png"))
    b.click("grad-preset-trained")
    assert not b.js("return document.querySelector('[data-testid=grad-f32-warning]')")
    assert b.js("return document.querySelector('[data-testid=grad-precision]').value") == "f64"


def test_learn_page_depth_demo_and_caveats(b, url, shots):
    b.get(url + "?section=learn&lang=en")
    b.wait_for("return document.querySelector('[data-testid=learn-depth]')", what="learn page")
    first = b.text("learn-depth-reading")
    b.js("const i = document.querySelector('[data-testid=learn-depth]'); i.value = 50;"
         "i.dispatchEvent(new Event('input', {bubbles: true}));")
    b.wait_for("return document.querySelector('[data-testid=learn-depth-reading]').innerText.includes('layer 50')",
               what="depth 50")
    assert first != b.text("learn-depth-reading")
    assert "He et al." in b.text("learn-bn-caveat")
    assert "global average pooling" in b.text("learn-head-caveat")
    if shots:
        b.screenshot(os.path.join(shots, "learn.png"))
    b.click("learn-row-layer3.0")
    assert b.js("return document.querySelector('[data-testid=main]').dataset.section") == "explore"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dist", default=os.path.join(ROOT, "dist"))
    parser.add_argument("--screenshots", default=None)
    parser.add_argument("-k", default="", help="run only tests whose name contains this")
    args = parser.parse_args()
    global ARGS
    ARGS = args
    if not os.path.exists(CLI):
        sys.exit("build the CLI first: cargo build --release --bin resnet-lab")
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
