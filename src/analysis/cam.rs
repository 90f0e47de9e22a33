//! Class activation maps: where the network looks when it scores a class. Grad-CAM
//! (Selvaraju et al., 2017) and Grad-CAM++ (Chattopadhyay et al., 2018) at the output of
//! Stage 2–5, computed as pytorch-grad-cam computes them (`GradCAM`, `GradCAMPlusPlus`).
//!
//! One forward pass of the folded inference network keeps Stage k's output A and each later
//! block's input and output. The backward of the class score y_c then runs only through the
//! blocks after Stage k, for every class at once: with the forward's ReLU masks fixed, ∂y_c/∂A
//! is linear in ∂y_c/∂(Stage 5), so the classes ride through the backward as a batch. At
//! Stage 5 there is no backward at all: ∂y_c/∂A = W_fc[c] / (H·W) at every position.

use std::str::FromStr;

use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};

use super::colormap::Colormap;
use crate::config::{Head, NormMode};
use crate::imagenet::{label, softmax, top_k, Ranked};
use crate::job::{Progress, Step};
use crate::kernels::conv_grad::{self, ConvGeometry};
use crate::kernels::pool_grad;
use crate::model::batch_norm::BatchNorm;
use crate::model::stem::conv_bn_relu;
use crate::model::values::with_values;
use crate::model::{BlockId, Bottleneck, ForwardPass, LayerId, ResNet, Tap, FORWARD_STEPS};
use crate::weights::Weights;
use crate::{Error, Result};

/// How a stage's channels are weighted into a map.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CamMethod {
    /// Grad-CAM: each channel weighted by its mean gradient.
    #[default]
    GradCam,
    /// Grad-CAM++: each channel weighted by its positive gradients, each scaled by the
    /// paper's α (eq. 19), as pytorch-grad-cam writes it.
    GradCamPlusPlus,
}

impl CamMethod {
    /// The name the CLI and the share link use: `gradcam` or `gradcam++`.
    pub fn id(self) -> &'static str {
        match self {
            CamMethod::GradCam => "gradcam",
            CamMethod::GradCamPlusPlus => "gradcam++",
        }
    }
}

impl FromStr for CamMethod {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "gradcam" => Ok(CamMethod::GradCam),
            "gradcam++" | "gradcampp" => Ok(CamMethod::GradCamPlusPlus),
            other => Err(Error::InvalidArgument(format!(
                "unknown CAM method `{other}` (gradcam or gradcam++)"
            ))),
        }
    }
}

/// The stages a map can be taken at: the outputs of Stage 2–5 (torchvision's `layer1`–`layer4`).
pub const CAM_STAGES: std::ops::RangeInclusive<usize> = 2..=5;

/// The stage named as torchvision names its output (`layer1`–`layer4`) or by the tutorial's
/// number (`2`–`5`).
pub fn stage_from_name(name: &str) -> Result<usize> {
    let stage = match name.strip_prefix("layer") {
        Some(layer) => layer.parse::<usize>().ok().map(|l| l + 1),
        None => name.parse::<usize>().ok(),
    };
    stage.filter(|s| CAM_STAGES.contains(s)).ok_or_else(|| {
        Error::InvalidArgument(format!("no stage `{name}` to map: layer1–layer4 (or 2–5)"))
    })
}

/// torchvision's name of Stage `stage`'s output: `layer1` for Stage 2, … `layer4` for Stage 5.
pub fn layer_name(stage: usize) -> String {
    format!("layer{}", stage.saturating_sub(1))
}

/// What to map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CamOptions {
    /// Stage 2–5; 5 (`layer4`) is the usual choice.
    pub stage: usize,
    /// Grad-CAM or Grad-CAM++.
    pub method: CamMethod,
    /// Classes mapped after the top ones (a class already among them is not mapped twice).
    pub classes: Vec<usize>,
    /// How many of the top-ranked classes to map first.
    pub top_k: usize,
}

