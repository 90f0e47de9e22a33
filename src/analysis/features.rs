//! Per-stage statistics of the activations.

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use crate::model::values::with_values;
use crate::Result;

/// Population statistics of a tensor: mean, standard deviation, min and max, accumulated in
/// f64 over its values in place (no copy: a stage-2 output is 3.2 MB, and converting it to f64
/// with its temporaries took 19 MB of a memory that never shrinks).
fn summary_stats(x: &Tensor) -> Result<[f32; 4]> {
    with_values(x, |v: &[f32]| {
        let n = v.len().max(1) as f64;
        let (mut sum, mut min, mut max) = (0f64, f32::INFINITY, f32::NEG_INFINITY);
        for &x in v {
            sum += x as f64;
            min = min.min(x);
            max = max.max(x);
        }
        let mean = sum / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        Ok([mean as f32, var.sqrt() as f32, min, max])
    })
}

/// ‖x‖₂ of the first image of `x`, accumulated in f64 over its values in place.
fn first_image_norm(x: &Tensor) -> Result<f32> {
    let per_image = x.dims().iter().skip(1).product::<usize>();
    with_values(x, |v: &[f32]| {
        let first = &v[..per_image.min(v.len())];
        Ok(first
            .iter()
            .map(|&x| (x as f64).powi(2))
            .sum::<f64>()
            .sqrt() as f32)
    })
}

/// Shape and population statistics of one stage output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageStats {
    /// `stage1`…`stage5` or `pool`.
    pub name: String,
    /// Tensor shape, e.g. `[1, 256, 56, 56]`.
    pub shape: Vec<usize>,
    /// Mean of all values.
    pub mean: f32,
    /// Population standard deviation.
    pub std: f32,
    /// Smallest value.
    pub min: f32,
    /// Largest value.
    pub max: f32,
}

impl StageStats {
    /// Statistics of `value` under `name`.
    pub fn of(name: &str, value: &Tensor) -> Result<Self> {
        let [mean, std, min, max] = summary_stats(value)?;
        Ok(Self {
            name: name.to_string(),
            shape: value.dims().to_vec(),
            mean,
            std,
            min,
            max,
        })
    }
}

/// One stage output as 8-bit maps: every channel quantized between its own min and max.
///
/// What crosses the worker boundary: a Stage 2 output is 3.2 MB of f32 but 0.8 MB here, and
/// the page can still show true values (`min + q/255·(max − min)`) and renormalize per stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageMaps {
    /// `stage1`…`stage5`.
    pub name: String,
    /// Number of channels.
    pub channels: usize,
    /// Map height.
    pub height: usize,
    /// Map width.
    pub width: usize,
    /// `channels × height × width` bytes, channel after channel.
    pub data: Vec<u8>,
    /// Per-channel minimum (value of byte 0).
    pub channel_min: Vec<f32>,
    /// Per-channel maximum (value of byte 255).
    pub channel_max: Vec<f32>,
    /// Per-channel mean activation (for ranking).
    pub channel_mean: Vec<f32>,
}

impl StageMaps {
    /// Quantizes the first image of a `[N, C, H, W]` tensor.
    pub fn of(name: &str, value: &Tensor) -> Result<Self> {
        let (_, c, h, w) = value.dims4()?;
        with_values(value, |all: &[f32]| {
            Ok(Self::quantized(name, &all[..c * h * w], [c, h, w]))
        })
    }

    /// `values` (`[C, H, W]`) as 8-bit maps.
    fn quantized(name: &str, values: &[f32], [c, h, w]: [usize; 3]) -> Self {
        let mut data = Vec::with_capacity(values.len());
        let (mut channel_min, mut channel_max, mut channel_mean) = (
            Vec::with_capacity(c),
            Vec::with_capacity(c),
            Vec::with_capacity(c),
        );
        for ch in values.chunks_exact(h * w) {
            let lo = ch.iter().copied().fold(f32::INFINITY, f32::min);
            let hi = ch.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let scale = if hi > lo { 255.0 / (hi - lo) } else { 0.0 };
            data.extend(ch.iter().map(|v| ((v - lo) * scale).round() as u8));
            channel_min.push(lo);
            channel_max.push(hi);
            channel_mean.push(ch.iter().map(|v| *v as f64).sum::<f64>() as f32 / ch.len() as f32);
        }
        Self {
            name: name.to_string(),
            channels: c,
            height: h,
            width: w,
            data,
            channel_min,
            channel_max,
            channel_mean,
        }
    }

    /// The bytes of channel `c`.
    pub fn channel(&self, c: usize) -> &[u8] {
        let n = self.height * self.width;
        &self.data[c * n..(c + 1) * n]
    }

