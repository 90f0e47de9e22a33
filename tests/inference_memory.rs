//! The network the engine keeps for the CPU holds each weight once, in its prepared form: the
//! candle convolutions of the folded network keep only their shape, and it computes exactly what
//! the folded network with its convolutions computes. The GPU gets its own folded network, built
//! from the same weights when it uploads, and refuses the lean one.
#![cfg(not(target_arch = "wasm32"))]

use candle_core::{Device, Storage, Tensor};
use resnet_lab::config::ResNetConfig;
use resnet_lab::engine::Engine;
use resnet_lab::model::ResNet;
use resnet_lab::weights::{Init, InitKind};

/// Values the tensor's storage holds (a broadcast view holds fewer than its shape says).
fn stored(t: &Tensor) -> usize {
    let (storage, _) = t.storage_and_layout();
    match &*storage {
        Storage::Cpu(cpu) => cpu
            .as_slice::<f32>()
            .map(<[f32]>::len)
            .unwrap_or(usize::MAX),
        _ => usize::MAX,
    }
}

fn convs(net: &ResNet) -> Vec<&candle_nn::Conv2d> {
    let mut all = vec![&net.stem.conv1];
    for b in net.blocks() {
        all.extend([&b.conv1, &b.conv2, &b.conv3]);
        all.extend(b.downsample.as_ref().map(|d| &d.conv));
    }
    all
}

#[test]
fn the_engine_keeps_each_convolution_weight_once() {
    let engine = Engine::with_init(Init::new(InitKind::He, 0)).unwrap();
    let lean = engine.inference();
    assert!(lean.is_lean() && lean.is_folded());
    let all = convs(lean);
    assert_eq!(all.len(), 53);
    for conv in all {
        assert_eq!(
            stored(conv.weight()),
            1,
            "a convolution keeps its values: {:?}",
            conv.weight().dims()
        );
        assert!(conv.bias().is_none());
    }
    // The GPU's network is folded apart, with every value.
    let full = engine.gpu_network().unwrap();
    assert!(!full.is_lean());
    assert!(convs(&full)
        .iter()
        .all(|c| stored(c.weight()) == c.weight().elem_count()));
    // It is only uploaded: no fast form is prepared for it.
    assert!(full
        .blocks()
        .all(|b| (0..4).all(|i| b.fast_conv(i).is_none())));
}

#[test]
fn the_lean_network_computes_what_the_folded_one_computes() {
    let config = ResNetConfig {
        input_size: 64,
        ..ResNetConfig::resnet50(1000)
    };
    let weights = Init::new(InitKind::Xavier, 4).weights(&config).unwrap();
    let net = ResNet::new(config, &weights).unwrap();
    let folded = net.fold_batch_norm().unwrap();
    let lean = net.for_inference().unwrap();
    let x = Tensor::randn(0f32, 1.0, (2, 3, 64, 64), &Device::Cpu).unwrap();
    let logits = |net: &ResNet| {
        net.forward(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    };
    let (a, b) = (logits(&folded), logits(&lean));
    assert_eq!(a, b);
}

#[cfg(feature = "webgpu")]
#[test]
fn a_lean_network_is_not_uploaded() {
    use resnet_lab::gpu::{context::block_on, GpuContext, GpuResNet};
    let Ok(ctx) = block_on(GpuContext::new()) else {
        eprintln!("SKIPPED: no GPU adapter (the upload check needs one)");
        assert!(
            std::env::var_os("RESNET_LAB_REQUIRE_GPU").is_none(),
            "no GPU adapter"
        );
        return;
    };
    let engine = Engine::with_init(Init::new(InitKind::He, 0)).unwrap();
    let err = GpuResNet::new(ctx, engine.inference())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("lean"), "{err}");
}
