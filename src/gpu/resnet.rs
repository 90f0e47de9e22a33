//! The ResNet-50 inference forward on the GPU: weights uploaded once, one plan of kernel
//! launches per input size (buffers allocated once and reused), read-back on request.

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use candle_nn::Conv2d;

use super::add_relu::AddReluKernel;
use super::context::GpuContext;
use super::conv::{ConvKernel, ConvWeights};
use super::dispatch::Dispatch;
use super::global_avg_pool::GlobalAvgPoolKernel;
use super::linear::{LinearKernel, LinearWeights};
use super::max_pool::{pooled_side, MaxPoolKernel};
use crate::config::Head;
use crate::model::{BlockId, BlockOutput, LayerId, ResNet, Tap};
use crate::{Error, Result};

/// How much of the forward pass to copy back to the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Readback {
    /// Logits and pooled features only (fastest: every residual add is fused).
    Logits,
    /// Also the five stage outputs.
    Stages,
    /// Also every block's shortcut, residual F(x) and output (the residual add runs unfused).
    Blocks,
}

/// What a GPU forward pass brought back, as host tensors shaped like the CPU path's.
pub struct GpuForward {
    /// `[1, classes]`.
    pub logits: Tensor,
    /// `[1, 2048]` pooled features.
    pub pool: Tensor,
    /// Stage 1–5 outputs `[1, C, H, W]` (empty for [`Readback::Logits`]).
    pub stages: Vec<Tensor>,
    /// Each block's input and parts (empty unless [`Readback::Blocks`]).
    pub blocks: Vec<(BlockId, Tensor, BlockOutput)>,
}

impl GpuForward {
    /// Hands the results to `on_tap` in the order [`ResNet::forward_with_taps`] does, so the
    /// same analysis code serves both backends.
    pub fn replay(&self, on_tap: &mut dyn FnMut(Tap<'_>) -> Result<()>) -> Result<()> {
        for (s, stage) in self.stages.iter().enumerate() {
            for (id, input, parts) in self.blocks.iter().filter(|(id, ..)| id.stage == s + 1) {
                on_tap(Tap::Block {
                    id: *id,
                    input,
                    parts,
                })?;
            }
            on_tap(Tap::Output {
                id: LayerId::Stage(s + 1),
                value: stage,
            })?;
        }
        on_tap(Tap::Output {
            id: LayerId::Pool,
            value: &self.pool,
        })?;
        on_tap(Tap::Output {
            id: LayerId::Logits,
            value: &self.logits,
        })
    }
}

struct GpuBlock {
    id: BlockId,
    skip: bool,
    conv1: ConvWeights,
    conv2: ConvWeights,
    conv3: ConvWeights,
    downsample: Option<ConvWeights>,
}

/// A device buffer holding a `[c, side, side]` activation.
#[derive(Clone)]
struct Activation {
    buffer: wgpu::Buffer,
    channels: usize,
    side: usize,
}

impl Activation {
    fn len(&self) -> usize {
        self.channels * self.side * self.side
    }
}

/// Buffers freed by one layer and taken by a later one (same length), so a plan allocates
/// only as many activations as are alive at once.
#[derive(Default)]
struct BufferPool {
    free: Vec<(usize, wgpu::Buffer)>,
}

impl BufferPool {
    fn take(&mut self, ctx: &GpuContext, channels: usize, side: usize) -> Activation {
        let len = channels * side * side;
        let buffer = match self.free.iter().position(|(l, _)| *l == len) {
            Some(i) => self.free.swap_remove(i).1,
            None => ctx.scratch("activation", len),
        };
        Activation {
            buffer,
            channels,
            side,
        }
    }

