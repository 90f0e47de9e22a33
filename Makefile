# ResNet Lab — every command a newcomer needs. Tools are pinned here, and only here.
#   make serve   install what is missing, build, serve on http://127.0.0.1:8080
#   make test    install what is missing (Chromium too), run every check
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TRUNK_VERSION     := 0.21.14
WASM_PACK_VERSION := 0.13.1
BINARYEN_VERSION  := 132
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock (pinned with `=` in Cargo.toml).
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)

TOOLS_DIR := $(CURDIR)/.tools
export PATH := $(TOOLS_DIR)/binaryen/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export CARGO_BUILD_JOBS ?= 2
# trunk uses these exact versions from PATH and never downloads (see Trunk.toml).
export TRUNK_TOOLS_WASM_BINDGEN := $(WASM_BINDGEN_VERSION)
export TRUNK_TOOLS_WASM_OPT := version_$(BINARYEN_VERSION)
export CHROMEDRIVER := /usr/bin/chromedriver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help tools browser-tools nightly-tools relaxed-worker mt-workers bench-tools build serve test test-native test-browser test-e2e lint fmt clean screenshots bench bench-lab fuzz

help:
	@echo "make serve   build and serve the app on http://127.0.0.1:8080 (installs tools)"
	@echo "make test    fmt, clippy, native tests, browser tests, end-to-end tests (installs tools)"
	@echo "make build   static site in dist/ (release, wasm-opt)"
	@echo "make bench   ResNet-50 forward: ours vs ONNX Runtime Web and TF.js in headless Chromium (writes BENCHMARKS.md)"
	@echo "make bench-lab  the Gradient lab rows of make bench alone (Chromium, 1 and 2 threads)"
	@echo "make test-native | test-browser | test-e2e | lint"
	@echo "make fuzz    the weights loader and the image decoder under cargo-fuzz (FUZZ_SECONDS each, default 300)"

## Tools ---------------------------------------------------------------------------------------

tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
	@[ "$$(trunk --version 2>/dev/null)" = "trunk $(TRUNK_VERSION)" ] || { \
	  echo "installing trunk $(TRUNK_VERSION) (takes ~10 min)"; \
	  cargo install --locked trunk --version $(TRUNK_VERSION); }
	@[ "$$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN_VERSION)" ] || { \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (takes ~5 min)"; \
	  cargo install --force wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); }
	@[ "$$(wasm-opt --version 2>/dev/null | cut -d' ' -f3)" = "$(BINARYEN_VERSION)" ] || { \
	  echo "installing binaryen $(BINARYEN_VERSION) (wasm-opt) from npm into .tools/"; \
	  npm install --silent --no-audit --no-fund --prefix $(TOOLS_DIR)/binaryen binaryen@$(BINARYEN_VERSION).0.0; }
	@[ "$$(wasm-pack --version 2>/dev/null)" = "wasm-pack $(WASM_PACK_VERSION)" ] || { \
	  echo "installing wasm-pack $(WASM_PACK_VERSION) (takes ~4 min)"; \
	  cargo install --locked wasm-pack --version $(WASM_PACK_VERSION); }

browser-tools:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "installing Debian's chromium and chromium-driver"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; }
	@[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] && /sbin/ldconfig -p | grep -q libvulkan.so.1 || { \
	  echo "installing Debian's Vulkan loader and Mesa's lavapipe (the native GPU tests' adapter)"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libvulkan1 mesa-vulkan-drivers >/dev/null; }

## App -----------------------------------------------------------------------------------------

build: tools
	trunk build --release

serve: tools
	trunk serve

## Tests ---------------------------------------------------------------------------------------

test: tools browser-tools lint test-native test-browser test-e2e
	@echo "make test: all green"

lint:
	cargo fmt --all --check
	# Every import points to a lower layer (the order documented in src/lib.rs and src/web/mod.rs).
	cargo test --test layers
	cargo clippy --all-targets -- -D warnings
	cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings
	# The CPU-only build (without the `webgpu` feature) must stay warning-free too.
	cargo clippy --all-targets --no-default-features -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --no-default-features -- -D warnings
	# make bench's entry points (cargo feature `bench`), which the page's builds leave out.
	cargo clippy --lib --target wasm32-unknown-unknown --features bench -- -D warnings
	# The relaxed-SIMD code path (the threaded one needs the nightly's build-std: not linted).
	$(RELAXED_ENV) cargo clippy --lib --target wasm32-unknown-unknown --target-dir target/relaxed -- -D warnings

