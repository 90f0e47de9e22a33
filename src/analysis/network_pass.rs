//! One network's forward and backward pass for the Gradient lab, on the `kernels/` slices
//! rather than a recorded graph. The forward keeps what the backward needs and nothing else:
//! each convolution's input, batch norm's input in training mode, the ReLU outputs (their
//! masks) and the max-pool's picks. The backward walks the layers back and hands over
//! ‖∂L/∂W‖ of every weight layer and ‖∂L/∂x‖ at the stem and at each block output, freeing
//! each block's record once it is done. It runs in [`PASS_STEPS`] steps (the stem, each block,
//! head and loss, then each block back and the stem), so that the caller reports progress and
//! checks for cancellation between them: a step is at most one bottleneck's three or four
//! convolutions.

use std::collections::BTreeMap;
use std::rc::Rc;

use candle_core::{DType, Tensor, WithDType};
use candle_nn::Conv2d;

use crate::config::{Head, NormMode, NUM_BLOCKS};
use crate::imagenet::top_k;
use crate::kernels::batch_norm::{self as bn_kernel, Dims, Value};
use crate::kernels::conv_grad::{self, ConvGeometry, Real};
use crate::kernels::filter_grad_norm::{filter_grad_norm, gram_pays};
use crate::kernels::pool_grad;
use crate::model::batch_norm::{BatchNorm, BN_EPS};
use crate::model::values::{sum_of_squares, with_values};
use crate::model::{Bottleneck, ResNet};
use crate::{Error, Result};

use super::lab_convs::{LabConv, LabConvs};

/// Steps of one network's pass: the stem, each of the [`NUM_BLOCKS`] blocks, the head with the
/// loss (and its backward); each block back, and the stem.
pub const PASS_STEPS: usize = 2 * NUM_BLOCKS + 3;

/// How many of the [`PASS_STEPS`] are the forward pass (the head's step included).
pub const FORWARD_STEPS: usize = NUM_BLOCKS + 2;

/// A float the pass computes in: f32 or f64.
pub trait Float: Real + Value + WithDType + PartialOrd {
    /// These values as f32, when they are (the type of the prepared [`LabConvs`]).
    fn as_f32(values: &[Self]) -> Option<&[f32]>;
    /// f32 values as this type, when it is f32.
    fn from_f32(values: Vec<f32>) -> Option<Vec<Self>>;
}

impl Float for f32 {
    fn as_f32(values: &[Self]) -> Option<&[f32]> {
        Some(values)
    }

    fn from_f32(values: Vec<f32>) -> Option<Vec<Self>> {
        Some(values)
    }
}

impl Float for f64 {
    fn as_f32(_: &[Self]) -> Option<&[f32]> {
        None
    }

    fn from_f32(_: Vec<f32>) -> Option<Vec<Self>> {
        None
    }
}

fn cast<T: Float>(v: f64) -> T {
    <T as Value>::from_f64(v)
}

fn norm<T: Float>(v: &[T]) -> f64 {
    sum_of_squares(v).sqrt()
}

/// An activation of the batch: `[N, C, H, W]` values.
struct Activation<T> {
    data: Vec<T>,
    c: usize,
    h: usize,
    w: usize,
}

impl<T: Float> Activation<T> {
    fn planes(&self, n: usize) -> usize {
        n * self.c
    }
}

/// A convolution's filters and geometry, read from the network, with its prepared f32 form
/// when there is one.
struct Filters<'a> {
    conv: &'a Conv2d,
    geometry: ConvGeometry,
    prepared: Option<&'a LabConv>,
}