impl Default for CamOptions {
    fn default() -> Self {
        Self {
            stage: 5,
            method: CamMethod::GradCam,
            classes: Vec::new(),
            top_k: 1,
        }
    }
}

/// One class's map at the stage's resolution, normalized to [0, 1].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMap {
    /// Class index.
    pub class: usize,
    /// Class name.
    pub label: String,
    /// Its softmax probability.
    pub prob: f32,
    /// Map height (the stage's).
    pub height: usize,
    /// Map width.
    pub width: usize,
    /// `height × width` values in [0, 1], row-major: ReLU(Σ_k α_k A_k), min-max normalized.
    pub values: Vec<f32>,
}

impl ClassMap {
    /// The map upsampled bilinearly to `side × side` (the crop) and normalized to [0, 1]
    /// again, as pytorch-grad-cam's output is (interpolation keeps the range but not the
    /// exact extremes).
    pub fn upsampled(&self, side: usize) -> Vec<f32> {
        let up = upsample_bilinear(&self.values, (self.height, self.width), (side, side));
        let up: Vec<f64> = up.into_iter().map(f64::from).collect();
        normalized(&up)
    }
}

/// `map` (values in [0, 1], one per pixel) colored by `colormap` over `under` (RGB or RGBA
/// pixels, `channels` bytes each; `None`: the heatmap alone): each pixel
/// `(1 − opacity)·under + opacity·color`, as RGBA.
pub fn heatmap_rgba(
    map: &[f32],
    under: Option<(&[u8], usize)>,
    colormap: Colormap,
    opacity: f32,
) -> Vec<u8> {
    let lut = colormap.lut();
    let alpha = opacity.clamp(0.0, 1.0);
    let mut rgba = Vec::with_capacity(map.len() * 4);
    for (i, &v) in map.iter().enumerate() {
        let color = lut[(v.clamp(0.0, 1.0) * 255.0).round() as usize];
        for (c, &channel) in color.iter().enumerate() {
            let below = under.and_then(|(pixels, n)| pixels.get(i * n + c)).copied();
            rgba.push(match below {
                Some(u) => {
                    (f32::from(u) * (1.0 - alpha) + f32::from(channel) * alpha).round() as u8
                }
                None => channel,
            });
        }
        rgba.push(255);
    }
    rgba
}

/// The maps of one image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CamResult {
    /// The stage mapped (2–5).
    pub stage: usize,
    /// How.
    pub method: CamMethod,
    /// The input side (the crop the maps lie over).
    pub input_size: usize,
    /// The top-ranked classes.
    pub top: Vec<Ranked>,
    /// The top classes' maps, then those of the other classes asked for.
    pub maps: Vec<ClassMap>,
}

/// A block after the mapped stage, as the forward pass saw it.
struct Seen {
    id: BlockId,
    input: Tensor,
    output: Tensor,
}

/// A CAM run in steps (the six of the forward pass, then one per stage the backward goes
/// through), so that the caller reports progress and cancels between them.
pub struct CamJob {
    /// The folded network (its fast convolutions run the masks' forward again).
    model: ResNet,
    pass: ForwardPass,
    input_size: usize,
    weights: Weights,
    options: CamOptions,
    /// Stage k's output, once the forward reached it.
    activation: Option<Tensor>,
    /// The blocks after Stage k, in network order (popped by the backward).
    seen: Vec<Seen>,
    logits: Option<Vec<f32>>,
    classes: Vec<usize>,
    /// ∂y_c/∂(the output of the last block still in `seen`), `[classes, C, H, W]`.
    grad: Vec<f32>,
    done: usize,
}

