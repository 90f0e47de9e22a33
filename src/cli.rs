//! The `resnet-lab` command line: its arguments (clap) and the commands of the contract.

use std::time::Instant;

use candle_core::{Device, Tensor};
use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::analysis::cam::{heatmap_rgba, layer_name, stage_from_name, CamOptions};
use crate::analysis::colormap::Colormap;
use crate::analysis::gradients::{mirrored_batch, GradientFlow, Precision};
use crate::config::{NormMode, ResNetConfig, Skips, Variant};
use crate::engine::{Engine, GradientOptions, PredictOptions, Prediction};
use crate::image::{Preprocess, RgbImage};
use crate::model::ResNet;
use crate::weights::export::{to_safetensors, ExportDtype};
use crate::weights::statistics::TrainedStatistics;
use crate::weights::{Init, InitKind, Naming};
use crate::{Error, Result};

/// `resnet-lab`: ResNet-50 from a terminal, on the same engine as the page.
///
/// Prints JSON on stdout with `--json`, a readable table otherwise. Errors go to stderr with
/// exit code 2 (bad input, including a bad command line) or 1 (internal).
#[derive(Parser, Debug)]
#[command(name = "resnet-lab", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Classify an image: top-k classes and every stage's statistics.
    Predict(PredictArgs),
    /// Per-layer gradient norms with and without skip connections.
    Grads(GradsArgs),
    /// Class activation maps (Grad-CAM, Grad-CAM++): where the network looks for a class.
    Cam(CamArgs),
    /// Write seeded, untrained weights as a torchvision-named safetensors file.
    ExportInit(ExportInitArgs),
    /// Time the inference forward pass (or profile it by kind of layer).
    Bench(BenchArgs),
}

/// Which weights: a checkpoint, or a seeded initialization (He by default).
#[derive(ClapArgs, Debug)]
struct WeightsArgs {
    /// A safetensors checkpoint (torchvision/timm or transformers naming; f32, f16 or bf16).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["init", "seed", "gain"])]
    weights: Option<String>,
    /// Initialization scheme of untrained weights [default: he].
    #[arg(long, value_name = "he|xavier")]
    init: Option<InitKind>,
    /// Seed of the initialization [default: 0].
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Gain on the initialization's standard deviation [default: 1].
    #[arg(long, value_name = "G")]
    gain: Option<f64>,
}

/// The input: an image through the preprocessing, or an already normalized tensor.
#[derive(ClapArgs, Debug)]
#[group(required = true, multiple = false)]
struct InputArgs {
    /// An image file (JPEG, PNG, WebP): resized, center-cropped and normalized.
    #[arg(long, value_name = "FILE")]
    image: Option<String>,
    /// A safetensors file with one f32 tensor `input` of shape [N, 3, H, W], normalized.
    #[arg(long, value_name = "FILE.safetensors")]
    input: Option<String>,
}

/// What a run needs: the weights, the input and the stride placement.
#[derive(ClapArgs, Debug)]
struct RunArgs {
    #[command(flatten)]
    weights: WeightsArgs,
    #[command(flatten)]
    input: InputArgs,
    /// Stride placement: v1.5 (torchvision) or v1 (the paper).
    #[arg(long, value_name = "v1.5|v1", default_value = "v1.5")]
    variant: Variant,
    /// The checkpoint's preprocessing for --image: timm's config.json, transformers'
    /// preprocessor_config.json, or a recipe as --json prints it [default: torchvision's
    /// bilinear resize to 256, crop 224]. Its crop size is the input size.
    #[arg(long, value_name = "FILE.json")]
    preprocess: Option<String>,
}

impl RunArgs {
    /// The preprocessing of an --image input: the --preprocess file's, else torchvision's
    /// scaled to `size`.
    fn recipe(&self, size: u32) -> Result<Preprocess> {
        match &self.preprocess {
            Some(path) => {
                let text = String::from_utf8_lossy(&read(path)?).into_owned();
                Preprocess::from_json(&text).map_err(|e| match e {
                    Error::InvalidArgument(message) => {
                        Error::InvalidArgument(format!("{path}: {message}"))
                    }
                    other => other,
                })
            }
            None => Ok(Preprocess::torchvision(size)),
        }
    }

    /// The network's input, and the recipe that made it (for an --image).
    fn input(&self, size: u32) -> Result<(Tensor, Option<Preprocess>)> {
        if self.preprocess.is_some() && self.input.image.is_none() {
            return Err(Error::InvalidArgument(
                "--preprocess applies to an --image (an --input tensor is already preprocessed)"
                    .into(),
            ));
        }
        let recipe = self.recipe(size)?;
        let tensor = self.input.tensor(&recipe)?;
        Ok((tensor, self.input.image.is_some().then_some(recipe)))
    }
}