impl<'a> Filters<'a> {
    /// The convolution `conv` (torchvision name `name`) on the batch `x` of `n` images.
    fn of<T>(
        name: &str,
        conv: &'a Conv2d,
        convs: Option<&'a LabConvs>,
        n: usize,
        x: &Activation<T>,
    ) -> Result<Self> {
        let cfg = conv.config();
        if cfg.groups != 1 || cfg.dilation != 1 || conv.bias().is_some() {
            return Err(Error::InvalidArgument(
                "the Gradient lab runs plain convolutions (no groups, dilation or bias)".into(),
            ));
        }
        let (co, ci, kh, kw) = conv.weight().dims4()?;
        let geometry = ConvGeometry::new(
            [n, x.c, x.h, x.w],
            [co, ci, kh, kw],
            cfg.stride,
            cfg.padding,
        )?;
        let positions = n * geometry.positions();
        let prepared = match convs {
            Some(c) => c.get(name, conv, geometry.shape(), positions)?,
            None => None,
        };
        Ok(Self {
            conv,
            geometry,
            prepared,
        })
    }

    fn forward<T: Float>(&self, x: &[T]) -> Result<Activation<T>> {
        let g = &self.geometry;
        let positions = g.n * g.positions();
        let prepared = match (self.prepared, T::as_f32(x)) {
            (Some(conv), Some(x)) if LabConv::forward_pays(positions) => {
                T::from_f32(conv.forward(g, x)?)
            }
            _ => None,
        };
        let data = match prepared {
            Some(data) => data,
            None => with_values(self.conv.weight(), |w: &[T]| conv_grad::forward(g, x, w))?,
        };
        Ok(Activation {
            data,
            c: g.cout,
            h: g.ho,
            w: g.wo,
        })
    }

    /// ‖∂L/∂W‖ from the convolution's input `x` and `dy`: through Gram matrices where the
    /// batch has few output positions (∂L/∂W is never formed), else from ∂L/∂W.
    fn filter_norm<T: Float>(&self, x: &[T], dy: &[T]) -> Result<f64> {
        if gram_pays(&self.geometry) {
            return filter_grad_norm(&self.geometry, x, dy);
        }
        if let (Some(conv), Some(x), Some(dy)) = (self.prepared, T::as_f32(x), T::as_f32(dy)) {
            return Ok(norm(&conv.filter_grad(&self.geometry, x, dy)?));
        }
        Ok(norm(&conv_grad::filter_grad(&self.geometry, x, dy)?))
    }

    fn input_grad<T: Float>(&self, dy: &[T]) -> Result<Vec<T>> {
        let positions = self.geometry.n * self.geometry.positions();
        if let (Some(conv), Some(dy)) = (self.prepared, T::as_f32(dy)) {
            if LabConv::input_grad_pays(conv.shape(), positions) {
                if let Some(dx) = T::from_f32(conv.input_grad(&self.geometry, dy)?) {
                    return Ok(dx);
                }
            }
        }
        with_values(self.conv.weight(), |w: &[T]| {
            conv_grad::input_grad(&self.geometry, w, dy)
        })
    }
}

/// What a batch norm's backward needs.
enum NormRecord<T> {
    /// Batch norm off: the identity.
    Off,
    /// Eval mode: the per-channel scale.
    Eval(Vec<f64>),
    /// Training mode: its input (the statistics are recomputed from it).
    Train(Vec<T>),
}

fn norm_forward<T: Float>(
    bn: &BatchNorm,
    mode: NormMode,
    n: usize,
    x: Activation<T>,
) -> Result<(Activation<T>, NormRecord<T>)> {
    let dims = dims_of(&x, n);
    match mode {
        NormMode::Off => Ok((x, NormRecord::Off)),
        NormMode::Eval => {
            let (scale, shift) = bn.scale_and_shift()?;
            let scale = scale.to_dtype(DType::F64)?.to_vec1::<f64>()?;
            let shift = shift.to_dtype(DType::F64)?.to_vec1::<f64>()?;
            let mut x = x;
            for (i, plane) in x.data.chunks_exact_mut(dims.hw).enumerate() {
                let (a, b) = (scale[i % dims.c], shift[i % dims.c]);
                for v in plane {
                    *v = cast(Into::<f64>::into(*v) * a + b);
                }
            }
            Ok((x, NormRecord::Eval(scale)))
        }
        NormMode::Train => {
            let mut out = vec![T::default(); x.data.len()];
            with_values(&bn.weight, |gamma: &[T]| {
                with_values(&bn.bias, |beta: &[T]| {
                    bn_kernel::forward(&x.data, dims, gamma, beta, BN_EPS, &mut out);
                    Ok::<_, Error>(())
                })
            })?;
            let y = Activation {
                data: out,
                c: x.c,
                h: x.h,
                w: x.w,
            };
            Ok((y, NormRecord::Train(x.data)))
        }
    }
}