impl CamJob {
    /// A job on `model` (the folded inference network) for a `[1, 3, S, S]` `input`; the
    /// backward reads the raw weights of each block it goes through from `weights`, one block
    /// at a time.
    pub fn new(
        model: ResNet,
        weights: Weights,
        input: &Tensor,
        options: CamOptions,
    ) -> Result<Self> {
        if !CAM_STAGES.contains(&options.stage) {
            return Err(Error::InvalidArgument(format!(
                "class activation maps are taken at Stage 2–5, not {}",
                options.stage
            )));
        }
        if input.dim(0)? != 1 {
            return Err(Error::InvalidArgument(
                "class activation maps are made for one image at a time".into(),
            ));
        }
        if model.config.head != Head::GlobalAvgPool {
            return Err(Error::InvalidArgument(
                "class activation maps need the global-average-pool head".into(),
            ));
        }
        let classes = model.config.classes;
        if let Some(&c) = options.classes.iter().find(|&&c| c >= classes) {
            return Err(Error::InvalidArgument(format!(
                "no class {c} (the classifier has {classes})"
            )));
        }
        Ok(Self {
            pass: ForwardPass::new(model.clone(), input.clone()),
            model,
            input_size: input.dim(3)?,
            weights,
            options,
            activation: None,
            seen: Vec::new(),
            logits: None,
            classes: Vec::new(),
            grad: Vec::new(),
            done: 0,
        })
    }

    /// Steps in the job: the forward pass, then one per stage after the mapped one.
    pub fn total_steps(&self) -> usize {
        FORWARD_STEPS + (5 - self.options.stage)
    }

    /// True once every step ran.
    pub fn is_done(&self) -> bool {
        self.done == self.total_steps()
    }

    /// Runs the next step and says how far the job is.
    pub fn step(&mut self) -> Result<Progress> {
        let step = if self.done < FORWARD_STEPS {
            self.forward_step()?;
            Step::Stage((self.done + 1).min(5))
        } else {
            // Backward through Stage 5, then 4, … down to the one after the mapped stage.
            let stage = 5 - (self.done - FORWARD_STEPS);
            self.backward_stage(stage)?;
            Step::Gradient(stage)
        };
        self.done += 1;
        Ok(Progress::new(step, self.done, self.total_steps()))
    }

    /// The maps; runs the remaining steps first if needed.
    pub fn finish(mut self) -> Result<CamResult> {
        while !self.is_done() {
            self.step()?;
        }
        let activation = self.activation.take().ok_or_else(out_of_order)?;
        let logits = self.logits.take().ok_or_else(out_of_order)?;
        let probs = softmax(&logits);
        let (_, channels, height, width) = activation.dims4()?;
        let a = activation.flatten_all()?.to_vec1::<f32>()?;
        let area = height * width;
        let maps = self
            .classes
            .iter()
            .zip(self.grad.chunks_exact(channels * area))
            .map(|(&class, g)| ClassMap {
                class,
                label: label(class),
                prob: probs.get(class).copied().unwrap_or(0.0),
                height,
                width,
                values: class_map(self.options.method, &a, g, channels, area),
            })
            .collect();
        Ok(CamResult {
            stage: self.options.stage,
            method: self.options.method,
            input_size: self.input_size,
            top: top_k(&logits, self.options.top_k.max(5)),
            maps,
        })
    }

    fn forward_step(&mut self) -> Result<()> {
        let stage = self.options.stage;
        let (activation, seen) = (&mut self.activation, &mut self.seen);
        let logits = self.pass.step(&mut |tap| {
            match tap {
                Tap::Output {
                    id: LayerId::Stage(s),
                    value,
                } if s == stage => *activation = Some(value.clone()),
                Tap::Block { id, input, parts } if id.stage > stage => seen.push(Seen {
                    id,
                    input: input.clone(),
                    output: parts.output.clone(),
                }),
                _ => {}
            }
            Ok(())
        })?;
        if let Some(logits) = logits {
            self.start_backward(&logits)?;
        }
        Ok(())
    }