# RESNET_LAB_REQUIRE_GPU turns "no GPU adapter, skipped" into a failure: here an adapter always
# exists (lavapipe natively, SwiftShader in Chromium), so the GPU tests must run.
test-native: browser-tools
	RESNET_LAB_REQUIRE_GPU=1 cargo test

# wasm-bindgen-test in headless Chromium (runner and CHROMEDRIVER set in .cargo/config.toml and
# above; extra Chrome flags in webdriver.json).
# Each browser suite may take up to BROWSER_TEST_TIMEOUT seconds (wasm-bindgen-test's default is
# 20 s): the whole-network WebGPU check on SwiftShader, a CPU emulation, takes about 25 s on a
# 2-core machine, so the default made the result depend on the machine's speed. 600 s leaves a
# margin of 20x over the slowest suite measured here; a hang still fails.
BROWSER_TEST_TIMEOUT ?= 600
export WASM_BINDGEN_TEST_TIMEOUT := $(BROWSER_TEST_TIMEOUT)
# The kernel checks and the whole network against PyTorch (224 included) run a second time built
# with relaxed SIMD (the fused multiply-add path), in
# release next to the relaxed worker build (target/relaxed), with which it shares most of its
# dependencies.
test-browser: tools browser-tools
	RESNET_LAB_REQUIRE_GPU=1 cargo test --target wasm32-unknown-unknown --tests
	$(RELAXED_ENV) cargo test --release --target wasm32-unknown-unknown --target-dir target/relaxed --test browser_kernels --test browser_model

# Serves dist/ with the isolation headers and drives it through chromedriver; the CLI exports
# the weights files the tests serve (real download, cache and load path).
test-e2e: build browser-tools
	cargo build --release --bin resnet-lab
	python3 tests/e2e/test_app.py

# Screenshots of the built site for the README's development section.
screenshots: build browser-tools
	cargo build --release --bin resnet-lab
	python3 tests/e2e/test_app.py --screenshots target/screenshots

## Benchmark -----------------------------------------------------------------------------------

# Besides trunk's engine worker (plain wasm SIMD, one thread, runs in every current browser),
# three more builds of it, from which the page picks the fastest this browser can run
# (src/web/worker_build.rs):
#   relaxed/     one thread, relaxed SIMD (fused multiply-add in the matrix kernel)
#   mt-relaxed/  threads on shared memory (needs a cross-origin isolated page), relaxed SIMD
#   mt/          threads, plain SIMD (browsers with threads but without relaxed SIMD)
# They come from trunk's post_build hook (see Trunk.toml), so `make build` and `make serve` both
# make them. The threaded builds rebuild std with atomics, which needs a nightly toolchain with
# rust-src: pinned here. Without it the page runs single-threaded.
# The pinned nightly is nightly-2026-05-20, whose rustc is commit e50aa6fba. The builds run it
# under the local name below: `make nightly-tools` links the machine's own `nightly` when that is
# this very build (images that cannot download toolchains ship one), else installs the pinned
# one with rustup.
NIGHTLY_PIN    := nightly-2026-05-20
NIGHTLY_COMMIT := e50aa6fba
NIGHTLY        := resnet-lab-nightly
SIMD_FEATURES    := +simd128
RELAXED_FEATURES := +simd128,+relaxed-simd
MT_FEATURES      := +atomics,+bulk-memory,+mutable-globals
MT_LINK := -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296 \
  -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
  -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base
RELAXED_ENV := RUSTFLAGS="-C target-feature=$(RELAXED_FEATURES)"
RELAXED_CARGO = $(RELAXED_ENV) cargo build --release \
  --target wasm32-unknown-unknown --target-dir target/relaxed
# $(call mt_cargo,<simd features>,<target dir>)
mt_cargo = RUSTFLAGS="-C target-feature=$(MT_FEATURES),$(1) $(MT_LINK)" cargo +$(NIGHTLY) build \
  --release --target wasm32-unknown-unknown -Z build-std=panic_abort,std --target-dir $(2)
WASM_OPT_FEATURES := --enable-bulk-memory --enable-simd \
  --enable-mutable-globals --enable-nontrapping-float-to-int --enable-sign-ext
