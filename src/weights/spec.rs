//! Every parameter tensor ResNet-50 needs, in torchvision naming and network order.

use crate::config::{ResNetConfig, BLOCKS_PER_STAGE, EXPANSION, STAGE_WIDTHS, STEM_CHANNELS};

/// What a parameter tensor is for (decides how it is initialized).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A convolution kernel `[out, in, k, k]`.
    ConvWeight,
    /// Batch-norm scale γ.
    BnWeight,
    /// Batch-norm shift β.
    BnBias,
    /// Batch-norm running mean.
    BnMean,
    /// Batch-norm running variance.
    BnVar,
    /// Classifier weight `[classes, features]`.
    FcWeight,
    /// Classifier bias.
    FcBias,
}

/// One expected tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    /// torchvision state-dict key.
    pub name: String,
    /// Expected shape.
    pub shape: Vec<usize>,
    /// What it is.
    pub role: Role,
}

fn push_conv_bn(out: &mut Vec<ParamSpec>, conv: &str, bn: &str, shape: [usize; 4]) {
    out.push(ParamSpec {
        name: format!("{conv}.weight"),
        shape: shape.to_vec(),
        role: Role::ConvWeight,
    });
    for (suffix, role) in [
        ("weight", Role::BnWeight),
        ("bias", Role::BnBias),
        ("running_mean", Role::BnMean),
        ("running_var", Role::BnVar),
    ] {
        out.push(ParamSpec {
            name: format!("{bn}.{suffix}"),
            shape: vec![shape[0]],
            role,
        });
    }
}

/// All parameters of the network described by `config`, in network order.
pub fn parameter_specs(config: &ResNetConfig) -> Vec<ParamSpec> {
    let mut out = Vec::with_capacity(320);
    push_conv_bn(&mut out, "conv1", "bn1", [STEM_CHANNELS, 3, 7, 7]);
    let mut in_ch = STEM_CHANNELS;
    for (s, (&count, &width)) in BLOCKS_PER_STAGE.iter().zip(&STAGE_WIDTHS).enumerate() {
        let out_ch = width * EXPANSION;
        for b in 0..count {
            let p = format!("layer{}.{b}", s + 1);
            push_conv_bn(
                &mut out,
                &format!("{p}.conv1"),
                &format!("{p}.bn1"),
                [width, in_ch, 1, 1],
            );
            push_conv_bn(
                &mut out,
                &format!("{p}.conv2"),
                &format!("{p}.bn2"),
                [width, width, 3, 3],
            );
            push_conv_bn(
                &mut out,
                &format!("{p}.conv3"),
                &format!("{p}.bn3"),
                [out_ch, width, 1, 1],
            );
            if b == 0 {
                push_conv_bn(
                    &mut out,
                    &format!("{p}.downsample.0"),
                    &format!("{p}.downsample.1"),
                    [out_ch, in_ch, 1, 1],
                );
            }
            in_ch = out_ch;
        }
    }
    out.push(ParamSpec {
        name: "fc.weight".into(),
        shape: vec![config.classes, config.fc_inputs()],
        role: Role::FcWeight,
    });
    out.push(ParamSpec {
        name: "fc.bias".into(),
        shape: vec![config.classes],
        role: Role::FcBias,
    });
    out
}

/// Names of the convolution weights and `fc.weight` in network order (the gradient-flow layers).
pub fn weight_layer_names(config: &ResNetConfig) -> Vec<String> {
    parameter_specs(config)
        .into_iter()
        .filter(|p| matches!(p.role, Role::ConvWeight | Role::FcWeight))
        .map(|p| p.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resnet50_has_25_6_million_parameters() {
        let specs = parameter_specs(&ResNetConfig::resnet50(1000));
        let learned: usize = specs
            .iter()
            .filter(|p| !matches!(p.role, Role::BnMean | Role::BnVar))
            .map(|p| p.shape.iter().product::<usize>())
            .sum();
        assert_eq!(learned, 25_557_032);
        assert_eq!(specs.len(), 5 * 53 + 2);
    }

    #[test]
    fn gradient_layers_are_53_convolutions_and_the_classifier() {
        let names = weight_layer_names(&ResNetConfig::resnet50(1000));
        assert_eq!(names.len(), 54);
        assert_eq!(names[0], "conv1.weight");
        assert_eq!(names[4], "layer1.0.downsample.0.weight");
        assert_eq!(names[53], "fc.weight");
    }
}
