//! The network as the tutorial's stage table: every row with its shapes, parameters and
//! multiply-adds, computed from the configuration (nothing hard-coded).

use serde::{Deserialize, Serialize};

use crate::config::{
    Head, ResNetConfig, Variant, BLOCKS_PER_STAGE, EXPANSION, STAGE_WIDTHS, STEM_CHANNELS,
};

/// A shape as `256×56×56`.
pub fn format_shape(shape: &[usize]) -> String {
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("×")
}

/// What kind of row of the stage table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowKind {
    /// Zero padding 3 around the input.
    ZeroPadding,
    /// Conv 7×7/2 + batch norm + ReLU + max-pool 3×3/2.
    Stem,
    /// A bottleneck with a projection shortcut (the tutorial's convolutional block).
    ConvolutionalBlock,
    /// A bottleneck with an identity shortcut (the tutorial's identity block).
    IdentityBlock,
    /// Global average pooling (or the tutorial's AvgPool 2×2).
    AveragePool,
    /// Flatten to a vector.
    Flatten,
    /// Fully connected + softmax.
    FullyConnected,
}

/// One row: a layer or block with the tensor shapes around it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Tutorial stage 1..=5, or 0 before the stem and 6 for the head.
    pub stage: usize,
    /// torchvision path (`conv1`, `layer2.0`, `fc`) or a descriptive name.
    pub name: String,
    /// Kind.
    pub kind: RowKind,
    /// Input shape `[C, H, W]` (or `[F]`).
    pub input: Vec<usize>,
    /// Output shape.
    pub output: Vec<usize>,
    /// Learned parameters (batch-norm γ, β included; running statistics not).
    pub params: usize,
    /// Multiply-adds for one image.
    pub macs: usize,
}

fn conv_cost(c_in: usize, c_out: usize, k: usize, out_side: usize) -> (usize, usize) {
    (
        c_out * c_in * k * k + 2 * c_out,
        c_out * c_in * k * k * out_side * out_side,
    )
}

/// The stage table for `config`.
pub fn stage_table(config: &ResNetConfig) -> Vec<Row> {
    let s = config.input_size;
    let sides = config.stage_sides();
    let mut rows = vec![Row {
        stage: 0,
        name: "zero padding".into(),
        kind: RowKind::ZeroPadding,
        input: vec![3, s, s],
        output: vec![3, s + 6, s + 6],
        params: 0,
        macs: 0,
    }];
    let (p, m) = conv_cost(3, STEM_CHANNELS, 7, sides[0]);
    let pooled = (sides[0] - 1) / 2 + 1;
    rows.push(Row {
        stage: 1,
        name: "conv1".into(),
        kind: RowKind::Stem,
        input: vec![3, s + 6, s + 6],
        output: vec![STEM_CHANNELS, pooled, pooled],
        params: p,
        macs: m,
    });
    let (mut c_in, mut side) = (STEM_CHANNELS, pooled);
    for (i, (&count, &width)) in BLOCKS_PER_STAGE.iter().zip(&STAGE_WIDTHS).enumerate() {
        let c_out = width * EXPANSION;
        for b in 0..count {
            let stride = if i > 0 && b == 0 { 2 } else { 1 };
            let out_side = (side - 1) / stride + 1;
            let side1 = match config.variant {
                Variant::V1 => out_side,
                Variant::V1_5 => side,
            };
            let costs = [
                conv_cost(c_in, width, 1, side1),
                conv_cost(width, width, 3, out_side),
                conv_cost(width, c_out, 1, out_side),
            ];
            let mut params: usize = costs.iter().map(|c| c.0).sum();
            let mut macs: usize = costs.iter().map(|c| c.1).sum();
            if b == 0 {
                let (p, m) = conv_cost(c_in, c_out, 1, out_side);
                params += p;
                macs += m;
            }
            rows.push(Row {
                stage: i + 2,
                name: format!("layer{}.{b}", i + 1),
                kind: if b == 0 {
                    RowKind::ConvolutionalBlock
                } else {
                    RowKind::IdentityBlock
                },
                input: vec![c_in, side, side],
                output: vec![c_out, out_side, out_side],
                params,
                macs,
            });
            c_in = c_out;
            side = out_side;
        }
    }
    let (pool_out, features) = match config.head {
        Head::GlobalAvgPool => (vec![c_in, 1, 1], c_in),
        Head::AvgPool2x2Flatten => (vec![c_in, side / 2, side / 2], config.fc_inputs()),
    };
    rows.push(Row {
        stage: 6,
        name: "avgpool".into(),
        kind: RowKind::AveragePool,
        input: vec![c_in, side, side],
        output: pool_out.clone(),
        params: 0,
        macs: 0,
    });
    rows.push(Row {
        stage: 6,
        name: "flatten".into(),
        kind: RowKind::Flatten,
        input: pool_out,
        output: vec![features],
        params: 0,
        macs: 0,
    });
    rows.push(Row {
        stage: 6,
        name: "fc".into(),
        kind: RowKind::FullyConnected,
        input: vec![features],
        output: vec![config.classes],
        params: features * config.classes + config.classes,
        macs: features * config.classes,
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_resnet50s() {
        let rows = stage_table(&ResNetConfig::resnet50(1000));
        let params: usize = rows.iter().map(|r| r.params).sum();
        let macs: usize = rows.iter().map(|r| r.macs).sum();
        assert_eq!(params, 25_557_032);
        assert!((4.08e9..4.13e9).contains(&(macs as f64)), "{macs}");
        assert_eq!(
            rows.iter()
                .filter(|r| r.kind == RowKind::ConvolutionalBlock)
                .count(),
            4
        );
        assert_eq!(
            rows.iter()
                .filter(|r| r.kind == RowKind::IdentityBlock)
                .count(),
            12
        );
        let last_block = rows
            .iter()
            .rfind(|r| r.kind == RowKind::IdentityBlock)
            .unwrap();
        assert_eq!(last_block.output, vec![2048, 7, 7]);
    }

    #[test]
    fn tutorial_head_flattens_a_pooled_map() {
        let rows = stage_table(&ResNetConfig::tutorial(6));
        let fc = rows.last().unwrap();
        assert_eq!(fc.input, vec![2048]);
        assert_eq!(fc.output, vec![6]);
        assert_eq!(rows[1].output, vec![64, 16, 16]);
    }
}