    /// Picks the classes and sets ∂y_c/∂(Stage 5) for each.
    fn start_backward(&mut self, logits: &Tensor) -> Result<()> {
        let logits = logits
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let mut classes: Vec<usize> = top_k(&logits, self.options.top_k)
            .iter()
            .map(|r| r.class)
            .collect();
        for &c in &self.options.classes {
            if !classes.contains(&c) {
                classes.push(c);
            }
        }
        let last = match self.seen.last() {
            Some(s) => s.output.clone(),
            None => self.activation.clone().ok_or_else(out_of_order)?,
        };
        let (_, channels, h, w) = last.dims4()?;
        let fc = self.model.fc.weight();
        let area = (h * w) as f32;
        let mut grad = Vec::with_capacity(classes.len() * channels * h * w);
        // Only the mapped classes' rows of the classifier are read.
        for &c in &classes {
            let row = fc.get(c)?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
            for &v in row.iter().take(channels) {
                grad.extend(std::iter::repeat_n(v / area, h * w));
            }
        }
        self.grad = grad;
        self.classes = classes;
        self.logits = Some(logits);
        Ok(())
    }

    /// The backward through every block of `stage`, last block first.
    fn backward_stage(&mut self, stage: usize) -> Result<()> {
        while self.seen.last().is_some_and(|s| s.id.stage == stage) {
            let seen = self.seen.pop().ok_or_else(out_of_order)?;
            let folded = self
                .model
                .stages
                .get(stage - 2)
                .and_then(|blocks| blocks.get(seen.id.index))
                .ok_or_else(out_of_order)?;
            // The raw weights of this block only, read (or generated) now, dropped after.
            let raw = Bottleneck::load(&self.weights, seen.id, self.model.config.variant)?;
            let grad = std::mem::take(&mut self.grad);
            self.grad = block_backward(folded, &raw, &seen, self.classes.len(), grad)?;
        }
        Ok(())
    }
}

/// ∂y/∂x of one block for `n` gradients `dz` at its output (`[n, C, H, W]`), with the
/// forward's masks: ReLU(F(x) + shortcut(x)), F = conv1 → bn1 → ReLU → conv2 → bn2 → ReLU →
/// conv3 → bn3, batch norm in eval mode (an affine map per channel).
fn block_backward(
    folded: &Bottleneck,
    raw: &Bottleneck,
    seen: &Seen,
    n: usize,
    mut dz: Vec<f32>,
) -> Result<Vec<f32>> {
    mask(&mut dz, &seen.output)?;
    // The two inner ReLUs' outputs, again through the folded block's fast convolutions.
    let r1 = conv_bn_relu(
        &folded.conv1,
        folded.fast_conv(0),
        &folded.bn1,
        &seen.input,
        NormMode::Off,
    )?;
    let r2 = conv_bn_relu(
        &folded.conv2,
        folded.fast_conv(1),
        &folded.bn2,
        &r1,
        NormMode::Off,
    )?;
    let mut d2 = conv_norm_input_grad(&raw.conv3, &raw.bn3, &r2, n, &dz)?;
    mask(&mut d2, &r2)?;
    let mut d1 = conv_norm_input_grad(&raw.conv2, &raw.bn2, &r1, n, &d2)?;
    mask(&mut d1, &r1)?;
    let mut dx = conv_norm_input_grad(&raw.conv1, &raw.bn1, &seen.input, n, &d1)?;
    match &raw.downsample {
        Some(d) => {
            let ds = conv_norm_input_grad(&d.conv, &d.bn, &seen.input, n, &dz)?;
            dx.iter_mut().zip(&ds).for_each(|(a, b)| *a += b);
        }
        None => dx.iter_mut().zip(&dz).for_each(|(a, b)| *a += b),
    }
    Ok(dx)
}

/// ∂/∂x of bn(conv(x)) (eval mode) for `n` gradients `dy` at the batch norm's output; `x` is
/// the convolution's input (one image: its shape only).
fn conv_norm_input_grad(
    conv: &candle_nn::Conv2d,
    bn: &BatchNorm,
    x: &Tensor,
    n: usize,
    dy: &[f32],
) -> Result<Vec<f32>> {
    let (_, c, h, w) = x.dims4()?;
    let cfg = conv.config();
    let geometry = ConvGeometry::new([n, c, h, w], dims(conv.weight())?, cfg.stride, cfg.padding)?;
    let (scale, _) = bn.scale_and_shift()?;
    let scale = scale.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    let plane = geometry.ho * geometry.wo;
    let mut scaled = dy.to_vec();
    for (i, p) in scaled.chunks_exact_mut(plane).enumerate() {
        let a = scale[i % geometry.cout];
        p.iter_mut().for_each(|v| *v *= a);
    }
    let weight = conv.weight().to_dtype(DType::F32)?.contiguous()?;
    with_values(&weight, |filters: &[f32]| {
        conv_grad::input_grad(&geometry, filters, &scaled)
    })
}

