//! The `resnet-lab` command line: argument parsing and the four commands of the contract.

use std::collections::HashMap;
use std::time::Instant;

use candle_core::{Device, Tensor};
use serde_json::json;

use crate::analysis::gradients::{GradientFlow, Precision};
use crate::config::{NormMode, ResNetConfig, Skips, Variant};
use crate::engine::{Engine, GradientOptions, PredictOptions, Prediction};
use crate::image::{preprocess, RgbImage};
use crate::model::ResNet;
use crate::weights::export::{to_safetensors, ExportDtype};
use crate::weights::{Init, InitKind, Naming};
use crate::{Error, Result};

const USAGE: &str = "\
usage:
  resnet-lab predict  [--weights FILE | --init he|xavier --seed N] [--variant v1.5|v1] [--no-skip]
                      (--image FILE | --input FILE.safetensors) [--top K] [--json]
  resnet-lab grads    [--weights FILE | --init he|xavier --seed N] [--variant v1.5|v1]
                      (--image FILE | --input FILE.safetensors) --target CLASS --bn train|eval|off
                      [--size S] [--precision f32|f64] [--json]
  resnet-lab export-init --init he|xavier --seed N --out FILE.safetensors [--gain G]
  resnet-lab bench    [--size 224] [--iters N] [--backend cpu|webgpu] [--profile] [--json]";

/// Parsed `--flag value` and `--switch` arguments.
struct Args {
    values: HashMap<String, String>,
    switches: Vec<String>,
}

const SWITCHES: [&str; 3] = ["--json", "--no-skip", "--profile"];

impl Args {
    fn parse(args: &[String]) -> Result<Self> {
        let mut values = HashMap::new();
        let mut switches = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if SWITCHES.contains(&a.as_str()) {
                switches.push(a.clone());
            } else if a.starts_with("--") {
                let v = it
                    .next()
                    .ok_or_else(|| Error::InvalidArgument(format!("{a} needs a value")))?;
                values.insert(a.clone(), v.clone());
            } else {
                return Err(Error::InvalidArgument(format!("unexpected argument `{a}`")));
            }
        }
        Ok(Self { values, switches })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    fn require(&self, key: &str) -> Result<&str> {
        self.get(key)
            .ok_or_else(|| Error::InvalidArgument(format!("{key} is required")))
    }

    fn parse_or<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| Error::InvalidArgument(format!("{key}: cannot parse `{v}`"))),
        }
    }

    fn has(&self, switch: &str) -> bool {
        self.switches.iter().any(|s| s == switch)
    }
}

fn read(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_string(),
        source,
    })
}

fn init_from(args: &Args) -> Result<Init> {
    let kind: InitKind = args.get("--init").unwrap_or("he").parse()?;
    Ok(Init {
        kind,
        gain: args.parse_or("--gain", 1.0)?,
        seed: args.parse_or("--seed", 0)?,
    })
}

fn engine_from(args: &Args) -> Result<Engine> {
    match args.get("--weights") {
        Some(path) => {
            let mut engine = Engine::with_init(Init::new(InitKind::He, 0))?;
            engine.load_weights(&read(path)?, path)?;
            Ok(engine)
        }
        None => Engine::with_init(init_from(args)?),
    }
}

fn input_from(args: &Args, size: u32) -> Result<Tensor> {
    match (args.get("--image"), args.get("--input")) {
        (Some(path), None) => preprocess(&RgbImage::decode(&read(path)?)?, size),
        (None, Some(path)) => {
            let bytes = read(path)?;
            let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
                .map_err(|e| Error::WeightsFormat(format!("{path}: {e}")))?;
            let input = tensors.get("input").ok_or_else(|| {
                Error::InvalidArgument(format!("{path} has no tensor named `input`"))
            })?;
            Ok(input.to_dtype(candle_core::DType::F32)?)
        }
        _ => Err(Error::InvalidArgument(
            "give exactly one of --image or --input".into(),
        )),
    }
}

fn print_prediction(p: &Prediction, ms: f64, as_json: bool) {
    if as_json {
        println!(
            "{}",
            json!({"logits": p.logits, "top": p.top, "stages": p.stages})
        );
        return;
    }
    println!("forward: {ms:.1} ms");
    for r in &p.top {
        println!("{:>6.2}%  {:>4}  {}", r.prob * 100.0, r.class, r.label);
    }
    for s in &p.stages {
        println!(
            "{:<7} {:<20} mean {:>9.4}  std {:>9.4}  min {:>9.4}  max {:>9.4}",
            s.name,
            format!("{:?}", s.shape),
            s.mean,
            s.std,
            s.min,
            s.max
        );
    }
}

