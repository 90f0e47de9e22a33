// One engine per page load (thread counts are fixed at initialization in every engine):
//   bench.html?engine=ours|ours_plain|ours_mt|ours_mt_plain|ort|tfjs|litert|litert_compat|ours_webgpu|ort_webgpu&threads=N&runs=10
//   (&extras=0: ours skips its Grad-CAM timings and profile, for make bench's later rounds)
// (ours: relaxed SIMD builds; *_plain: the plain-SIMD fallbacks for browsers without it;
// litert_compat: LiteRT.js's build without relaxed SIMD, one thread)
// Result in window.benchResult: {engine, threads, median_ms, min_ms, times, first_logit, memory_bytes}.
const params = new URLSearchParams(location.search);
const engine = params.get("engine");
const threads = Number(params.get("threads") || 1);
const runs = Number(params.get("runs") || 10);
const extras = params.get("extras") !== "0";
const SIZE = 224;

async function time(forward) {
  for (let i = 0; i < 3; i++) await forward(); // warm-up
  const times = [];
  let first = null;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    first = await forward();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median_ms: times[Math.floor(times.length / 2)], min_ms: times[0], times, first_logit: first, runs };
}

// Grad-CAM as Explore computes it, timed like the forward: the top-1 and the top-5 at Stage 5
// (layer4), and the top-5 at Stage 4 (a backward through layer4).
const CAMS = { top1_stage5: [1, 5], top5_stage5: [5, 5], top5_stage4: [5, 4] };

async function camTimes(model, call) {
  const out = {};
  for (const [name, [k, stage]] of Object.entries(CAMS)) {
    out[name] = (await time(async () => call(() => model.cam(k, stage)))).median_ms;
  }
  return out;
}

async function ours(dir = "pkg") {
  const pkg = await import(`/target/bench/${dir}/resnet_lab.js`);
  await pkg.default();
  const model = new pkg.BenchModel(SIZE);
  const r = await time(async () => model.forward());
  if (!extras) return { ...r, memory_bytes: pkg.wasm_memory_bytes() };
  const cams = await camTimes(model, async (f) => f());
  let profile = null;
  for (let i = 0; i < 3; i++) profile = JSON.parse(model.profile()); // the last (warm) one
  return { ...r, cams, profile, memory_bytes: pkg.wasm_memory_bytes() };
}

const ours_plain = () => ours("pkg-plain");

async function ours_mt(dir = "pkg-mt") {
  // The threaded build runs in a worker (see bench_mt_worker.js).
  return await new Promise((resolve, reject) => {
    const w = new Worker("/tests/bench/bench_mt_worker.js", { type: "module" });
    w.onmessage = (e) => (e.data.error ? reject(new Error(e.data.error)) : resolve(e.data));
    w.onerror = (e) => reject(new Error(e.message || "worker failed"));
    w.postMessage({ role: "main", dir, threads, runs, size: SIZE, cams: CAMS, extras });
  });
}

const ours_mt_plain = () => ours_mt("pkg-mt-plain");

async function ours_webgpu() {
  const pkg = await import("/target/bench/pkg/resnet_lab.js");
  await pkg.default();
  const model = await pkg.BenchGpuModel.create(SIZE);
  const r = await time(async () => model.forward());
  return { ...r, adapter: model.adapter, memory_bytes: pkg.wasm_memory_bytes() };
}

async function ort_webgpu() {
  const ort = await import("/.tools/bench/node_modules/onnxruntime-web/dist/ort.webgpu.min.mjs");
  ort.env.wasm.wasmPaths = "/.tools/bench/node_modules/onnxruntime-web/dist/";
  const session = await ort.InferenceSession.create("/target/bench/models/resnet50.onnx", {
    executionProviders: ["webgpu"], graphOptimizationLevel: "all",
  });
  const input = new ort.Tensor("float32", new Float32Array(3 * SIZE * SIZE).fill(1), [1, 3, SIZE, SIZE]);
  const r = await time(async () => (await session.run({ input })).logits.data[0]);
  return { ...r, memory_bytes: null };
}

async function ort() {
  const ort = await import("/.tools/bench/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs");
  ort.env.wasm.wasmPaths = "/.tools/bench/node_modules/onnxruntime-web/dist/";
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  const session = await ort.InferenceSession.create("/target/bench/models/resnet50.onnx", {
    executionProviders: ["wasm"], graphOptimizationLevel: "all",
  });
  const input = new ort.Tensor("float32", new Float32Array(3 * SIZE * SIZE).fill(1), [1, 3, SIZE, SIZE]);
  const r = await time(async () => (await session.run({ input })).logits.data[0]);
  return { ...r, memory_bytes: null };
}

