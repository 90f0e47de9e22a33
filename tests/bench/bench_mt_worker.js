// Our threaded build (nightly, atomics, shared memory) timed inside a worker: blocking waits are
// not allowed on the page's main thread. The first message starts the benchmark; it spawns
// `threads - 1` copies of this worker as the thread pool, on the same module and memory.
// `dir`: the build under target/bench/ (pkg-mt: relaxed SIMD, pkg-mt-plain: plain SIMD).
let pkg;

async function time(forward, runs) {
  for (let i = 0; i < 3; i++) forward(); // warm-up (also lets the pool workers join)
  const times = [];
  let first = null;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    first = forward();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median_ms: times[Math.floor(times.length / 2)], min_ms: times[0], times, first_logit: first, runs };
}

self.onmessage = async (e) => {
  const { role, dir, threads, runs, size, module, memory, cams: cases, extras } = e.data;
  pkg = await import(`/target/bench/${dir}/resnet_lab.js`);
  const init = pkg.default;
  if (role === "pool") {
    await init({ module_or_path: module, memory });
    pkg.pool_worker_run();
    return;
  }
  try {
    await init();
    for (let i = 1; i < threads; i++) {
      const w = new Worker(new URL(import.meta.url), { type: "module" });
      w.postMessage({ role: "pool", dir, module: pkg.shared_module(), memory: pkg.shared_memory() });
    }
    // Give the pool a moment to start before the warm-up.
    while (pkg.parallel_threads() < threads) await new Promise((r) => setTimeout(r, 20));
    const model = new pkg.BenchModel(size);
    const r = await time(() => model.forward(), runs);
    if (!extras) {
      self.postMessage({ ...r, threads_used: pkg.parallel_threads(), memory_bytes: pkg.wasm_memory_bytes() });
      return;
    }
    // Grad-CAM as Explore computes it (bench.js's CAMS).
    const cams = {};
    for (const [name, [k, stage]] of Object.entries(cases)) {
      cams[name] = (await time(() => model.cam(k, stage), runs)).median_ms;
    }
    let profile = null;
    for (let i = 0; i < 3; i++) profile = JSON.parse(model.profile()); // the last (warm) one
    self.postMessage({ ...r, cams, profile, threads_used: pkg.parallel_threads(), memory_bytes: pkg.wasm_memory_bytes() });
  } catch (err) {
    self.postMessage({ error: String((err && err.stack) || err) });
  }
};