fn norm_backward<T: Float>(
    bn: &BatchNorm,
    record: &NormRecord<T>,
    dims: Dims,
    mut dy: Vec<T>,
) -> Result<Vec<T>> {
    match record {
        NormRecord::Off => Ok(dy),
        NormRecord::Eval(scale) => {
            for (i, plane) in dy.chunks_exact_mut(dims.hw).enumerate() {
                let a = scale[i % dims.c];
                for v in plane {
                    *v = cast(Into::<f64>::into(*v) * a);
                }
            }
            Ok(dy)
        }
        NormRecord::Train(x) => with_values(&bn.weight, |gamma: &[T]| {
            Ok::<_, Error>(bn_kernel::backward(x, dims, gamma, &dy, BN_EPS).x)
        }),
    }
}

/// conv → batch norm → ReLU, keeping the ReLU's output and batch norm's record.
fn conv_norm_relu<T: Float>(
    filters: &Filters<'_>,
    bn: &BatchNorm,
    mode: NormMode,
    n: usize,
    x: &[T],
) -> Result<(Activation<T>, NormRecord<T>)> {
    let (mut y, record) = norm_forward(bn, mode, n, filters.forward(x)?)?;
    pool_grad::relu(&mut y.data);
    Ok((y, record))
}

/// The backward of conv → batch norm for `dy` at the batch norm's output: ‖∂L/∂W‖ of the
/// convolution (whose input was `x`) and ∂L/∂x.
fn conv_norm_backward<T: Float>(
    filters: &Filters<'_>,
    bn: &BatchNorm,
    record: &NormRecord<T>,
    x: &[T],
    dy: Vec<T>,
) -> Result<(f64, Vec<T>)> {
    let g = &filters.geometry;
    let dims = Dims {
        n: g.n,
        c: g.cout,
        hw: g.ho * g.wo,
    };
    let dc = norm_backward(bn, record, dims, dy)?;
    Ok((filters.filter_norm(x, &dc)?, filters.input_grad(&dc)?))
}

fn dims_of<T>(a: &Activation<T>, n: usize) -> Dims {
    Dims {
        n,
        c: a.c,
        hw: a.h * a.w,
    }
}

/// What the stem's backward needs (its input is the pass's input).
struct StemRecord<T> {
    norm: NormRecord<T>,
    /// The ReLU's output, `[N, 64, H, W]`, before the max-pool.
    relu: Activation<T>,
    picks: Vec<u32>,
}

/// What a block's backward needs (its input is the previous output).
struct BlockRecord<T> {
    norms: [NormRecord<T>; 3],
    projection: Option<NormRecord<T>>,
    /// The outputs of the first two conv → batch norm → ReLU.
    relu1: Activation<T>,
    relu2: Activation<T>,
    skip: bool,
}

/// What one network's pass found.
pub(crate) struct PassResult {
    /// Each image's class whose loss was differentiated.
    pub(crate) targets: Vec<usize>,
    /// The batch-mean cross-entropy.
    pub(crate) loss: f64,
    /// ‖∂L/∂W‖ by torchvision parameter name.
    pub(crate) layers: BTreeMap<String, f64>,
    /// ‖∂L/∂x‖ at the stem, then at each block output in network order.
    pub(crate) activations: Vec<(String, f64)>,
}