# $(call worker_bindgen,<built worker.wasm>,<out dir>,<extra wasm-opt flags>)
define worker_bindgen
mkdir -p $(2)
wasm-bindgen --target no-modules --out-dir $(2) --out-name worker $(1)
wasm-opt -O1 $(WASM_OPT_FEATURES) $(3) $(2)/worker_bg.wasm -o $(2)/worker_bg.wasm
endef

nightly-tools:
	@has_nightly() { rustc +$$1 --version 2>/dev/null | grep -q '($(NIGHTLY_COMMIT) ' && \
	  [ -d "$$(rustc +$$1 --print sysroot)/lib/rustlib/src/rust/library" ]; }; \
	has_nightly $(NIGHTLY) || { \
	  if has_nightly nightly; then from=nightly; \
	  else rustup toolchain install $(NIGHTLY_PIN) --profile minimal -c rust-src && from=$(NIGHTLY_PIN); fi && \
	  rustup toolchain link $(NIGHTLY) "$$(rustc +$$from --print sysroot)" && \
	  echo "nightly: $(NIGHTLY) -> $$from ($$(rustc +$(NIGHTLY) --version))"; }

WORKERS_OUT ?= dist
relaxed-worker:
	$(RELAXED_CARGO) --bin worker
	$(call worker_bindgen,target/relaxed/wasm32-unknown-unknown/release/worker.wasm,$(WORKERS_OUT)/relaxed,--enable-relaxed-simd)

mt-workers: nightly-tools
	$(call mt_cargo,$(RELAXED_FEATURES),target/mt-relaxed) --bin worker
	$(call worker_bindgen,target/mt-relaxed/wasm32-unknown-unknown/release/worker.wasm,$(WORKERS_OUT)/mt-relaxed,--enable-threads --enable-relaxed-simd)
	$(call mt_cargo,$(SIMD_FEATURES),target/mt) --bin worker
	$(call worker_bindgen,target/mt/wasm32-unknown-unknown/release/worker.wasm,$(WORKERS_OUT)/mt,--enable-threads)

ORT_WEB_VERSION := 1.30
TFJS_VERSION    := 4.22.0
LITERT_JS_VERSION    := 2.5.3
LITERT_TORCH_VERSION := 0.10.0
TORCHVISION_VERSION  := 0.29.2
LITERT_VENV := $(TOOLS_DIR)/litert-venv

# Peers from the npm registry, onnx/onnxruntime from PyPI (to build the ONNX file locally and time
# native ONNX Runtime) — no model is downloaded.
bench-tools:
	@[ -d $(TOOLS_DIR)/bench/node_modules/onnxruntime-web ] && [ -d $(TOOLS_DIR)/bench/node_modules/@tensorflow/tfjs-backend-wasm ] \
	  && [ -d $(TOOLS_DIR)/bench/node_modules/@litertjs/core ] || \
	  npm install --silent --no-audit --no-fund --prefix $(TOOLS_DIR)/bench onnxruntime-web@$(ORT_WEB_VERSION) \
	    @tensorflow/tfjs@$(TFJS_VERSION) @tensorflow/tfjs-backend-wasm@$(TFJS_VERSION) @litertjs/core@$(LITERT_JS_VERSION)
	@[ -x $(TOOLS_DIR)/venv/bin/python ] || python3 -m venv $(TOOLS_DIR)/venv
	@$(TOOLS_DIR)/venv/bin/python -c "import onnx, onnxruntime, numpy" 2>/dev/null || \
	  $(TOOLS_DIR)/venv/bin/pip install -q onnx onnxruntime numpy
	@# LiteRT.js's model comes from litert-torch, in a venv of its own (torch, TensorFlow's runtime:
	@# several GB). Where it cannot be installed, make bench runs and says LiteRT.js was skipped.
	@[ -x $(LITERT_VENV)/bin/python ] || python3 -m venv $(LITERT_VENV)
	@$(LITERT_VENV)/bin/python -c "import litert_torch, torchvision, safetensors" 2>/dev/null || \
	  $(LITERT_VENV)/bin/pip install -q litert-torch==$(LITERT_TORCH_VERSION) torchvision==$(TORCHVISION_VERSION) safetensors || \
	  echo "litert-torch $(LITERT_TORCH_VERSION) could not be installed: make bench skips LiteRT.js"