async function tfjs() {
  // TF.js caps its threads at half of navigator.hardwareConcurrency: report what we ask for.
  Object.defineProperty(navigator, "hardwareConcurrency", { value: Math.max(2 * threads, 2), configurable: true });
  tf.wasm.setWasmPaths("/.tools/bench/node_modules/@tensorflow/tfjs-backend-wasm/dist/");
  tf.wasm.setThreadsCount(threads);
  await tf.setBackend("wasm");
  await tf.ready();
  const manifest = await (await fetch("/target/bench/models/tfjs/manifest.json")).json();
  const blob = await (await fetch("/target/bench/models/tfjs/weights.bin")).arrayBuffer();
  const t = (e) => tf.tensor(new Float32Array(blob, e.offset, e.shape.reduce((a, b) => a * b, 1)), e.shape);
  const convs = Object.fromEntries(manifest.convs.map((c) => [c.name, { w: t(c.w), b: t(c.b), stride: c.stride, pad: c.pad }]));
  const fc = { w: t(manifest.fc.w), b: t(manifest.fc.b) };
  const conv = (x, name, relu) => {
    const c = convs[name];
    return tf.fused.conv2d({ x, filter: c.w, strides: c.stride, pad: c.pad === 0 ? "valid" : c.pad, bias: c.b,
                             activation: relu ? "relu" : "linear" });
  };
  const forward = (x) => tf.tidy(() => {
    let h = tf.maxPool(conv(x, "conv1", true), 3, 2, 1);
    [3, 4, 6, 3].forEach((count, s) => {
      for (let b = 0; b < count; b++) {
        const p = `layer${s + 1}.${b}`;
        let y = conv(conv(conv(h, `${p}.conv1`, true), `${p}.conv2`, true), `${p}.conv3`, false);
        const short = b === 0 ? conv(h, `${p}.downsample`, false) : h;
        h = tf.relu(tf.add(y, short));
      }
    });
    return tf.add(tf.matMul(tf.mean(h, [1, 2]), fc.w), fc.b);
  });
  const input = tf.ones([1, SIZE, SIZE, 3]);
  const r = await time(async () => forward(input).dataSync()[0]);
  return { ...r, memory_bytes: tf.memory().numBytes };
}

// LiteRT.js (XNNPACK in wasm) on the .tflite that litert-torch made of the same torchvision network
// (tests/bench/make_litert_model.py). Given its wasm directory it picks its own build: relaxed SIMD
// where the browser has it, the threaded one when asked for threads (which it allows only with
// relaxed SIMD); litert_compat loads the build without relaxed SIMD by its file.
const LITERT_WASM = "/.tools/bench/node_modules/@litertjs/core/wasm/";

async function litert(compat = false) {
  const lite = await import("/.tools/bench/node_modules/@litertjs/core/dist/index.js");
  const build = compat ? "litert_wasm_compat_internal.js" : null;
  await lite.loadLiteRt(build ? LITERT_WASM + build : LITERT_WASM, { threads: !compat && threads > 1 });
  const model = await lite.loadAndCompile("/target/bench/models/resnet50.tflite", {
    accelerator: "wasm", cpuOptions: { numThreads: threads },
  });
  const input = new lite.Tensor(new Float32Array(3 * SIZE * SIZE).fill(1), [1, 3, SIZE, SIZE]);
  const r = await time(async () => {
    const out = await model.run(input);
    const first = out[0].toTypedArray()[0];
    out.forEach((t) => t.delete());
    return first;
  });
  const relaxed = await lite.supportsFeature("relaxedSimd");
  return { ...r, build: compat ? "compat" : `${relaxed ? "relaxed SIMD" : "compat"}${threads > 1 ? ", threaded" : ""}`,
           memory_bytes: null };
}

const litert_compat = () => litert(true);

const engines = { ours, ours_plain, ours_mt, ours_mt_plain, ort, tfjs, litert, litert_compat, ours_webgpu, ort_webgpu };
engines[engine]()
  .then((r) => { window.benchResult = { engine, threads, ...r }; })
  .catch((e) => { window.benchResult = { engine, threads, error: String(e && e.stack || e) }; })
  .finally(() => { document.getElementById("out").textContent = JSON.stringify(window.benchResult, null, 1); });