/// A network's pass as the job drives it, whatever its float type.
pub(crate) trait Pass {
    /// Runs the next of the [`PASS_STEPS`] steps.
    fn step(&mut self) -> Result<()>;
    /// Steps run so far.
    fn done(&self) -> usize;
    /// What it found, once every step ran.
    fn result(self: Box<Self>) -> Result<PassResult>;
}

/// Starts the pass of `model` over `input` (`[N, 3, S, S]`, f32 or f64, the precision the
/// pass computes in; the model's weights in the same type), on `convs` where it has them (f32).
pub(crate) fn start(
    model: ResNet,
    convs: Option<Rc<LabConvs>>,
    input: &Tensor,
    targets: Option<Vec<usize>>,
) -> Result<Box<dyn Pass>> {
    Ok(match input.dtype() {
        DType::F32 => Box::new(NetworkPass::<f32>::new(model, convs, input, targets)?),
        DType::F64 => Box::new(NetworkPass::<f64>::new(model, convs, input, targets)?),
        other => {
            return Err(Error::InvalidArgument(format!(
                "the Gradient lab computes in f32 or f64, not {other:?}"
            )))
        }
    })
}

impl<T: Float> Pass for NetworkPass<T> {
    fn step(&mut self) -> Result<()> {
        NetworkPass::step(self)
    }

    fn done(&self) -> usize {
        self.done
    }

    fn result(self: Box<Self>) -> Result<PassResult> {
        let (Some(targets), true) = (self.targets, self.done == PASS_STEPS) else {
            return Err(no_output());
        };
        Ok(PassResult {
            targets,
            loss: self.loss,
            layers: self.layers,
            activations: self.activations.into_iter().rev().collect(),
        })
    }
}

/// One network's pass, step by step.
struct NetworkPass<T> {
    model: ResNet,
    /// Its convolutions prepared in f32 (none in f64).
    convs: Option<Rc<LabConvs>>,
    n: usize,
    input: Activation<T>,
    /// Each image's target, or `None` to take each one's top-1 from its logits.
    targets: Option<Vec<usize>>,
    done: usize,
    stem: Option<StemRecord<T>>,
    blocks: Vec<BlockRecord<T>>,
    /// The stem output, then each block's output; popped as the backward goes.
    outputs: Vec<Activation<T>>,
    /// ∂L/∂(the last output still in `outputs`) during the backward.
    grad: Vec<T>,
    loss: f64,
    layers: BTreeMap<String, f64>,
    /// ‖∂L/∂x‖ at each block output, last block first, and the stem last.
    activations: Vec<(String, f64)>,
}

impl<T: Float> NetworkPass<T> {
    /// A pass of `model` over the batch `input` (`[N, 3, S, S]`, in `T`).
    fn new(
        model: ResNet,
        convs: Option<Rc<LabConvs>>,
        input: &Tensor,
        targets: Option<Vec<usize>>,
    ) -> Result<Self> {
        let (n, c, h, w) = input.dims4()?;
        let data = with_values(input, |v: &[T]| Ok::<_, Error>(v.to_vec()))?;
        Ok(Self {
            model,
            convs,
            n,
            input: Activation { data, c, h, w },
            targets,
            done: 0,
            stem: None,
            blocks: Vec::new(),
            outputs: Vec::new(),
            grad: Vec::new(),
            loss: f64::NAN,
            layers: BTreeMap::new(),
            activations: Vec::new(),
        })
    }

    fn mode(&self) -> NormMode {
        self.model.config.norm
    }

    /// Runs the next step.
    fn step(&mut self) -> Result<()> {
        const HEAD: usize = NUM_BLOCKS + 1;
        match self.done {
            0 => self.stem_forward()?,
            s @ 1..=NUM_BLOCKS => {
                let block = self.block(s - 1)?;
                self.block_forward(&block)?
            }
            HEAD => self.head()?,
            s if s + 1 < PASS_STEPS => {
                // Steps HEAD + 1 … PASS_STEPS − 2 take the blocks from the last to the first.
                let block = self.block(PASS_STEPS - 2 - s)?;
                self.block_backward(&block)?
            }
            _ => self.stem_backward()?,
        }
        self.done += 1;
        Ok(())
    }

