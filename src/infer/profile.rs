//! Where an inference forward pass spends its time, by kind of layer (for `make bench` and
//! `resnet-lab bench --profile`): the same operations as [`ResNet::forward`], timed one by one.

use candle_core::{Tensor, D};
use candle_nn::{Conv2d, Module};
use serde::{Deserialize, Serialize};

use crate::config::{Head, Skips};
use crate::model::conv::{run_conv, PreparedConv};
use crate::model::max_pool::max_pool_3x3_s2;
use crate::model::ResNet;
use crate::Result;

/// Time spent in one kind of layer during one forward pass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerTime {
    /// What kind: `conv 7×7 (stem)`, `conv 3×3`, `conv 1×1`, `conv 1×1 stride 2`, …
    pub kind: String,
    /// How many such layers ran.
    pub count: usize,
    /// Wall time, milliseconds.
    pub ms: f64,
    /// Floating-point operations (2 per multiply-add) of those layers.
    pub gflop: f64,
}

fn conv_kind(conv: &Conv2d) -> String {
    let k = conv.weight().dims()[2];
    let stride = conv.config().stride;
    match (k, stride) {
        (7, _) => "conv 7×7 (stem)".into(),
        (k, 1) => format!("conv {k}×{k}"),
        (k, s) => format!("conv {k}×{k} stride {s}"),
    }
}

struct Profile<'a> {
    now: &'a dyn Fn() -> f64,
    rows: Vec<LayerTime>,
}

impl Profile<'_> {
    fn record(&mut self, kind: String, ms: f64, gflop: f64) {
        match self.rows.iter_mut().find(|r| r.kind == kind) {
            Some(r) => {
                r.count += 1;
                r.ms += ms;
                r.gflop += gflop;
            }
            None => self.rows.push(LayerTime {
                kind,
                count: 1,
                ms,
                gflop,
            }),
        }
    }

    fn timed(
        &mut self,
        kind: String,
        gflop: f64,
        op: impl FnOnce() -> Result<Tensor>,
    ) -> Result<Tensor> {
        let t0 = (self.now)();
        let out = op()?;
        self.record(kind, (self.now)() - t0, gflop);
        Ok(out)
    }

    /// Times a convolution; `relu` is fused into it when it has a fast form (as the network
    /// does), else timed on its own.
    fn conv(
        &mut self,
        conv: &Conv2d,
        fast: Option<&dyn PreparedConv>,
        x: &Tensor,
        relu: bool,
    ) -> Result<Tensor> {
        let w = conv.weight().dims();
        let kind = conv_kind(conv) + fast.map_or("", |f| f.label());
        let t0 = (self.now)();
        let y = match fast {
            Some(f) => f.forward(x, relu)?,
            None => run_conv(conv, None, x)?,
        };
        let (_, _, ho, wo) = y.dims4()?;
        let gflop = 2.0 * (w[0] * w[1] * w[2] * w[3] * ho * wo) as f64 / 1e9;
        self.record(kind, (self.now)() - t0, gflop);
        if relu && fast.is_none() {
            return self.relu(&y);
        }
        Ok(y)
    }

    fn relu(&mut self, x: &Tensor) -> Result<Tensor> {
        self.timed("ReLU / residual add".into(), 0.0, || Ok(x.relu()?))
    }
}

/// Runs `model` (batch norm folded, global-average-pool head) on `x` and returns the time per
/// kind of layer, slowest first. `now` is a millisecond clock.
pub fn profile_forward(
    model: &ResNet,
    x: &Tensor,
    now: &dyn Fn() -> f64,
) -> Result<Vec<LayerTime>> {
    if !model.is_folded()
        || model.config.skips != Skips::All
        || model.config.head != Head::GlobalAvgPool
    {
        return Err(crate::Error::InvalidArgument(
            "profile the standard folded inference network (all skips, average-pool head)".into(),
        ));
    }
    let mut p = Profile {
        now,
        rows: Vec::new(),
    };
    let h = p.conv(&model.stem.conv1, model.stem.fast.as_deref(), x, true)?;
    let mut h = p.timed("max-pool 3×3".into(), 0.0, || max_pool_3x3_s2(&h))?;
    for block in model.blocks() {
        let t = p.conv(&block.conv1, block.fast_conv(0), &h, true)?;
        let t = p.conv(&block.conv2, block.fast_conv(1), &t, true)?;
        let residual = p.conv(&block.conv3, block.fast_conv(2), &t, false)?;
        let shortcut = match &block.downsample {
            Some(d) => p.conv(&d.conv, block.fast_conv(3), &h, false)?,
            None => h.clone(),
        };
        h = p.timed("ReLU / residual add".into(), 0.0, || {
            Ok((&residual + &shortcut)?.relu()?)
        })?;
    }
    let pooled = p.timed("global average pool".into(), 0.0, || {
        Ok(h.mean(D::Minus1)?.mean(D::Minus1)?)
    })?;
    p.timed("fully connected".into(), 0.0, || {
        Ok(model.fc.forward(&pooled)?)
    })?;
    let mut rows = p.rows;
    rows.sort_by(|a, b| b.ms.total_cmp(&a.ms));
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ResNetConfig;
    use crate::weights::{Init, InitKind};

    #[test]
    fn profile_counts_every_layer_and_all_the_flops() {
        let config = ResNetConfig {
            input_size: 64,
            ..ResNetConfig::resnet50(1000)
        };
        let weights = Init::new(InitKind::He, 0).weights(&config).unwrap();
        let model = ResNet::new(config, &weights)
            .unwrap()
            .fold_batch_norm()
            .unwrap();
        let x = Tensor::zeros(
            (1, 3, 64, 64),
            candle_core::DType::F32,
            &candle_core::Device::Cpu,
        )
        .unwrap();
        let start = std::time::Instant::now();
        let rows = profile_forward(&model, &x, &|| start.elapsed().as_secs_f64() * 1e3).unwrap();
        let convs: usize = rows
            .iter()
            .filter(|r| r.kind.starts_with("conv"))
            .map(|r| r.count)
            .sum();
        assert_eq!(convs, 53);
        // ResNet-50 at 224 is 4.09 G multiply-adds; at 64 it is (64/224)² of the conv part.
        let gflop: f64 = rows.iter().map(|r| r.gflop).sum();
        assert!(gflop > 0.6 && gflop < 0.7, "{gflop} GFLOP at 64×64");
    }
}