fn predict(args: &Args) -> Result<()> {
    let engine = engine_from(args)?;
    let input = input_from(args, 224)?;
    let options = PredictOptions {
        variant: args.parse_or("--variant", Variant::V1_5)?,
        skips: if args.has("--no-skip") {
            Skips::None
        } else {
            Skips::All
        },
        top_k: args.parse_or("--top", 5)?,
    };
    let start = Instant::now();
    let p = engine.predict(&input, &options, &mut |_| Ok(()))?;
    print_prediction(&p, start.elapsed().as_secs_f64() * 1e3, args.has("--json"));
    Ok(())
}

fn print_grads(g: &GradientFlow, ms: f64, as_json: bool) {
    if as_json {
        println!(
            "{}",
            json!({"elapsed_ms": ms, "loss": g.loss, "layers": g.layers,
                   "stem": g.stem, "blocks": g.blocks, "summary": g.summary, "target": g.target})
        );
        return;
    }
    println!(
        "target class {} ({}), batch norm {:?}, {}×{} input, {ms:.0} ms",
        g.target,
        crate::imagenet::label(g.target),
        g.norm,
        g.input_size,
        g.input_size
    );
    println!(
        "loss: with skips {:.6}, without skips {:.6}",
        g.loss.skip, g.loss.plain
    );
    println!(
        "{:<32} {:>12} {:>12}",
        "layer ‖∂L/∂W‖", "with skips", "without"
    );
    for l in &g.layers {
        let plain = l
            .plain
            .map(|p| format!("{p:>12.3e}"))
            .unwrap_or_else(|| format!("{:>12}", "—"));
        println!("{:<32} {:>12.3e} {plain}", l.name, l.skip);
    }
    println!(
        "{:<32} {:>12} {:>12}",
        "activation ‖∂L/∂x‖", "with skips", "without"
    );
    for b in std::iter::once(&g.stem).chain(&g.blocks) {
        println!("{:<32} {:>12.3e} {:>12.3e}", b.name, b.skip, b.plain);
    }
    for (name, s) in [
        ("with skips", &g.summary.skip),
        ("without skips", &g.summary.plain),
    ] {
        println!(
            "{name:<14} ‖∂L/∂W‖ spans {:.2} decades, first conv / last conv = {:.3e}, \
             ‖∂L/∂x‖ stem / last block = 10^{:.2}",
            s.span_decades, s.first_over_last, s.activation_decades
        );
    }
    if let (Some(first), Some(Some(plain))) = (g.layers.first(), g.layers.first().map(|l| l.plain))
    {
        println!(
            "without skips the first convolution's gradient is {:.3e} of the residual network's",
            plain / first.skip
        );
    }
}

fn grads(args: &Args) -> Result<()> {
    let engine = engine_from(args)?;
    let input = input_from(args, args.parse_or("--size", 224)?)?;
    let norm: NormMode = args.require("--bn")?.parse()?;
    let target: usize = args
        .require("--target")?
        .parse()
        .map_err(|_| Error::InvalidArgument("--target must be a class index".into()))?;
    let precision = match args.get("--precision").unwrap_or("f32") {
        "f32" => Precision::F32,
        "f64" => Precision::F64,
        other => {
            return Err(Error::InvalidArgument(format!(
                "--precision `{other}`: expected f32 or f64"
            )))
        }
    };
    let options = GradientOptions {
        variant: args.parse_or("--variant", Variant::V1_5)?,
        norm,
        target: Some(target),
        precision,
    };
    let start = Instant::now();
    let g = engine.gradient_flow(&input, &options, &mut |_| Ok(()))?;
    print_grads(&g, start.elapsed().as_secs_f64() * 1e3, args.has("--json"));
    Ok(())
}

fn export_init(args: &Args) -> Result<()> {
    let init = init_from(args)?;
    if args.get("--init").is_none() {
        return Err(Error::InvalidArgument("--init is required".into()));
    }
    let out = args.require("--out")?;
    let weights = init.weights(&ResNetConfig::resnet50(1000))?;
    let bytes = to_safetensors(&weights, Naming::Torchvision, ExportDtype::F32)?;
    std::fs::write(out, bytes).map_err(|source| Error::Io {
        path: out.to_string(),
        source,
    })
}

fn time_forward(model: &ResNet, input: &Tensor, iters: usize) -> Result<(f64, f64)> {
    model.forward(input)?;
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters.max(1) {
        let start = Instant::now();
        model.forward(input)?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[0]))
}