    /// Block `index` of the network, counted from Stage 2's first.
    fn block(&self, index: usize) -> Result<Bottleneck> {
        self.model
            .stages
            .iter()
            .flatten()
            .nth(index)
            .cloned()
            .ok_or_else(no_output)
    }

    fn stem_forward(&mut self) -> Result<()> {
        let stem = &self.model.stem;
        let convs = self.convs.as_deref();
        let filters = Filters::of("conv1.weight", &stem.conv1, convs, self.n, &self.input)?;
        let (relu, norm) =
            conv_norm_relu(&filters, &stem.bn1, self.mode(), self.n, &self.input.data)?;
        let (pooled, picks) =
            pool_grad::max_pool_3x3_s2(&relu.data, relu.planes(self.n), (relu.h, relu.w));
        self.outputs.push(Activation {
            data: pooled,
            c: relu.c,
            h: pool_grad::max_pool_side(relu.h),
            w: pool_grad::max_pool_side(relu.w),
        });
        self.stem = Some(StemRecord { norm, relu, picks });
        Ok(())
    }

    fn block_forward(&mut self, block: &Bottleneck) -> Result<()> {
        let (n, mode) = (self.n, self.mode());
        let skip = self.model.config.skips.enabled(block.id.flat_index());
        let x = self.outputs.last().ok_or_else(no_output)?;
        let convs = self.convs.as_deref();
        let name = block.id.torch_name();
        let (relu1, n1) = conv_norm_relu(
            &Filters::of(&format!("{name}.conv1.weight"), &block.conv1, convs, n, x)?,
            &block.bn1,
            mode,
            n,
            &x.data,
        )?;
        let (relu2, n2) = conv_norm_relu(
            &Filters::of(
                &format!("{name}.conv2.weight"),
                &block.conv2,
                convs,
                n,
                &relu1,
            )?,
            &block.bn2,
            mode,
            n,
            &relu1.data,
        )?;
        let conv3 = Filters::of(
            &format!("{name}.conv3.weight"),
            &block.conv3,
            convs,
            n,
            &relu2,
        )?
        .forward(&relu2.data)?;
        let (mut out, n3) = norm_forward(&block.bn3, mode, n, conv3)?;
        let mut projection = None;
        if skip {
            match &block.downsample {
                Some(d) => {
                    let shortcut =
                        Filters::of(&format!("{name}.downsample.0.weight"), &d.conv, convs, n, x)?
                            .forward(&x.data)?;
                    let (shortcut, record) = norm_forward(&d.bn, mode, n, shortcut)?;
                    add_into(&mut out.data, &shortcut.data)?;
                    projection = Some(record);
                }
                None => add_into(&mut out.data, &x.data)?,
            }
        }
        pool_grad::relu(&mut out.data);
        self.outputs.push(out);
        self.blocks.push(BlockRecord {
            norms: [n1, n2, n3],
            projection,
            relu1,
            relu2,
            skip,
        });
        Ok(())
    }