fn dims(t: &Tensor) -> Result<[usize; 4]> {
    let (a, b, c, d) = t.dims4()?;
    Ok([a, b, c, d])
}

/// Zeroes `d` (`n` gradients) where the one-image ReLU output `y` is not positive.
fn mask(d: &mut [f32], y: &Tensor) -> Result<()> {
    let y = y.flatten_all()?.to_vec1::<f32>()?;
    if y.is_empty() || !d.len().is_multiple_of(y.len()) {
        return Err(out_of_order());
    }
    for chunk in d.chunks_exact_mut(y.len()) {
        pool_grad::relu_backward(chunk, &y);
    }
    Ok(())
}

/// One class's map from the stage's activations `a` (`[C, area]`) and ∂y_c/∂a `g`.
fn class_map(method: CamMethod, a: &[f32], g: &[f32], channels: usize, area: usize) -> Vec<f32> {
    let mut cam = vec![0f64; area];
    for k in 0..channels {
        let (ak, gk) = (&a[k * area..(k + 1) * area], &g[k * area..(k + 1) * area]);
        let weight = channel_weight(method, ak, gk);
        for (c, &v) in cam.iter_mut().zip(ak) {
            *c += weight * f64::from(v);
        }
    }
    normalized(&cam)
}

/// The weight of one channel: Grad-CAM's mean gradient, or Grad-CAM++'s
/// Σ ReLU(g)·g² / (2g² + ΣA·g³ + ε), ε = 1e-6, over the positions where g ≠ 0.
fn channel_weight(method: CamMethod, a: &[f32], g: &[f32]) -> f64 {
    match method {
        CamMethod::GradCam => g.iter().map(|&v| f64::from(v)).sum::<f64>() / g.len() as f64,
        CamMethod::GradCamPlusPlus => {
            let sum_a: f64 = a.iter().map(|&v| f64::from(v)).sum();
            g.iter()
                .filter(|&&v| v != 0.0)
                .map(|&v| {
                    let g = f64::from(v);
                    let g2 = g * g;
                    g.max(0.0) * g2 / (2.0 * g2 + sum_a * g2 * g + 1e-6)
                })
                .sum()
        }
    }
}

/// ReLU, then (x − min) / (max − min + 1e-7), as pytorch-grad-cam's `scale_cam_image`.
fn normalized(cam: &[f64]) -> Vec<f32> {
    let relu: Vec<f64> = cam.iter().map(|&v| v.max(0.0)).collect();
    let min = relu.iter().copied().fold(f64::INFINITY, f64::min);
    let max = relu.iter().map(|v| v - min).fold(0.0, f64::max);
    relu.iter()
        .map(|v| ((v - min) / (1e-7 + max)) as f32)
        .collect()
}

