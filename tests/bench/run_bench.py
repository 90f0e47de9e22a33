#!/usr/bin/env python3
"""`make bench`: ResNet-50 224×224 forward in headless Chromium — our wasm engine against ONNX
Runtime Web, TensorFlow.js and LiteRT.js (wasm) on the same network and weights, same machine,
same run — plus native figures. Prints one table, writes BENCHMARKS.md and
target/bench/latest.json. Timings here are noisy (±20 %): only ratios from one run mean much.

Run through `make bench` (it builds and installs what this needs).
"""
import datetime
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from static_server import serve  # noqa: E402
from webdriver import Browser, free_port  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import first_visit  # noqa: E402

CLI = os.path.join(ROOT, "target", "release", "resnet-lab")
OUT = os.path.join(ROOT, "target", "bench")
THREADS = os.cpu_count() or 1
RUNS = int(os.environ.get("BENCH_RUNS", "10"))
# The CPU engines' runs are split over rounds, each round a page per engine in turn (the order
# reversed every other round), and pooled: this host's speed swings by ±25 % from one minute to
# the next, and one engine's ten runs in a row could all fall in a slow minute.
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "3")))
# WebGPU here is SwiftShader (a CPU emulation): a few runs are enough for the record.
GPU_RUNS = int(os.environ.get("BENCH_GPU_RUNS", "3"))
# LiteRT.js's model, made by litert-torch in make bench (tests/bench/make_litert_model.py).
TFLITE = os.path.join(OUT, "models", "resnet50.tflite")


def cpu_model():
    """The processor's name (Linux), else what Python knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def in_browser(b, base, engine, threads, runs=RUNS, timeout=900, extras=True):
    extra = "" if extras else "&extras=0"
    b.get(f"{base}/tests/bench/bench.html?engine={engine}&threads={threads}&runs={runs}{extra}")
    return b.wait_for("return window.benchResult || null;", timeout=timeout, what=f"{engine} {threads}t")


def in_rounds(b, base, pages):
    """`pages` ((key, engine, threads) each) timed in ROUNDS rounds of RUNS / ROUNDS runs: each
    key's result is its first round's (Grad-CAM and profile included) with the median and the
    minimum over the runs of all rounds."""
    per_round = -(-RUNS // ROUNDS)
    results = {}
    for rnd in range(ROUNDS):
        for key, engine, threads in pages if rnd % 2 == 0 else pages[::-1]:
            r = in_browser(b, base, engine, threads, runs=per_round, extras=rnd == 0)
            if "error" in r:
                raise SystemExit(f"{engine} {threads}t failed: {r['error']}")
            if key in results:
                results[key]["times"] += r["times"]
                if r["first_logit"] != results[key]["first_logit"]:
                    raise SystemExit(f"{engine} {threads}t: first logit {r['first_logit']} in round {rnd + 1}, "
                                     f"{results[key]['first_logit']} before")
            else:
                results[key] = r
            extra = f" ({r['build']})" if "build" in r else ""
            print(f"  round {rnd + 1}/{ROUNDS} {engine:13} {threads}t{extra}: median {r['median_ms']:.0f} ms, "
                  f"min {r['min_ms']:.0f} ms", flush=True)
    for r in results.values():
        times = sorted(r["times"])
        r.update(times=times, runs=len(times), median_ms=statistics.median(times), min_ms=times[0])
    return results


def native_ours(threads):
    env = {**os.environ, "RAYON_NUM_THREADS": str(threads)}
    out = subprocess.run([CLI, "bench", "--json", "--iters", str(RUNS)], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def native_gpu():
    """`resnet-lab bench --backend webgpu` (wgpu on Vulkan; lavapipe where there is no GPU)."""
    out = subprocess.run([CLI, "bench", "--backend", "webgpu", "--json", "--iters", str(GPU_RUNS)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout)


def native_ort():
    code = f"""