    /// Pooling, classifier and loss, and their backward down to the last block's output.
    fn head(&mut self) -> Result<()> {
        let n = self.n;
        let h = self.outputs.last().ok_or_else(no_output)?;
        let planes = h.planes(n);
        let pooled: Vec<T> = match self.model.config.head {
            Head::GlobalAvgPool => h
                .data
                .chunks_exact(h.h * h.w)
                .map(|p| {
                    cast(p.iter().map(|&v| Into::<f64>::into(v)).sum::<f64>() / p.len() as f64)
                })
                .collect(),
            Head::AvgPool2x2Flatten => pool_grad::avg_pool_2x2(&h.data, planes, (h.h, h.w), cast),
        };
        let features = pooled.len() / n;
        let fc_w = self.model.fc.weight();
        let classes = fc_w.dim(0)?;
        if fc_w.dim(1)? != features {
            return Err(Error::InvalidArgument(format!(
                "the classifier takes {} features, the network gives {features}",
                fc_w.dim(1)?
            )));
        }
        let bias: Vec<f64> = match self.model.fc.bias() {
            Some(b) => b.to_dtype(DType::F64)?.to_vec1::<f64>()?,
            None => vec![0.0; classes],
        };
        let (dpooled, fc_norm, loss, targets) = with_values(fc_w, |w: &[T]| {
            let logits: Vec<Vec<f64>> = pooled
                .chunks_exact(features)
                .map(|p| {
                    w.chunks_exact(features)
                        .zip(&bias)
                        .map(|(row, b)| dot(row, p) + b)
                        .collect()
                })
                .collect();
            let targets = match &self.targets {
                Some(t) => t.clone(),
                None => logits
                    .iter()
                    .map(|l| {
                        let l32: Vec<f32> = l.iter().map(|&v| v as f32).collect();
                        top_k(&l32, 1).first().map(|r| r.class).unwrap_or(0)
                    })
                    .collect(),
            };
            if targets.len() != n {
                return Err(Error::InvalidArgument(format!(
                    "{} targets for a batch of {n}",
                    targets.len()
                )));
            }
            // Cross-entropy, mean over the batch, and ∂L/∂logits = (softmax − onehot)/N.
            let mut loss = 0.0;
            let mut dlogits = vec![0f64; n * classes];
            for (i, (l, &t)) in logits.iter().zip(&targets).enumerate() {
                let max = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = l.iter().map(|v| (v - max).exp()).sum();
                loss += (max + sum.ln() - l[t]) / n as f64;
                for (c, v) in l.iter().enumerate() {
                    let p = (v - max).exp() / sum - f64::from(u8::from(c == t));
                    dlogits[i * classes + c] = p / n as f64;
                }
            }
            // ∂L/∂W_fc = dlogitsᵀ · pooled, a sum of N outer products, so
            // ‖∂L/∂W_fc‖² = Σᵢⱼ ⟨dlogitsᵢ, dlogitsⱼ⟩·⟨pooledᵢ, pooledⱼ⟩ without forming it (as
            // `kernels::filter_grad_norm` does for the convolutions); ∂L/∂pooled = dlogits · W_fc.
            let image = |i: usize| &pooled[i * features..(i + 1) * features];
            let mut sum_sq = 0.0;
            for i in 0..n {
                for j in 0..n {
                    let d: f64 = dlogits[i * classes..(i + 1) * classes]
                        .iter()
                        .zip(&dlogits[j * classes..(j + 1) * classes])
                        .map(|(a, b)| a * b)
                        .sum();
                    sum_sq += d * dot(image(i), image(j));
                }
            }
            let mut dpooled = vec![0f64; n * features];
            for i in 0..n {
                let out = &mut dpooled[i * features..(i + 1) * features];
                for (c, wrow) in w.chunks_exact(features).enumerate() {
                    let d = dlogits[i * classes + c];
                    for (o, &wv) in out.iter_mut().zip(wrow) {
                        *o += d * Into::<f64>::into(wv);
                    }
                }
            }
            Ok((dpooled, sum_sq.sqrt(), loss, targets))
        })?;
        self.grad = match self.model.config.head {
            Head::GlobalAvgPool => {
                let area = (h.h * h.w) as f64;
                dpooled
                    .iter()
                    .flat_map(|&d| std::iter::repeat_n(cast::<T>(d / area), h.h * h.w))
                    .collect()
            }
            Head::AvgPool2x2Flatten => {
                let d: Vec<T> = dpooled.iter().map(|&v| cast(v)).collect();
                pool_grad::avg_pool_2x2_backward(&d, planes, (h.h, h.w), cast)
            }
        };
        self.layers.insert("fc.weight".into(), fc_norm);
        self.loss = loss;
        self.targets = Some(targets);
        Ok(())
    }