/// Bilinear resampling of a `(h, w)` map to `(out_h, out_w)` with half-pixel centers and
/// clamped edges (OpenCV's `INTER_LINEAR`, PyTorch's `align_corners=False`).
pub fn upsample_bilinear(
    map: &[f32],
    (h, w): (usize, usize),
    (oh, ow): (usize, usize),
) -> Vec<f32> {
    if h == 0 || w == 0 || map.len() != h * w {
        return vec![0.0; oh * ow];
    }
    let taps = |out: usize, size: usize| -> Vec<(usize, usize, f32)> {
        let scale = size as f32 / out as f32;
        (0..out)
            .map(|i| {
                let x = ((i as f32 + 0.5) * scale - 0.5).max(0.0);
                let i0 = (x.floor() as usize).min(size - 1);
                let i1 = (i0 + 1).min(size - 1);
                (i0, i1, x - i0 as f32)
            })
            .collect()
    };
    let (rows, cols) = (taps(oh, h), taps(ow, w));
    let mut out = Vec::with_capacity(oh * ow);
    for &(y0, y1, fy) in &rows {
        for &(x0, x1, fx) in &cols {
            let top = map[y0 * w + x0] * (1.0 - fx) + map[y0 * w + x1] * fx;
            let bottom = map[y1 * w + x0] * (1.0 - fx) + map[y1 * w + x1] * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    out
}

fn out_of_order() -> Error {
    Error::InvalidArgument("the class activation map ran its steps out of order".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsampling_keeps_values_and_interpolates_between_centers() {
        // 2×2 → 4×4: output centers at input coordinates −0.25, 0.25, 0.75, 1.25.
        let up = upsample_bilinear(&[0.0, 1.0, 2.0, 3.0], (2, 2), (4, 4));
        assert_eq!(&up[..4], &[0.0, 0.25, 0.75, 1.0]);
        assert_eq!(&up[12..], &[2.0, 2.25, 2.75, 3.0]);
        assert_eq!(upsample_bilinear(&[5.0], (1, 1), (3, 3)), vec![5.0; 9]);
    }

    #[test]
    fn maps_are_relu_then_min_max_normalized() {
        let m = normalized(&[-2.0, 0.0, 1.0, 3.0]);
        assert_eq!(m[0], 0.0);
        assert_eq!(m[1], 0.0);
        assert!((m[2] - 1.0 / 3.0).abs() < 1e-6 && (m[3] - 1.0).abs() < 1e-6);
        // A class whose map is nowhere positive: all zeros, not NaN.
        assert!(normalized(&[-1.0, -2.0]).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn grad_cam_weights_are_mean_gradients_and_plus_plus_ignores_negative_ones() {
        let a = [1.0, 2.0, 3.0, 4.0];
        let g = [0.5, -0.5, 1.0, 0.0];
        assert!((channel_weight(CamMethod::GradCam, &a, &g) - 0.25).abs() < 1e-12);
        let pp = channel_weight(CamMethod::GradCamPlusPlus, &a, &g);
        // Positive gradients only: 0.5·0.25/(0.5 + 10·0.125 + ε) + 1·1/(2 + 10 + ε).
        let expected = 0.5 * 0.25 / (0.5 + 1.25 + 1e-6) + 1.0 / (12.0 + 1e-6);
        assert!((pp - expected).abs() < 1e-12, "{pp} vs {expected}");
    }

    #[test]
    fn heatmaps_blend_over_the_image_by_opacity() {
        let under = [100u8, 100, 100, 255];
        let jet_top = Colormap::Jet.rgb(1.0);
        assert_eq!(heatmap_rgba(&[1.0], None, Colormap::Jet, 0.3)[..3], jet_top);
        assert_eq!(
            heatmap_rgba(&[1.0], Some((&under, 4)), Colormap::Jet, 0.0),
            under
        );
        let half = heatmap_rgba(&[1.0], Some((&under[..3], 3)), Colormap::Jet, 0.5);
        assert_eq!(
            half[0],
            ((100.0 + f32::from(jet_top[0])) / 2.0).round() as u8
        );
    }

    #[test]
    fn stages_by_layer_name_or_number() {
        assert_eq!(stage_from_name("layer4").unwrap(), 5);
        assert_eq!(stage_from_name("3").unwrap(), 3);
        assert_eq!(layer_name(2), "layer1");
        for bad in ["layer0", "layer5", "1", "stem"] {
            assert!(stage_from_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn methods_parse_as_the_cli_writes_them() {
        for m in [CamMethod::GradCam, CamMethod::GradCamPlusPlus] {
            assert_eq!(m.id().parse::<CamMethod>().unwrap(), m);
        }
        assert!("cam".parse::<CamMethod>().is_err());
    }
}