#[derive(ClapArgs, Debug)]
struct PredictArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Remove every shortcut (block output = ReLU(F(x))).
    #[arg(long)]
    no_skip: bool,
    /// How many classes to list.
    #[arg(long, value_name = "K", default_value_t = 5)]
    top: usize,
    /// Print JSON (the stable contract).
    #[arg(long)]
    json: bool,
}

#[derive(ClapArgs, Debug)]
#[group(id = "cam_output", required = true, multiple = false)]
struct CamOutput {
    /// Print JSON: each map at the stage's resolution, and the size it is upsampled to.
    #[arg(long)]
    json: bool,
    /// Write the first map, upsampled to the crop and colored (jet), over the crop for an
    /// --image, as a PNG.
    #[arg(long, value_name = "FILE.png")]
    out: Option<String>,
}

#[derive(ClapArgs, Debug)]
struct CamArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Class to map (0..1000; repeat for several) [default: the top-1].
    #[arg(long = "class", value_name = "C")]
    classes: Vec<usize>,
    /// Also map the K top-ranked classes first [default: 1 without --class, else 0].
    #[arg(long, value_name = "K")]
    top: Option<usize>,
    /// Stage output to map: layer1–layer4 (Stages 2–5).
    #[arg(long, value_name = "layerN", default_value = "layer4")]
    stage: String,
    /// Grad-CAM or Grad-CAM++.
    #[arg(long, value_name = "gradcam|gradcam++", default_value = "gradcam")]
    method: String,
    #[command(flatten)]
    output: CamOutput,
}

/// Arithmetic of a gradient run.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum PrecisionArg {
    F32,
    F64,
}

#[derive(ClapArgs, Debug)]
struct GradsArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Target class of the cross-entropy loss (0..1000).
    #[arg(long, value_name = "CLASS")]
    target: usize,
    /// Batch norm: train (batch statistics), eval (running statistics) or off.
    #[arg(long, value_name = "train|eval|off")]
    bn: NormMode,
    /// Side of the input the image is resized and cropped to (torchvision's recipe; a
    /// --preprocess file brings its own).
    #[arg(long, value_name = "S", default_value_t = 224)]
    size: u32,
    /// Arithmetic precision.
    #[arg(long, value_enum, default_value = "f32")]
    precision: PrecisionArg,
    /// Images per batch: the image, then its mirror image, alternately (batch statistics and
    /// the batch-mean loss, as the page's batch presets).
    #[arg(long, value_name = "N", default_value_t = 1)]
    batch: usize,
    /// Runs to time: the first makes the lab's variables, later ones reuse them (`repeat_ms`
    /// in the JSON is their median).
    #[arg(long, value_name = "N", default_value_t = 1)]
    runs: usize,
    /// Print JSON (the stable contract).
    #[arg(long)]
    json: bool,
}

#[derive(ClapArgs, Debug)]
struct ExportInitArgs {
    /// Initialization scheme.
    #[arg(long, value_name = "he|xavier")]
    init: InitKind,
    /// Seed of the initialization.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
    /// Gain on the initialization's standard deviation.
    #[arg(long, value_name = "G", default_value_t = 1.0)]
    gain: f64,
    /// Batch-norm γ, β, running mean and variance, and the classifier bias, drawn from this
    /// seed as a trained network has them, instead of the identity (the golden fixtures' weights).
    #[arg(long, value_name = "N")]
    bn_stats: Option<u64>,
    /// Where to write the safetensors file.
    #[arg(long, value_name = "FILE.safetensors")]
    out: String,
}

/// Where the benchmark runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Cpu,
    Webgpu,
}

#[derive(ClapArgs, Debug)]
struct BenchArgs {
    /// Input side.
    #[arg(long, value_name = "S", default_value_t = 224)]
    size: usize,
    /// Timed runs (after a warm-up).
    #[arg(long, value_name = "N", default_value_t = 10)]
    iters: usize,
    /// The CPU engine, or the WGSL kernels through wgpu.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendArg,
    /// Time per kind of layer instead of whole forward passes (CPU).
    #[arg(long, conflicts_with = "backend")]
    profile: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn read(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_string(),
        source,
    })
}

impl WeightsArgs {
    fn init(&self) -> Init {
        Init {
            kind: self.init.unwrap_or(InitKind::He),
            gain: self.gain.unwrap_or(1.0),
            seed: self.seed.unwrap_or(0),
        }
    }