    fn block_backward(&mut self, block: &Bottleneck) -> Result<()> {
        let n = self.n;
        let record = self.blocks.pop().ok_or_else(no_output)?;
        let out = self.outputs.pop().ok_or_else(no_output)?;
        let x = self.outputs.last().ok_or_else(no_output)?;
        let name = block.id.torch_name();
        let convs = self.convs.as_deref();
        let mut dz = std::mem::take(&mut self.grad);
        self.activations.push((name.clone(), norm(&dz)));
        pool_grad::relu_backward(&mut dz, &out.data);
        let shortcut_grad = record.skip.then(|| dz.clone());
        let [n1, n2, n3] = &record.norms;
        let (r1, r2) = (&record.relu1, &record.relu2);
        let conv3 = Filters::of(&format!("{name}.conv3.weight"), &block.conv3, convs, n, r2)?;
        let (norm3, mut dr2) = conv_norm_backward(&conv3, &block.bn3, n3, &r2.data, dz)?;
        self.layers.insert(format!("{name}.conv3.weight"), norm3);
        pool_grad::relu_backward(&mut dr2, &r2.data);
        let conv2 = Filters::of(&format!("{name}.conv2.weight"), &block.conv2, convs, n, r1)?;
        let (norm2, mut dr1) = conv_norm_backward(&conv2, &block.bn2, n2, &r1.data, dr2)?;
        self.layers.insert(format!("{name}.conv2.weight"), norm2);
        pool_grad::relu_backward(&mut dr1, &r1.data);
        let conv1 = Filters::of(&format!("{name}.conv1.weight"), &block.conv1, convs, n, x)?;
        let (norm1, mut dx) = conv_norm_backward(&conv1, &block.bn1, n1, &x.data, dr1)?;
        self.layers.insert(format!("{name}.conv1.weight"), norm1);
        if let Some(dz) = shortcut_grad {
            match (&block.downsample, &record.projection) {
                (Some(d), Some(projection)) => {
                    let filters =
                        Filters::of(&format!("{name}.downsample.0.weight"), &d.conv, convs, n, x)?;
                    let (norm, dxd) = conv_norm_backward(&filters, &d.bn, projection, &x.data, dz)?;
                    self.layers
                        .insert(format!("{name}.downsample.0.weight"), norm);
                    add_into(&mut dx, &dxd)?;
                }
                _ => add_into(&mut dx, &dz)?,
            }
        }
        self.grad = dx;
        Ok(())
    }

    fn stem_backward(&mut self) -> Result<()> {
        let n = self.n;
        let record = self.stem.take().ok_or_else(no_output)?;
        let pooled = self.outputs.pop().ok_or_else(no_output)?;
        let dp = std::mem::take(&mut self.grad);
        self.activations.push(("stem".into(), norm(&dp)));
        let relu = &record.relu;
        let mut dr =
            pool_grad::max_pool_backward(&dp, &record.picks, pooled.planes(n), relu.h * relu.w);
        pool_grad::relu_backward(&mut dr, &relu.data);
        let filters = Filters::of(
            "conv1.weight",
            &self.model.stem.conv1,
            self.convs.as_deref(),
            n,
            &self.input,
        )?;
        let dc = norm_backward(&self.model.stem.bn1, &record.norm, dims_of(relu, n), dr)?;
        self.layers.insert(
            "conv1.weight".into(),
            filters.filter_norm(&self.input.data, &dc)?,
        );
        Ok(())
    }
}

fn no_output() -> Error {
    Error::InvalidArgument("the gradient pass ran its steps out of order".into())
}

fn dot<T: Float>(a: &[T], b: &[T]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| Into::<f64>::into(x) * Into::<f64>::into(y))
        .sum()
}

fn add_into<T: Float>(acc: &mut [T], x: &[T]) -> Result<()> {
    if acc.len() != x.len() {
        return Err(Error::InvalidArgument(format!(
            "adding {} values to {}",
            x.len(),
            acc.len()
        )));
    }
    for (a, &v) in acc.iter_mut().zip(x) {
        *a += v;
    }
    Ok(())
}