import json, time, numpy as np, onnxruntime as ort
o = ort.SessionOptions(); o.intra_op_num_threads = 1; o.inter_op_num_threads = 1
s = ort.InferenceSession({os.path.join(OUT, 'models', 'resnet50.onnx')!r}, o, providers=['CPUExecutionProvider'])
x = np.ones((1, 3, 224, 224), np.float32)
for _ in range(3): s.run(None, {{'input': x}})
t = []
for _ in range({RUNS}):
    t0 = time.perf_counter(); s.run(None, {{'input': x}}); t.append((time.perf_counter() - t0) * 1e3)
t.sort(); print(json.dumps({{'median_ms': t[len(t) // 2], 'min_ms': t[0], 'version': ort.__version__}}))
"""
    out = subprocess.run([os.path.join(ROOT, ".tools", "venv", "bin", "python"), "-c", code], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def grads_ms(size, init, bn):
    out = subprocess.run([CLI, "grads", "--init", init, "--seed", "0", "--bn", bn, "--image",
                          os.path.join(ROOT, "static", "samples", "cat.jpg"), "--target", "281", "--size", str(size),
                          "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["elapsed_ms"]


def lab_in_page(b, dist_base, query, runs=3):
    """The Gradient lab in the real page (dist/): from the click on Run to the chart drawn, both
    networks forward and backward, for the settings in `query` (the lab's share-link keys plus
    `threads`); the median of `runs` clicks after one warm-up."""
    b.get(f"{dist_base}/?lang=en&section=gradient-lab&{query}")
    b.wait_for("const e = document.querySelector('[data-testid=engine-status]');"
               "return e && e.dataset.state === 'ready';", timeout=300, what="engine ready")
    times = []
    for _ in range(runs + 1):
        # Done counts only after the status has left the previous run's "done".
        b.js("window.labDone = null; let left = false; const t0 = performance.now();"
             "const obs = new MutationObserver(() => {"
             "  const e = document.querySelector('[data-testid=grad-status]');"
             "  if (!e || e.dataset.state !== 'done') { left = true; return; }"
             "  if (left && window.labDone === null) {"
             "    requestAnimationFrame(() => { window.labDone = performance.now() - t0; }); obs.disconnect(); } });"
             "obs.observe(document.body, {subtree: true, childList: true, attributes: true});"
             "document.querySelector('[data-testid=grad-run]').click();")
        times.append(b.wait_for("return window.labDone;", timeout=900, what=f"lab {query}"))
    return statistics.median(times[1:])


# The Gradient lab's presets as share-link keys: classic (the default: Xavier, no batch norm,
# float32), as trained (He, batch norm in training mode, float64) and the batch of 8 (float32).
LAB_PRESETS = {"classic": "", "trained": "init=he&bn=train", "batch": "init=he&bn=train&batch=8&precision=f32"}


def lab_rows(b, dist_base):
    """The lab in the page at 64 and 224 (the batch preset at 224 only), at 1 and THREADS threads."""
    out = {}
    for threads in (1, THREADS):
        for size in (64, 224):
            for name, query in LAB_PRESETS.items():
                if name == "batch" and size != 224:
                    continue
                runs = 1 if name == "batch" else 3
                key = f"{name}_{size}_{threads}t"
                out[key] = lab_in_page(b, dist_base, f"threads={threads}&size={size}&{query}", runs)
                print(f"  lab {key}: {out[key]:.0f} ms", flush=True)
    return out


def torch_lab(size, threads, norm="off"):
    """PyTorch CPU eager for one lab click (tests/bench/torch_lab.py), in the reference venv of
    tests/reference/ (REFERENCE_PYTHON, default /tmp/refvenv/bin/python) or else in make bench's
    LiteRT venv, which has torch and torchvision too; None without either."""
    python = os.environ.get("REFERENCE_PYTHON", "/tmp/refvenv/bin/python")
    if not os.path.exists(python):
        python = os.path.join(ROOT, ".tools", "litert-venv", "bin", "python")
    if not os.path.exists(python) or subprocess.run([python, "-c", "import torch, torchvision"],
                                                    capture_output=True).returncode != 0:
        return None
    out = subprocess.run([python, os.path.join(ROOT, "tests", "bench", "torch_lab.py"), str(size), str(threads), norm],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["median_ms"]


def page_ready_ms(b, dist_base):
    times = []
    for _ in range(3):
        b.get(dist_base + "/")
        t = b.wait_for("const e = document.querySelector('[data-testid=engine-status]');"
                       "return e && e.dataset.state === 'ready' ? performance.now() : null;", timeout=120,
                       what="engine ready")
        times.append(t)
    return statistics.median(times)


MEMORY = "const e = document.querySelector('[data-testid=engine-memory]'); return e ? Number(e.dataset.bytes) : null;"


def settled_memory(b, seconds=3.0, timeout=180):
    """The worker's wasm memory once it has not grown for `seconds` (it never shrinks)."""
    last, since, start = None, time.time(), time.time()
    while time.time() - start < timeout:
        now = b.js(MEMORY)
        if now != last:
            last, since = now, time.time()
        elif now is not None and time.time() - since >= seconds:
            return now
        time.sleep(0.25)
    raise AssertionError("the engine's memory never settled")


def page_memory(b, dist_base, weights_rel):
    """The engine worker's wasm memory in the real page (dist/, 2 threads when isolated): in one
    visit after load (seeded init built), after an Explore run at 224 and after a Gradient lab
    run at 224 ("As trained", both networks); in a second, fresh visit after loading a ResNet-50
    checkpoint from a URL. wasm memory never shrinks, so each figure is also the high-water
    mark up to that point."""
    b.get(dist_base + "/?lang=en")
    b.wait_for("return document.querySelector('[data-testid=sample-cat]')", what="samples")
    out = {"mem_load_mb": settled_memory(b) / 2**20}
    b.click("sample-cat")
    b.wait_for("const e = document.querySelector('[data-testid=run-status]'); return e && e.dataset.state === 'done';",
               timeout=300, what="Explore at 224")
    out["mem_explore_mb"] = settled_memory(b, 1.0) / 2**20
    b.click("nav-gradient-lab")
    b.click("grad-preset-trained")
    b.js("const s = document.querySelector('[data-testid=grad-size]'); s.value = '224';"
         "s.dispatchEvent(new Event('change', {bubbles: true}));")
    # In float32, as the memory target is stated ("As trained" itself now computes in float64).
    b.js("const s = document.querySelector('[data-testid=grad-precision]'); s.value = 'f32';"
         "s.dispatchEvent(new Event('change', {bubbles: true}));")
    b.click("grad-run")
    b.wait_for("const e = document.querySelector('[data-testid=grad-status]'); return e && e.dataset.state === 'done';",
               timeout=900, what="Gradient lab at 224")
    out["mem_lab_mb"] = settled_memory(b, 1.0) / 2**20
    # Loading weights in a fresh visit, so that its high-water mark is its own.
    b.get(dist_base + "/?lang=en&section=settings")
    b.wait_for("return document.querySelector('[data-testid=weights-url]')", what="settings")
    settled_memory(b)
    b.click("nav-settings")
    b.js("const i = document.querySelector('[data-testid=weights-url]'); i.value = arguments[0];"
         "i.dispatchEvent(new Event('input', {bubbles: true}));", weights_rel)
    b.click("weights-load")
    b.wait_for("const e = document.querySelector('[data-testid=weights-status]'); return e && e.dataset.state === 'pretrained';",
               timeout=300, what="weights from a URL")
    out["mem_load_peak_mb"] = settled_memory(b, 1.0) / 2**20
    return out


def served_weights():
    """The exported checkpoint, linked into dist/bench/ so the page loads it from its own site."""
    weights = os.path.join(OUT, "weights.safetensors")
    if not os.path.exists(weights):
        subprocess.run([CLI, "export-init", "--init", "he", "--seed", "0", "--out", weights], check=True)
    os.makedirs(os.path.join(ROOT, "dist", "bench"), exist_ok=True)
    served = os.path.join(ROOT, "dist", "bench", "weights.safetensors")
    if os.path.exists(served):
        os.remove(served)
    os.link(weights, served)
    return "bench/weights.safetensors"


def memory_only():
    """`run_bench.py --memory`: only the page's memory figures (dist/ and the exported weights)."""
    os.makedirs(OUT, exist_ok=True)
    weights = served_weights()
    port = free_port()
    # BENCH_ISOLATED=0: a server without COOP/COEP, so the page runs the single-threaded build.
    isolated = os.environ.get("BENCH_ISOLATED", "1") != "0"
    server = serve(os.path.join(ROOT, "dist"), port, isolated=isolated)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    b = Browser()
    try:
        return page_memory(b, f"http://127.0.0.1:{port}", weights)
    finally:
        b.quit()
        server.shutdown()


def lab_only():
    """`run_bench.py --lab`: the Gradient lab's rows alone, on the built page (dist/)."""
    port = free_port()
    server = serve(os.path.join(ROOT, "dist"), port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    b = Browser()
    try:
        return lab_rows(b, f"http://127.0.0.1:{port}")
    finally:
        b.quit()
        server.shutdown()


def main():
    if "--memory" in sys.argv:
        print(json.dumps(memory_only(), indent=1))
        return
    if "--lab" in sys.argv:
        print(json.dumps(lab_only(), indent=1))
        return
    os.makedirs(OUT, exist_ok=True)
    root_port, dist_port = free_port(), free_port()
    servers = [serve(ROOT, root_port), serve(os.path.join(ROOT, "dist"), dist_port)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    base, dist_base = f"http://127.0.0.1:{root_port}", f"http://127.0.0.1:{dist_port}"
    chromium = subprocess.run(["chromium", "--version"], capture_output=True, text=True).stdout.strip()
    b = Browser()
    try:
        # Ours at several threads is the threaded build (nightly, shared memory). LiteRT.js where
        # litert-torch could make its model: its relaxed-SIMD builds (threaded at several
        # threads), and the build without relaxed SIMD beside our plain fallbacks.
        pages = [(("ours", 1), "ours", 1), (("ours", THREADS), "ours_mt", THREADS)]
        pages += [((e, t), e, t) for e in ("ort", "tfjs") for t in (1, THREADS)]
        if os.path.exists(TFLITE):
            pages += [(("litert", 1), "litert", 1), (("litert", THREADS), "litert", THREADS),
                      (("litert_compat", 1), "litert_compat", 1)]
        pages += [(("ours_plain", 1), "ours_plain", 1), (("ours_mt_plain", THREADS), "ours_mt_plain", THREADS)]
        results = in_rounds(b, base, pages)
        for (engine, threads), r in results.items():
            print(f"  {engine:13} {threads}t: median {r['median_ms']:.0f} ms, min {r['min_ms']:.0f} ms "
                  f"over {r['runs']} runs in {ROUNDS} rounds", flush=True)
        ready_ms = page_ready_ms(b, dist_base)
        memory = page_memory(b, dist_base, served_weights())
        lab = lab_rows(b, dist_base)
    finally:
        b.quit()
    gpu_results = {}
    g = Browser(webgpu=True)
    try:
        for engine in ("ours_webgpu", "ort_webgpu"):
            try:
                r = in_browser(g, base, engine, 1, GPU_RUNS, timeout=240)
            except AssertionError as e:  # a hung emulated GPU must not sink the CPU figures
                r = {"error": f"no result within 240 s ({str(e)[:120]})"}
            gpu_results[engine] = r
            if "error" in r:
                print(f"  {engine}: failed: {r['error'].splitlines()[0]}", flush=True)
            else:
                print(f"  {engine}: median {r['median_ms']:.0f} ms, min {r['min_ms']:.0f} ms", flush=True)
    finally:
        g.quit()
        for s in servers:
            s.shutdown()
    visit = first_visit.measure()
    logits = {k: v["first_logit"] for k, v in results.items()}
    ref = logits[("ours", 1)]
    agree = all(abs(v - ref) <= 1e-3 * max(1.0, abs(ref)) for v in logits.values())
    # Natively too, ours and ONNX Runtime take turns, and each keeps the median of its rounds.
    native_rounds = [(native_ours(1), native_ort()) for _ in range(ROUNDS)]
    n1 = {"median_ms": statistics.median(o["median_ms"] for o, _ in native_rounds)}
    nort = {"median_ms": statistics.median(t["median_ms"] for _, t in native_rounds),
            "version": native_rounds[0][1]["version"]}
    n2 = native_ours(THREADS)
    ngpu = native_gpu()
    # The engine worker's four builds (see src/web/worker_build.rs); the plain one is trunk's.
    builds = {name: open(os.path.join(ROOT, "dist", sub, "worker_bg.wasm"), "rb").read()
              for name, sub in (("plain", ""), ("relaxed", "relaxed"), ("mt", "mt"), ("mt-relaxed", "mt-relaxed"))}
    raw = builds["plain"]
    grads = {f"{size}": grads_ms(size, "xavier", "off") for size in (64, 224)}
    torch_labs = {t: torch_lab(224, t) for t in (1, 2)}

    def best(threads):
        """The fastest peer at `threads` (LiteRT.js's relaxed-SIMD build where it ran)."""
        return min(results[(peer, threads)]["median_ms"] for peer in ("ort", "tfjs", "litert")
                   if (peer, threads) in results)

    def best_plain():
        """The fastest peer build without relaxed SIMD at 1 thread: TF.js and ONNX Runtime Web
        (neither ships one with it) and LiteRT.js's compat build."""
        return min(results[(peer, 1)]["median_ms"] for peer in ("ort", "tfjs", "litert_compat")
                   if (peer, 1) in results)

    litert = ("litert", 1) in results

    ours_1t = results[("ours", 1)]["median_ms"]
    ours_mt = results[("ours", THREADS)]["median_ms"]
    latest = {
        "date": datetime.date.today().isoformat(),
        "chromium": chromium,
        "machine": f"{platform.machine()}, {THREADS} cores, {cpu_model()}",
        "threads": THREADS,
        "runs": RUNS,
        "rounds": ROUNDS,
        "ours_1t_ms": ours_1t,
        "ours_mt_ms": ours_mt,
        "ours_mt_threads": results[("ours", THREADS)].get("threads_used", THREADS),
        "ort_1t_ms": results[("ort", 1)]["median_ms"],
        "ort_mt_ms": results[("ort", THREADS)]["median_ms"],
        "tfjs_1t_ms": results[("tfjs", 1)]["median_ms"],
        "tfjs_mt_ms": results[("tfjs", THREADS)]["median_ms"],
        "litert_1t_ms": results[("litert", 1)]["median_ms"] if litert else None,
        "litert_mt_ms": results[("litert", THREADS)]["median_ms"] if litert else None,
        "litert_compat_1t_ms": results[("litert_compat", 1)]["median_ms"] if litert else None,
        "litert_builds": {f"{e}_{t}t": r["build"] for (e, t), r in results.items() if e.startswith("litert")},
        "min_ms": {f"{e}_{t}t": r["min_ms"] for (e, t), r in results.items()},
        "ratio_1t": ours_1t / best(1),
        "ratio_mt": ours_mt / best(THREADS),
        "native_ms": n1["median_ms"],
        "native_mt_ms": n2["median_ms"],
        "native_ort_1t_ms": nort["median_ms"],
        "native_ratio_vs_ort_1t": n1["median_ms"] / nort["median_ms"],
        "grads_ms": grads,
        "lab_ms": lab,
        "lab_224_1t_ms": lab["classic_224_1t"],
        "lab_224_mt_ms": lab[f"classic_224_{THREADS}t"],
        "lab_64_1t_ms": lab["classic_64_1t"],
        "torch_lab_224_1t_ms": torch_labs[1],
        "torch_lab_224_2t_ms": torch_labs[2],
        # Grad-CAM in the same pages as our forward (bench.js CAMS), and as multiples of it.
        "cam_ms": {f"{name}_{t}t": ms for t in (1, THREADS) for name, ms in results[("ours", t)]["cams"].items()},
        "cam_ratio": {f"{name}_{t}t": ms / results[("ours", t)]["median_ms"]
                      for t in (1, THREADS) for name, ms in results[("ours", t)]["cams"].items()},
        "wasm_bytes": len(raw),
        "wasm_gzip_bytes": len(gzip.compress(raw, 9)),
        "worker_builds_bytes": {k: {"raw": len(v), "gzip": len(gzip.compress(v, 9))} for k, v in builds.items()},
        "ours_plain_1t_ms": results[("ours_plain", 1)]["median_ms"],
        "ours_plain_mt_ms": results[("ours_mt_plain", THREADS)]["median_ms"],
        "ratio_plain_1t": results[("ours_plain", 1)]["median_ms"] / best_plain(),
        "page_ready_ms": ready_ms,
        "peak_memory_bytes": {f"{e}_{t}t": r.get("memory_bytes") for (e, t), r in results.items()},
        "webgpu": {k: ({"error": v["error"]} if "error" in v else
                       {"median_ms": v["median_ms"], "min_ms": v["min_ms"], "adapter": v.get("adapter"),
                        "first_logit": v["first_logit"]}) for k, v in gpu_results.items()},
        "native_webgpu": ngpu,
        "same_network": agree,
        "first_logits": {f"{e}_{t}t": v for (e, t), v in logits.items()},
        "first_visit": visit,
    }
    mb = lambda v: "n/a" if v is None else f"{v / 1e6:.0f} MB"  # noqa: E731
    rows = [
        "| engine (224×224 forward, headless Chromium, wasm) | 1 thread | %d threads |" % THREADS,
        "| --- | ---: | ---: |",
        f"| ResNet Lab (relaxed SIMD; Winograd 3×3 + packed GEMM, batch norm folded) | {ours_1t:.0f} ms | {ours_mt:.0f} ms (threaded build) |",
        f"| ONNX Runtime Web 1.30 `wasm` | {latest['ort_1t_ms']:.0f} ms | {latest['ort_mt_ms']:.0f} ms |",
        f"| TensorFlow.js 4.22 `wasm` (batch norm folded) | {latest['tfjs_1t_ms']:.0f} ms | {latest['tfjs_mt_ms']:.0f} ms |",
        (f"| LiteRT.js 2.5.3 `wasm` (XNNPACK; {latest['litert_builds']['litert_1t']} / "
         f"{latest['litert_builds'][f'litert_{THREADS}t']}; `.tflite` by litert-torch) | {latest['litert_1t_ms']:.0f} ms "
         f"| {latest['litert_mt_ms']:.0f} ms |" if litert else
         "| LiteRT.js 2.5.3 `wasm` | skipped: no `.tflite` (litert-torch not installed or failed) | skipped |"),
        f"| **ours / best peer** | **{latest['ratio_1t']:.2f}** | **{latest['ratio_mt']:.2f}** |",
        f"| ResNet Lab, plain-SIMD fallback (browsers without relaxed SIMD) | {latest['ours_plain_1t_ms']:.0f} ms "
        f"| {latest['ours_plain_mt_ms']:.0f} ms |",
        *([f"| LiteRT.js 2.5.3, `compat` build (no relaxed SIMD; it has no threaded one) | "
           f"{latest['litert_compat_1t_ms']:.0f} ms | — |"] if litert else []),
        f"| **plain-SIMD fallback / best peer build without relaxed SIMD** | **{latest['ratio_plain_1t']:.2f}** | |",
    ]
    native = [
        "| native (x86-64) | median |", "| --- | ---: |",
        f"| `resnet-lab bench`, 1 thread | {n1['median_ms']:.0f} ms |",
        f"| `resnet-lab bench`, {THREADS} threads | {n2['median_ms']:.0f} ms |",
        f"| ONNX Runtime {nort['version']} (Python), 1 thread | {nort['median_ms']:.0f} ms |",
        f"| **ours / ONNX Runtime, 1 thread** | **{latest['native_ratio_vs_ort_1t']:.2f}** |",
        f"| gradient flow, both networks, forward + backward, 64×64 | {grads['64']:.0f} ms |",
        f"| gradient flow, both networks, forward + backward, 224×224 | {grads['224']:.0f} ms |",
    ]
    forward = {1: ours_1t, THREADS: ours_mt}

    def torch_cell(t):
        ms = torch_labs.get(t)
        return "skipped (no venv with torch)" if ms is None else f"{ms:.0f} ms"

    lab_table = [
        "| Gradient lab in Chromium (click to chart, both networks forward + backward) | threads | ms | × our 224 forward |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {name}, {size}×{size} | {t} | {lab[f'{name}_{size}_{t}t']:.0f} | "
          + (f"{lab[f'{name}_{size}_{t}t'] / forward[t]:.1f} |" if size == 224 else "— |")
          for t in (1, THREADS) for size in (64, 224) for name in LAB_PRESETS if f"{name}_{size}_{t}t" in lab],
        f"| PyTorch CPU eager, classic, 224×224 (same machine) | 1 | {torch_cell(1)} | |",
        f"| PyTorch CPU eager, classic, 224×224 (same machine) | 2 | {torch_cell(2)} | |",
    ]
    if torch_labs[1] is not None:
        lab_table.append(f"| **ours / PyTorch, classic at 224** | 1 | **{lab['classic_224_1t'] / torch_labs[1]:.2f}** | |")
        lab_table.append(f"| **ours / PyTorch, classic at 224** | {THREADS} | **{lab[f'classic_224_{THREADS}t'] / torch_labs[2]:.2f}** | |")
    lab_table += ["", "Presets: classic = Xavier, no batch norm, float32; trained = He, batch norm in training mode, "
                  "float64; batch = trained on 8 images (the chosen one, the samples, their mirror images), float32. "
                  "Every click after the first reuses the lab's variables; the first also generates the init."]
    cam_names = {"top1_stage5": "top-1 at Stage 5 (layer4)", "top5_stage5": "top-5 at Stage 5 (layer4)",
                 "top5_stage4": "top-5 at Stage 4 (layer3)"}
    cam_table = [
        "| Grad-CAM in Chromium (one forward + the classes' backward) | threads | ms | × our forward |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {label} | {t} | {latest['cam_ms'][f'{name}_{t}t']:.0f} | {latest['cam_ratio'][f'{name}_{t}t']:.2f} |"
          for t in (1, THREADS) for name, label in cam_names.items()],
        "", "Targets: the top-1 at Stage 5 ≤ 2× our forward, the top-5 ≤ 3×, at the same thread count.",
    ]

    def gpu_cell(name):
        r = latest["webgpu"].get(name, {})
        return f"{r['median_ms']:.0f} ms" if "median_ms" in r else f"failed ({r.get('error', '?').splitlines()[0][:80]})"

    profile = results[("ours", 1)].get("profile") or []
    profile_mt = {r["kind"]: r["ms"] for r in results[("ours", THREADS)].get("profile") or []}
    total_ms = sum(r["ms"] for r in profile) or 1.0
    profile_rows = [
        f"| where ours spends a forward (wasm, one profiled run) | layers | ms, 1 thread | share | GFLOP/s | ms, {THREADS} threads |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *[f"| {r['kind']} | {r['count']} | {r['ms']:.0f} | {100 * r['ms'] / total_ms:.0f} % | "
          + (f"{r['gflop'] / (r['ms'] / 1e3):.1f} |" if r["gflop"] > 0 and r["ms"] > 0 else "— |")
          + (f" {profile_mt[r['kind']]:.0f} |" if r["kind"] in profile_mt else " — |")
          for r in profile],
    ]
    latest.update({k: round(v, 1) for k, v in memory.items()})
    latest["profile_1t"] = profile
    latest["profile_mt"] = results[("ours", THREADS)].get("profile")
    ours_gpu = latest["webgpu"].get("ours_webgpu", {})
    gpu_rows = [
        "| WebGPU, 224×224 forward (logits read back) | median |", "| --- | ---: |",
        f"| ResNet Lab WGSL kernels in Chromium ({ours_gpu.get('adapter') or 'no adapter'}) | {gpu_cell('ours_webgpu')} |",
        f"| ONNX Runtime Web 1.30 `webgpu` in Chromium | {gpu_cell('ort_webgpu')} |",
        f"| `resnet-lab bench --backend webgpu` (native wgpu, {ngpu.get('adapter', 'no adapter')}) | "
        + (f"{ngpu['median_ms']:.0f} ms |" if "median_ms" in ngpu else f"failed ({ngpu.get('error')}) |"),
        "",
        "This machine has no GPU: Chromium's WebGPU is SwiftShader and native Vulkan is Mesa's lavapipe, both "
        f"emulations on the CPU — these rows are for the record, not speed claims ({GPU_RUNS} runs each).",
    ]
    ours_gpu_logit = ours_gpu.get("first_logit")
    gpu_agree = ours_gpu_logit is None or abs(ours_gpu_logit - ref) <= 1e-3 * max(1.0, abs(ref))
    latest["webgpu_same_network"] = gpu_agree
    other = [
        "- release engine `.wasm` (worker; the page loads one of four builds): " + ", ".join(
            f"{k} {v['raw'] / 1e6:.2f} MB raw / {v['gzip'] / 1e6:.2f} MB gzip" for k, v in latest["worker_builds_bytes"].items()),
        f"- page load to \"engine ready\" (median of 3; the seeded He init is generated afterwards, in idle time): {ready_ms:.0f} ms",
        "- the engine worker's wasm memory in the page (2 threads; it never shrinks, so each is a high-water mark): "
        f"after load {memory['mem_load_mb']:.0f} MB, after Explore at 224 {memory['mem_explore_mb']:.0f} MB "
        f"(target ≤ 160), after the Gradient lab at 224 {memory['mem_lab_mb']:.0f} MB (target ≤ 1024), "
        f"after loading a checkpoint from a URL in a fresh visit {memory['mem_load_peak_mb']:.0f} MB (target ≤ 400)",
        "- peak memory: " + ", ".join(f"{k} {mb(v)}" for k, v in latest["peak_memory_bytes"].items())
        + " (ours: wasm linear memory; TF.js: tensor bytes; ORT: not exposed)",
        f"- all engines computed the same first logit (same network, same weights): {'yes' if agree else 'NO'} "
        f"({', '.join(f'{k} {v:.4f}' for k, v in latest['first_logits'].items())})",
    ]
    text = "\n".join([
        "# Benchmarks", "",
        f"Latest `make bench`: {latest['date']}, {chromium}, {latest['machine']}; each CPU engine timed in {ROUNDS} "
        f"rounds (a page each: 3 warm-ups, then {-(-RUNS // ROUNDS)} runs), the engines taking turns; the median of all "
        f"{ROUNDS * -(-RUNS // ROUNDS)} runs (natively, the median of {ROUNDS} rounds' medians of {RUNS} runs).",
        "Timings on this shared machine swing ±20 % between runs; compare ratios from one run.", "",
        *rows, "", *profile_rows, "", *native, "", *lab_table, "", *cam_table, "", *gpu_rows, "", *other, "",
        *first_visit.section(visit),
    ])
    with open(os.path.join(OUT, "latest.json"), "w") as f:
        json.dump(latest, f, indent=1)
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write(text)
    print(text)
    if not gpu_agree:
        raise SystemExit("the WebGPU runs disagree with the CPU on the logits")
    if not agree:
        raise SystemExit("the engines disagree on the logits: the benchmark compares different networks")


if __name__ == "__main__":
    main()