# Our engine in the builds the page loads: relaxed SIMD at 1 thread (pkg) and threaded (pkg-mt),
# plus the plain-SIMD fallbacks (pkg-plain, pkg-mt-plain) for the record.
BENCH_WASM_OPT = wasm-opt -O1 $(WASM_OPT_FEATURES)
bench: tools browser-tools bench-tools nightly-tools build
	cargo build --release --bin resnet-lab
	$(RELAXED_CARGO) --lib --features bench
	wasm-bindgen --target web --out-dir target/bench/pkg target/relaxed/wasm32-unknown-unknown/release/resnet_lab.wasm
	$(BENCH_WASM_OPT) --enable-relaxed-simd target/bench/pkg/resnet_lab_bg.wasm -o target/bench/pkg/resnet_lab_bg.wasm
	cargo build --release --lib --target wasm32-unknown-unknown --features bench
	wasm-bindgen --target web --out-dir target/bench/pkg-plain target/wasm32-unknown-unknown/release/resnet_lab.wasm
	$(BENCH_WASM_OPT) target/bench/pkg-plain/resnet_lab_bg.wasm -o target/bench/pkg-plain/resnet_lab_bg.wasm
	$(call mt_cargo,$(RELAXED_FEATURES),target/mt-relaxed) --lib --no-default-features --features bench
	wasm-bindgen --target web --out-dir target/bench/pkg-mt target/mt-relaxed/wasm32-unknown-unknown/release/resnet_lab.wasm
	$(BENCH_WASM_OPT) --enable-threads --enable-relaxed-simd target/bench/pkg-mt/resnet_lab_bg.wasm -o target/bench/pkg-mt/resnet_lab_bg.wasm
	$(call mt_cargo,$(SIMD_FEATURES),target/mt) --lib --no-default-features --features bench
	wasm-bindgen --target web --out-dir target/bench/pkg-mt-plain target/mt/wasm32-unknown-unknown/release/resnet_lab.wasm
	$(BENCH_WASM_OPT) --enable-threads target/bench/pkg-mt-plain/resnet_lab_bg.wasm -o target/bench/pkg-mt-plain/resnet_lab_bg.wasm
	target/release/resnet-lab export-init --init he --seed 0 --out target/bench/weights.safetensors
	$(TOOLS_DIR)/venv/bin/python tests/bench/make_peer_models.py target/bench/weights.safetensors target/bench/models
	rm -f target/bench/models/resnet50.tflite
	$(LITERT_VENV)/bin/python tests/bench/make_litert_model.py target/bench/weights.safetensors target/bench/models \
	  || echo "no LiteRT model (litert-torch missing or failed): make bench skips LiteRT.js"
	python3 tests/bench/run_bench.py

# The Gradient lab's rows of make bench alone, on the page's own builds (dist/): a few minutes.
bench-lab: tools browser-tools build
	python3 tests/bench/run_bench.py --lab

## Fuzzing ------------------------------------------------------------------------------------

# cargo-fuzz (libFuzzer) on the pinned nightly, without a sanitizer (the code under test is safe
# Rust: the fuzzers look for panics, hangs and runaway allocations). Not part of `make test`.
# Each target starts from its seeds (tests/fuzz-seeds/<target>; target/fuzz-corpus/<target>,
# the hostile files `make test` generates: tests/weights_errors.rs, tests/image_inputs.rs) and
# keeps what it finds in fuzz/corpus/<target>; a crash lands in fuzz/artifacts/<target>/ and
# becomes a regression test.
CARGO_FUZZ_VERSION := 0.13.2
FUZZ_SECONDS ?= 300
FUZZ_TARGETS := weights image
fuzz: nightly-tools
	@[ "$$(cargo fuzz --version 2>/dev/null)" = "cargo-fuzz $(CARGO_FUZZ_VERSION)" ] || \
	  cargo install --locked cargo-fuzz --version $(CARGO_FUZZ_VERSION)
	cd fuzz && for t in $(FUZZ_TARGETS); do mkdir -p corpus/$$t && \
	  cargo +$(NIGHTLY) fuzz run --sanitizer none $$t corpus/$$t ../tests/fuzz-seeds/$$t \
	    $$( [ -d ../target/fuzz-corpus/$$t ] && echo ../target/fuzz-corpus/$$t ) \
	    $$( [ $$t = image ] && echo ../static/samples ) -- \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -timeout=30 || exit 1; done

fmt:
	cargo fmt --all

clean:
	cargo clean
	rm -rf dist