    fn give(&mut self, a: Activation) {
        self.free.push((a.len(), a.buffer));
    }
}

/// What an unfused plan keeps of one block. Its input is the previous block's output (or
/// Stage 1) and an identity shortcut is that input, so neither is read back twice.
struct BlockTaps {
    id: BlockId,
    skip: bool,
    projection: Option<Activation>,
    residual: Activation,
    output: Activation,
}

struct Plan {
    dispatches: Vec<Dispatch>,
    input: wgpu::Buffer,
    stages: Vec<Activation>,
    blocks: Vec<BlockTaps>,
    pool: wgpu::Buffer,
    logits: wgpu::Buffer,
}

struct Kernels {
    conv: ConvKernel,
    max_pool: MaxPoolKernel,
    global_avg_pool: GlobalAvgPoolKernel,
    linear: LinearKernel,
    add_relu: AddReluKernel,
}

/// The network's weights on the device.
struct GpuWeights {
    stem: ConvWeights,
    blocks: Vec<GpuBlock>,
    fc: LinearWeights,
}

impl GpuWeights {
    fn upload(ctx: &GpuContext, model: &ResNet) -> Result<Self> {
        if !model.is_folded() || model.config.head != Head::GlobalAvgPool {
            return Err(Error::InvalidArgument(
                "the GPU path runs the folded network with the global-average-pool head".into(),
            ));
        }
        if model.is_lean() {
            return Err(Error::InvalidArgument(
                "a lean network keeps no convolution values to upload: fold the weights for the \
                 GPU (Engine::gpu_network)"
                    .into(),
            ));
        }
        let stem = upload_conv(ctx, "conv1", &model.stem.conv1)?;
        let blocks = model
            .blocks()
            .map(|b| {
                let name = b.id.torch_name();
                Ok(GpuBlock {
                    id: b.id,
                    skip: model.config.skips.enabled(b.id.flat_index()),
                    conv1: upload_conv(ctx, &format!("{name}.conv1"), &b.conv1)?,
                    conv2: upload_conv(ctx, &format!("{name}.conv2"), &b.conv2)?,
                    conv3: upload_conv(ctx, &format!("{name}.conv3"), &b.conv3)?,
                    downsample: match &b.downsample {
                        Some(d) => Some(upload_conv(ctx, &format!("{name}.downsample"), &d.conv)?),
                        None => None,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let fc_weight = model.fc.weight();
        let (outputs, inputs) = fc_weight.dims2()?;
        let fc_bias = match model.fc.bias() {
            Some(b) => b.to_vec1::<f32>()?,
            None => vec![0.0; outputs],
        };
        let fc = LinearWeights::upload(
            ctx,
            &fc_weight.flatten_all()?.to_vec1::<f32>()?,
            &fc_bias,
            outputs,
            inputs,
        )?;
        Ok(Self { stem, blocks, fc })
    }
}

/// ResNet-50 (folded batch norm) resident on the GPU.
pub struct GpuResNet {
    ctx: GpuContext,
    kernels: Kernels,
    weights: GpuWeights,
    plans: HashMap<(usize, bool), Plan>,
}

fn upload_conv(ctx: &GpuContext, label: &str, conv: &Conv2d) -> Result<ConvWeights> {
    let weight = conv.weight();
    let dims = weight.dims4()?;
    let bias = match conv.bias() {
        Some(b) => b.to_vec1::<f32>()?,
        None => vec![0.0; dims.0],
    };
    let config = conv.config();
    if config.groups != 1 || config.dilation != 1 {
        return Err(Error::InvalidArgument(format!(
            "{label}: the GPU convolution is dense and undilated"
        )));
    }
    ConvWeights::upload(
        ctx,
        label,
        &weight.flatten_all()?.to_vec1::<f32>()?,
        &bias,
        [dims.0, dims.1, dims.2, dims.3],
        config.stride,
        config.padding,
    )
}

impl GpuResNet {
    /// Compiles the kernels and uploads `model`'s weights; `model` must have its batch norm
    /// folded ([`ResNet::fold_batch_norm`]) and the global-average-pool head.
    pub fn new(ctx: GpuContext, model: &ResNet) -> Result<Self> {
        let weights = GpuWeights::upload(&ctx, model)?;
        let kernels = Kernels {
            conv: ConvKernel::new(&ctx),
            max_pool: MaxPoolKernel::new(&ctx),
            global_avg_pool: GlobalAvgPoolKernel::new(&ctx),
            linear: LinearKernel::new(&ctx),
            add_relu: AddReluKernel::new(&ctx),
        };
        Ok(Self {
            ctx,
            kernels,
            weights,
            plans: HashMap::new(),
        })
    }

    /// Replaces the weights with `model`'s (new checkpoint); kernels stay compiled. On error
    /// the old weights stay.
    pub fn load(&mut self, model: &ResNet) -> Result<()> {
        self.weights = GpuWeights::upload(&self.ctx, model)?;
        // Plans bind the old weight buffers.
        self.plans.clear();
        Ok(())
    }

    /// The device this network lives on.
    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    fn build_plan(&self, side: usize, unfused: bool) -> Plan {
        let ctx = &self.ctx;
        let k = &self.kernels;
        let mut pool = BufferPool::default();
        let mut dispatches = Vec::new();
        let input = ctx.scratch("input", 3 * side * side);

        let s1 = self.weights.stem.out_side(side);
        let stem_out = pool.take(ctx, self.weights.stem.cout, s1);
        dispatches.push(k.conv.dispatch(
            ctx,
            &self.weights.stem,
            &input,
            side,
            None,
            true,
            &stem_out.buffer,
        ));
        let pooled = pooled_side(s1);
        // Stage outputs are read back on request, so they own their buffers.
        let stage1 = Activation {
            buffer: ctx.scratch("stage1", self.weights.stem.cout * pooled * pooled),
            channels: self.weights.stem.cout,
            side: pooled,
        };
        dispatches.push(k.max_pool.dispatch(
            ctx,
            &stem_out.buffer,
            self.weights.stem.cout,
            s1,
            &stage1.buffer,
        ));
        pool.give(stem_out);

        let mut stages = vec![stage1.clone()];
        let mut blocks = Vec::new();
        let mut x = stage1;
        for (i, b) in self.weights.blocks.iter().enumerate() {
            let last_of_stage = self
                .weights
                .blocks
                .get(i + 1)
                .is_none_or(|n| n.id.stage != b.id.stage);
            let t1 = pool.take(ctx, b.conv1.cout, b.conv1.out_side(x.side));
            dispatches.push(
                k.conv
                    .dispatch(ctx, &b.conv1, &x.buffer, x.side, None, true, &t1.buffer),
            );
            let t2 = pool.take(ctx, b.conv2.cout, b.conv2.out_side(t1.side));
            dispatches.push(
                k.conv
                    .dispatch(ctx, &b.conv2, &t1.buffer, t1.side, None, true, &t2.buffer),
            );
            pool.give(t1);
            let shortcut = match (&b.downsample, b.skip) {
                (_, false) => None,
                (Some(d), true) => {
                    let s = pool.take(ctx, d.cout, d.out_side(x.side));
                    dispatches.push(
                        k.conv
                            .dispatch(ctx, d, &x.buffer, x.side, None, false, &s.buffer),
                    );
                    Some(s)
                }
                (None, true) => Some(x.clone()),
            };
            let out_side = b.conv3.out_side(t2.side);
            let output = if last_of_stage {
                Activation {
                    buffer: ctx.scratch(&b.id.torch_name(), b.conv3.cout * out_side * out_side),
                    channels: b.conv3.cout,
                    side: out_side,
                }
            } else {
                pool.take(ctx, b.conv3.cout, out_side)
            };
            if unfused {
                let residual = ctx.scratch("residual", b.conv3.cout * out_side * out_side);
                let residual = Activation {
                    buffer: residual,
                    channels: b.conv3.cout,
                    side: out_side,
                };
                dispatches.push(k.conv.dispatch(
                    ctx,
                    &b.conv3,
                    &t2.buffer,
                    t2.side,
                    None,
                    false,
                    &residual.buffer,
                ));
                dispatches.push(match &shortcut {
                    Some(s) => k.add_relu.dispatch(
                        ctx,
                        &residual.buffer,
                        &s.buffer,
                        output.len(),
                        &output.buffer,
                    ),
                    // No skip: ReLU(F(x)) is the same convolution with its ReLU fused.
                    None => k.conv.dispatch(
                        ctx,
                        &b.conv3,
                        &t2.buffer,
                        t2.side,
                        None,
                        true,
                        &output.buffer,
                    ),
                });
                // Everything stays alive for the read-back: nothing goes back to the pool.
                blocks.push(BlockTaps {
                    id: b.id,
                    skip: b.skip,
                    projection: shortcut.filter(|_| b.downsample.is_some()),
                    residual,
                    output: output.clone(),
                });
                pool.give(t2);
            } else {
                dispatches.push(k.conv.dispatch(
                    ctx,
                    &b.conv3,
                    &t2.buffer,
                    t2.side,
                    shortcut.as_ref().map(|s| &s.buffer),
                    true,
                    &output.buffer,
                ));
                pool.give(t2);
                if let (Some(s), Some(_)) = (shortcut, &b.downsample) {
                    pool.give(s);
                }
                if !stages.iter().any(|st| st.buffer == x.buffer) {
                    pool.give(x);
                }
            }
            if last_of_stage {
                stages.push(output.clone());
            }
            x = output;
        }

        let pooled_features = ctx.scratch("pool", x.channels);
        dispatches.push(k.global_avg_pool.dispatch(
            ctx,
            &x.buffer,
            x.channels,
            x.side * x.side,
            &pooled_features,
        ));
        let logits = ctx.scratch("logits", self.weights.fc.outputs);
        dispatches.push(
            k.linear
                .dispatch(ctx, &self.weights.fc, &pooled_features, &logits),
        );
        Plan {
            dispatches,
            input,
            stages,
            blocks,
            pool: pooled_features,
            logits,
        }
    }

    /// Runs the network on a normalized `[1, 3, S, S]` input and copies back what `readback`
    /// asks for. GPU errors (validation, out of memory, device lost) come back as errors.
    pub async fn forward(&mut self, input: &Tensor, readback: Readback) -> Result<GpuForward> {
        let (n, c, h, w) = input.dims4()?;
        if n != 1 || c != 3 || h != w || h < 32 {
            return Err(Error::InvalidArgument(format!(
                "the GPU path takes one [1, 3, S, S] image with S ≥ 32, got {:?}",
                input.dims()
            )));
        }
        self.ctx.check_alive()?;
        let scopes = self.ctx.error_scopes();
        let unfused = readback == Readback::Blocks;
        let key = (h, unfused);
        if !self.plans.contains_key(&key) {
            let plan = self.build_plan(h, unfused);
            self.plans.insert(key, plan);
        }
        let Some(plan) = self.plans.get(&key) else {
            return Err(Error::Gpu("no plan for this input size".into()));
        };
        let data = input.flatten_all()?.to_vec1::<f32>()?;
        let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.ctx.queue.write_buffer(&plan.input, 0, &bytes);
        self.ctx.submit(&plan.dispatches);

        let mut wanted: Vec<(&wgpu::Buffer, usize)> = vec![
            (&plan.logits, self.weights.fc.outputs),
            (&plan.pool, self.weights.fc.inputs),
        ];
        if readback != Readback::Logits {
            wanted.extend(plan.stages.iter().map(|s| (&s.buffer, s.len())));
        }
        for b in &plan.blocks {
            if let Some(s) = &b.projection {
                wanted.push((&s.buffer, s.len()));
            }
            wanted.push((&b.residual.buffer, b.residual.len()));
            wanted.push((&b.output.buffer, b.output.len()));
        }
        let read = self.ctx.read(&wanted).await;
        scopes.finish().await?;
        let mut values = read?.into_iter();
        let mut next = |shape: &[usize]| -> Result<Tensor> {
            let v = values
                .next()
                .ok_or_else(|| Error::Gpu("read-back came back short".into()))?;
            Ok(Tensor::from_vec(v, shape, &Device::Cpu)?)
        };
        let logits = next(&[1, self.weights.fc.outputs])?;
        let pool = next(&[1, self.weights.fc.inputs])?;
        let mut stages = Vec::new();
        if readback != Readback::Logits {
            for s in &plan.stages {
                stages.push(next(&[1, s.channels, s.side, s.side])?);
            }
        }
        let shape = |a: &Activation| [1, a.channels, a.side, a.side];
        let mut blocks = Vec::new();
        let mut input = stages.first().cloned();
        for b in &plan.blocks {
            let Some(x) = input.take() else {
                return Err(Error::Gpu("block read-back without Stage 1".into()));
            };
            let shortcut = match (&b.projection, b.skip) {
                (Some(s), _) => Some(next(&shape(s))?),
                (None, true) => Some(x.clone()),
                (None, false) => None,
            };
            let residual = next(&shape(&b.residual))?;
            let output = next(&shape(&b.output))?;
            input = Some(output.clone());
            blocks.push((
                b.id,
                x,
                BlockOutput {
                    shortcut,
                    residual,
                    output,
                },
            ));
        }
        Ok(GpuForward {
            logits,
            pool,
            stages,
            blocks,
        })
    }
}