fn bench(args: &Args) -> Result<()> {
    let size: usize = args.parse_or("--size", 224)?;
    let iters: usize = args.parse_or("--iters", 10)?;
    match args.get("--backend").unwrap_or("cpu") {
        "cpu" => {}
        "webgpu" => return bench_gpu(args, size, iters),
        other => {
            return Err(Error::InvalidArgument(format!(
                "--backend {other}: expected cpu or webgpu"
            )))
        }
    }
    let config = ResNetConfig {
        input_size: size,
        ..ResNetConfig::resnet50(1000)
    };
    let weights = Init::new(InitKind::He, 0).weights(&config)?;
    let plain = ResNet::new(config, &weights)?;
    let folded = plain.fold_batch_norm()?;
    let input = Tensor::randn(0f32, 1f32, (1, 3, size, size), &Device::Cpu)?;
    let (median, min) = time_forward(&folded, &input, iters)?;
    let (unfolded_median, _) = time_forward(&plain, &input, iters)?;
    let threads = candle_core::utils::get_num_threads();
    if args.has("--profile") {
        let start = Instant::now();
        let clock = || start.elapsed().as_secs_f64() * 1e3;
        let rows = crate::infer::profile::profile_forward(&folded, &input, &clock)?;
        let total: f64 = rows.iter().map(|r| r.ms).sum();
        if args.has("--json") {
            println!(
                "{}",
                json!({"size": size, "threads": threads, "profile": rows})
            );
        } else {
            for r in &rows {
                println!(
                    "{:<28} {:>3}× {:>8.1} ms {:>5.1} %  {:>6.1} GFLOP/s",
                    r.kind,
                    r.count,
                    r.ms,
                    100.0 * r.ms / total,
                    if r.gflop > 0.0 {
                        r.gflop / (r.ms / 1e3)
                    } else {
                        0.0
                    }
                );
            }
        }
        return Ok(());
    }
    if args.has("--json") {
        println!(
            "{}",
            json!({"size": size, "iters": iters, "threads": threads, "median_ms": median, "min_ms": min,
                   "unfolded_median_ms": unfolded_median})
        );
    } else {
        println!(
            "{size}×{size} forward, {threads} thread(s): median {median:.1} ms, min {min:.1} ms over {iters} runs \
             (batch norm folded; unfolded: median {unfolded_median:.1} ms)"
        );
    }
    Ok(())
}

/// `bench --backend webgpu`: the GPU kernels through wgpu (Vulkan natively), timed per forward
/// including the logits' read-back, and checked against the CPU on the same input.
#[cfg(feature = "webgpu")]
fn bench_gpu(args: &Args, size: usize, iters: usize) -> Result<()> {
    use crate::gpu::{context::block_on, GpuContext, GpuResNet, Readback};
    let config = ResNetConfig {
        input_size: size,
        ..ResNetConfig::resnet50(1000)
    };
    let weights = Init::new(InitKind::He, 0).weights(&config)?;
    let folded = ResNet::new(config, &weights)?.fold_batch_norm()?;
    let ctx = block_on(GpuContext::new())?;
    let adapter = ctx.adapter_name.clone();
    let mut gpu = GpuResNet::new(ctx, &folded)?;
    let input = Tensor::randn(0f32, 1f32, (1, 3, size, size), &Device::Cpu)?;
    let mut logits = None;
    for _ in 0..3 {
        logits = Some(block_on(gpu.forward(&input, Readback::Logits))?.logits);
    }
    let mut times = Vec::with_capacity(iters.max(1));
    for _ in 0..iters.max(1) {
        let start = Instant::now();
        block_on(gpu.forward(&input, Readback::Logits))?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let (median, min) = (times[times.len() / 2], times[0]);
    let cpu = folded.forward(&input)?.flatten_all()?.to_vec1::<f32>()?;
    let gpu_logits = match logits {
        Some(l) => l.flatten_all()?.to_vec1::<f32>()?,
        None => Vec::new(),
    };
    let scale = cpu.iter().fold(f32::MIN_POSITIVE, |m, v| m.max(v.abs()));
    let diff = cpu
        .iter()
        .zip(&gpu_logits)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max)
        / scale;
    if args.has("--json") {
        println!(
            "{}",
            json!({"backend": "webgpu", "adapter": adapter, "size": size, "iters": iters,
                   "median_ms": median, "min_ms": min, "max_rel_diff_vs_cpu": diff})
        );
    } else {
        println!(
            "{size}×{size} forward on {adapter}: median {median:.2} ms, min {min:.2} ms over {iters} runs \
             (logits read back; max |Δ| vs CPU {diff:.1e} of max|logit|)"
        );
    }
    Ok(())
}

#[cfg(not(feature = "webgpu"))]
fn bench_gpu(_: &Args, _: usize, _: usize) -> Result<()> {
    Err(Error::InvalidArgument(
        "this build has no GPU path (built without the `webgpu` feature)".into(),
    ))
}

/// Runs the CLI on `args` (without the program name); returns the process exit code.
pub fn main(args: Vec<String>) -> i32 {
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return 2;
    };
    let result = Args::parse(rest).and_then(|a| match command.as_str() {
        "predict" => predict(&a),
        "grads" => grads(&a),
        "export-init" => export_init(&a),
        "bench" => bench(&a),
        other => Err(Error::InvalidArgument(format!(
            "unknown command `{other}`\n{USAGE}"
        ))),
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            if e.is_bad_input() {
                2
            } else {
                1
            }
        }
    }
}