    /// The engine on `--weights` (read from the file one tensor at a time, never whole) or on
    /// the seeded init.
    fn engine(&self) -> Result<Engine> {
        match &self.weights {
            Some(path) => {
                let file = std::fs::File::open(path).map_err(|source| Error::Io {
                    path: path.to_string(),
                    source,
                })?;
                Engine::with_weights(Engine::checked_stored(std::rc::Rc::new(file), path)?)
            }
            None => Engine::with_init(self.init()),
        }
    }
}

impl InputArgs {
    fn tensor(&self, recipe: &Preprocess) -> Result<Tensor> {
        match (&self.image, &self.input) {
            (Some(path), None) => recipe.apply(&RgbImage::decode(&read(path)?)?),
            (None, Some(path)) => {
                let bytes = read(path)?;
                let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
                    .map_err(|e| Error::WeightsFormat(format!("{path}: {e}")))?;
                let input = tensors.get("input").ok_or_else(|| {
                    Error::InvalidArgument(format!("{path} has no tensor named `input`"))
                })?;
                Ok(input.to_dtype(candle_core::DType::F32)?)
            }
            // clap's group makes this unreachable; kept as an error rather than a panic.
            _ => Err(Error::InvalidArgument(
                "give exactly one of --image or --input".into(),
            )),
        }
    }
}