    /// The activation value that byte `q` of channel `c` stands for.
    pub fn value(&self, c: usize, q: u8) -> f32 {
        self.channel_min[c] + q as f32 / 255.0 * (self.channel_max[c] - self.channel_min[c])
    }

    /// Channel indices, by descending mean activation (`total_cmp`, ties by index) or by index.
    pub fn order(&self, by_activation: bool) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.channels).collect();
        if by_activation {
            order.sort_by(|&a, &b| {
                self.channel_mean[b]
                    .total_cmp(&self.channel_mean[a])
                    .then(a.cmp(&b))
            });
        }
        order
    }

    /// Channel `c` requantized between the stage-wide min and max (normalization per stage).
    pub fn channel_per_stage(&self, c: usize) -> Vec<u8> {
        let lo = self
            .channel_min
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min);
        let hi = self
            .channel_max
            .iter()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        let scale = if hi > lo { 255.0 / (hi - lo) } else { 0.0 };
        self.channel(c)
            .iter()
            .map(|&q| ((self.value(c, q) - lo) * scale).round().clamp(0.0, 255.0) as u8)
            .collect()
    }

    /// The mean over channels as one map, quantized between its own min and max.
    pub fn mean_map(&self) -> Vec<u8> {
        let n = self.height * self.width;
        let mut acc = vec![0f32; n];
        for c in 0..self.channels {
            for (a, &q) in acc.iter_mut().zip(self.channel(c)) {
                *a += self.value(c, q);
            }
        }
        quantize(&acc)
    }
}

/// Quantizes values between their own min and max to bytes.
pub fn quantize(values: &[f32]) -> Vec<u8> {
    let lo = values.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let scale = if hi > lo { 255.0 / (hi - lo) } else { 0.0 };
    values
        .iter()
        .map(|v| ((v - lo) * scale).round() as u8)
        .collect()
}

/// What one residual block did to its input, for the residual view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockView {
    /// torchvision path, e.g. `layer2.0`.
    pub name: String,
    /// True for a convolutional block (projection shortcut), false for an identity block.
    pub convolutional: bool,
    /// Output shape `[C, H, W]`.
    pub shape: Vec<usize>,
    /// ‖x‖₂ of the shortcut path (x or its projection); 0 when the skip is off.
    pub shortcut_norm: f32,
    /// ‖F(x)‖₂ of the residual branch.
    pub residual_norm: f32,
    /// ‖ReLU(x + F(x))‖₂ of the block output.
    pub output_norm: f32,
    /// Channel-mean maps of the shortcut, F(x) and the output, each quantized on its own.
    pub maps: [Vec<u8>; 3],
    /// Side of the maps.
    pub side: usize,
}

impl BlockView {
    /// Summarizes a block tap (first image of the batch).
    pub fn of(
        name: &str,
        convolutional: bool,
        shortcut: Option<&Tensor>,
        residual: &Tensor,
        output: &Tensor,
    ) -> Result<Self> {
        let norm = first_image_norm;
        let mean_map = |t: &Tensor| -> Result<Vec<u8>> {
            Ok(quantize(
                &t.get(0)?.mean(0)?.flatten_all()?.to_vec1::<f32>()?,
            ))
        };
        let (_, c, h, w) = output.dims4()?;
        let (shortcut_norm, shortcut_map) = match shortcut {
            Some(s) => (norm(s)?, mean_map(s)?),
            None => (0.0, vec![0; h * w]),
        };
        Ok(Self {
            name: name.to_string(),
            convolutional,
            shape: vec![c, h, w],
            shortcut_norm,
            residual_norm: norm(residual)?,
            output_norm: norm(output)?,
            maps: [shortcut_map, mean_map(residual)?, mean_map(output)?],
            side: h,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn maps_keep_true_values_and_rank_channels() {
        let v: Vec<f32> = vec![
            0.0, 1.0, 2.0, 3.0, /* ch1 */ 5.0, 5.0, 5.0, 5.0, /* ch2 */ -1.0, 0.0, 9.0,
            1.0,
        ];
        let t = Tensor::from_vec(v, (1, 3, 2, 2), &Device::Cpu).unwrap();
        let m = StageMaps::of("stage1", &t).unwrap();
        assert_eq!(m.channel(0), &[0, 85, 170, 255]);
        assert_eq!(m.channel(1), &[0, 0, 0, 0]);
        assert!((m.value(2, 255) - 9.0).abs() < 1e-6);
        assert_eq!(m.order(true), vec![1, 2, 0]);
        assert_eq!(m.order(false), vec![0, 1, 2]);
        assert_eq!(m.channel_per_stage(2), vec![0, 26, 255, 51]);
    }
}