fn print_prediction(p: &Prediction, recipe: Option<&Preprocess>, ms: f64, as_json: bool) {
    if as_json {
        println!(
            "{}",
            json!({"logits": p.logits, "top": p.top, "stages": p.stages, "preprocess": recipe})
        );
        return;
    }
    if let Some(r) = recipe {
        println!("preprocessing: {} ({})", r.describe(), r.source);
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

fn predict(args: &PredictArgs) -> Result<()> {
    // The input first: a bad image is refused before the engine is built, and the decoded
    // image is gone before the weights are in memory.
    let (input, recipe) = args.run.input(224)?;
    let engine = args.run.weights.engine()?;
    let options = PredictOptions {
        variant: args.run.variant,
        skips: if args.no_skip {
            Skips::None
        } else {
            Skips::All
        },
        top_k: args.top,
    };
    let start = Instant::now();
    let p = engine.predict(&input, &options, &mut |_| Ok(()))?;
    print_prediction(
        &p,
        recipe.as_ref(),
        start.elapsed().as_secs_f64() * 1e3,
        args.json,
    );
    Ok(())
}

fn print_grads(g: &GradientFlow, ms: f64, repeat_ms: Option<f64>, as_json: bool) {
    if as_json {
        println!(
            "{}",
            json!({"elapsed_ms": ms, "repeat_ms": repeat_ms, "batch": g.batch, "loss": g.loss, "layers": g.layers,
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

fn grads(args: &GradsArgs) -> Result<()> {
    let (input, _) = args.run.input(args.size)?;
    let engine = args.run.weights.engine()?;
    let options = GradientOptions {
        variant: args.run.variant,
        norm: args.bn,
        target: Some(args.target),
        precision: match args.precision {
            PrecisionArg::F32 => Precision::F32,
            PrecisionArg::F64 => Precision::F64,
        },
    };
    let input = mirrored_batch(&[input], args.batch)?;
    let timed = || -> Result<(GradientFlow, f64)> {
        let start = Instant::now();
        let flow = engine.gradient_flow(&input, &options, &mut |_| Ok(()))?;
        Ok((flow, start.elapsed().as_secs_f64() * 1e3))
    };
    let (g, first_ms) = timed()?;
    let mut repeats = (1..args.runs)
        .map(|_| Ok(timed()?.1))
        .collect::<Result<Vec<f64>>>()?;
    repeats.sort_by(f64::total_cmp);
    let repeat_ms = repeats.get(repeats.len() / 2).copied();
    print_grads(&g, first_ms, repeat_ms, args.json);
    Ok(())
}

fn cam(args: &CamArgs) -> Result<()> {
    let options = CamOptions {
        stage: stage_from_name(&args.stage)?,
        method: args.method.parse()?,
        top_k: args.top.unwrap_or(usize::from(args.classes.is_empty())),
        classes: args.classes.clone(),
    };
    if options.top_k == 0 && options.classes.is_empty() {
        return Err(Error::InvalidArgument(
            "nothing to map: give --class or --top".into(),
        ));
    }
    let (input, recipe) = args.run.input(224)?;
    let engine = args.run.weights.engine()?;
    let start = Instant::now();
    let result = engine
        .start_cam(&input, args.run.variant, options)?
        .finish()?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let side = result.input_size;
    if args.output.json {
        println!(
            "{}",
            json!({"stage": result.stage, "layer": layer_name(result.stage), "method": result.method.id(),
                   "upsampled": [side, side], "top": result.top, "maps": result.maps, "elapsed_ms": ms})
        );
    }
    if let Some(path) = &args.output.out {
        let map = result
            .maps
            .first()
            .ok_or_else(|| Error::InvalidArgument("no class was mapped".into()))?;
        let crop = match (&args.run.input.image, &recipe) {
            (Some(image), Some(recipe)) => Some(recipe.crop_of(&RgbImage::decode(&read(image)?)?)?),
            _ => None,
        };
        let under = crop.as_ref().map(|c| (c.data.as_slice(), 3));
        let rgba = heatmap_rgba(&map.upsampled(side), under, Colormap::Jet, 0.5);
        let png = ::image::RgbaImage::from_raw(side as u32, side as u32, rgba)
            .ok_or_else(|| Error::InvalidArgument("heatmap size".into()))?;
        png.save(path)
            .map_err(|e| Error::InvalidArgument(format!("{path}: {e}")))?;
        eprintln!(
            "wrote {path}: {} ({}) at {} by {}, {ms:.0} ms",
            map.label,
            map.class,
            layer_name(result.stage),
            result.method.id()
        );
    }
    Ok(())
}

fn export_init(args: &ExportInitArgs) -> Result<()> {
    let init = Init {
        kind: args.init,
        gain: args.gain,
        seed: args.seed,
    };
    let config = ResNetConfig::resnet50(1000);
    let mut weights = init.weights(&config)?;
    if let Some(seed) = args.bn_stats {
        weights = TrainedStatistics { seed }.apply(&weights, &config)?;
    }
    let bytes = to_safetensors(&weights, Naming::Torchvision, ExportDtype::F32)?;
    std::fs::write(&args.out, bytes).map_err(|source| Error::Io {
        path: args.out.clone(),
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

fn bench(args: &BenchArgs) -> Result<()> {
    let (size, iters) = (args.size, args.iters);
    if args.backend == BackendArg::Webgpu {
        return bench_gpu(args, size, iters);
    }
    let config = ResNetConfig {
        input_size: size,
        ..ResNetConfig::resnet50(1000)
    };
    let weights = Init::new(InitKind::He, 0).weights(&config)?;
    let plain = ResNet::new(config, &weights)?;
    let folded = plain.for_inference()?;
    let input = Tensor::randn(0f32, 1f32, (1, 3, size, size), &Device::Cpu)?;
    let (median, min) = time_forward(&folded, &input, iters)?;
    let (unfolded_median, _) = time_forward(&plain, &input, iters)?;
    let threads = candle_core::utils::get_num_threads();
    if args.profile {
        let start = Instant::now();
        let clock = || start.elapsed().as_secs_f64() * 1e3;
        let rows = crate::infer::profile::profile_forward(&folded, &input, &clock)?;
        let total: f64 = rows.iter().map(|r| r.ms).sum();
        if args.json {
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
    if args.json {
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
fn bench_gpu(args: &BenchArgs, size: usize, iters: usize) -> Result<()> {
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
    if args.json {
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
fn bench_gpu(_: &BenchArgs, _: usize, _: usize) -> Result<()> {
    Err(Error::InvalidArgument(
        "this build has no GPU path (built without the `webgpu` feature)".into(),
    ))
}

/// Prints a command-line error (or `--help`/`--version`) and returns its exit code: 0 for help
/// and version, 2 for a usage error, which always ends with the command's usage line (clap
/// leaves it out of some errors, such as a missing value).
fn command_line_error(e: &clap::Error, command: Option<&String>) -> i32 {
    use clap::CommandFactory;
    if !e.use_stderr() {
        let _ = e.print();
        return e.exit_code();
    }
    let rendered = e.render().to_string();
    eprint!("{rendered}");
    if !rendered.contains("Usage:") {
        let mut cli = Cli::command();
        cli.build();
        let usage = match command.and_then(|name| cli.find_subcommand_mut(name)) {
            Some(sub) => sub.render_usage(),
            None => cli.render_usage(),
        };
        eprintln!("\n{usage}");
    }
    2
}

/// Runs the CLI on `args` (without the program name); returns the process exit code: 0, 2 for
/// bad input (a bad command line included), 1 for an internal error.
pub fn main(args: Vec<String>) -> i32 {
    let cli =
        match Cli::try_parse_from(std::iter::once("resnet-lab".to_string()).chain(args.clone())) {
            Ok(cli) => cli,
            Err(e) => return command_line_error(&e, args.first()),
        };
    let result = match &cli.command {
        Command::Predict(a) => predict(a),
        Command::Grads(a) => grads(a),
        Command::Cam(a) => cam(a),
        Command::ExportInit(a) => export_init(a),
        Command::Bench(a) => bench(a),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
