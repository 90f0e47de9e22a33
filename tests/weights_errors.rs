//! Every way a weights file can be wrong gives an error that names the problem, never a panic,
//! and the engine keeps its previous weights.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::init_weights;
use resnet_lab::config::ResNetConfig;
use resnet_lab::engine::Engine;
use resnet_lab::weights::export::{to_safetensors, ExportDtype};
use resnet_lab::weights::{load::load_safetensors, Init, InitKind, Naming};
use safetensors::tensor::TensorView;
use safetensors::Dtype;

/// A small, valid-looking file with the given tensors (name, dtype, shape, bytes).
fn file(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views: Vec<_> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize(views, None).unwrap()
}

fn full_file() -> Vec<u8> {
    to_safetensors(
        &init_weights(InitKind::He, 1),
        Naming::Torchvision,
        ExportDtype::F16,
    )
    .unwrap()
}

fn load_error(bytes: &[u8]) -> String {
    let mut engine = Engine::with_weights(init_weights(InitKind::He, 0)).unwrap();
    let before = engine
        .weights()
        .get("fc.bias")
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let err = engine.load_weights(bytes, "test").unwrap_err().to_string();
    let after = engine
        .weights()
        .get("fc.bias")
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_eq!(
        before, after,
        "a failed load must keep the previous weights"
    );
    err
}

/// Rewrites the full file with one tensor changed by `edit` (None removes it).
fn edited(edit: impl Fn(&str, &[usize]) -> Option<(String, Vec<usize>)>) -> Vec<u8> {
    let weights = init_weights(InitKind::He, 1);
    let mut out: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, t) in weights.tensors().unwrap() {
        if let Some((new_name, shape)) = edit(&name, t.dims()) {
            let n: usize = shape.iter().product();
            out.push((new_name, Dtype::F32, shape, vec![0u8; n * 4]));
        }
    }
    let views: Vec<_> = out
        .iter()
        .map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize(views, None).unwrap()
}

#[test]
fn truncated_file_says_truncated() {
    let bytes = full_file();
    let err = load_error(&bytes[..bytes.len() - 1000]);
    assert!(err.contains("truncated"), "{err}");
    let err = load_error(&bytes[..5]);
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn header_that_lies_about_its_length_is_refused() {
    let mut bytes = file(&[("conv1.weight", Dtype::F32, vec![2], vec![0; 8])]);
    let lie = (bytes.len() as u64 + 10).to_le_bytes();
    bytes[..8].copy_from_slice(&lie);
    let err = load_error(&bytes);
    assert!(
        err.contains("header claims to be longer than the file"),
        "{err}"
    );
    let lie = (u64::MAX / 2).to_le_bytes();
    bytes[..8].copy_from_slice(&lie);
    assert!(load_error(&bytes).contains("not a valid safetensors file"));
}

#[test]
fn header_with_bad_offsets_is_refused() {
    let good = file(&[("conv1.weight", Dtype::F32, vec![2], vec![0; 8])]);
    let text = String::from_utf8_lossy(&good).replace("[0,8]", "[4,12]");
    let err = load_error(text.as_bytes());
    assert!(err.contains("not a valid safetensors file"), "{err}");
}

#[test]
fn missing_tensor_is_named_with_its_shape() {
    let bytes = edited(|n, s| (n != "layer3.2.conv2.weight").then(|| (n.to_string(), s.to_vec())));
    let err = load_error(&bytes);
    assert!(
        err.contains("missing tensor `layer3.2.conv2.weight`"),
        "{err}"
    );
    assert!(err.contains("[256, 256, 3, 3]"), "{err}");
}

#[test]
fn mis_shaped_tensor_names_both_shapes() {
    let bytes = edited(|n, s| {
        Some((
            n.to_string(),
            if n == "layer2.0.conv1.weight" {
                vec![128, 64, 1, 1]
            } else {
                s.to_vec()
            },
        ))
    });
    let err = load_error(&bytes);
    assert!(
        err.contains(
            "`layer2.0.conv1.weight` has shape [128, 64, 1, 1], expected [128, 256, 1, 1]"
        ),
        "{err}"
    );
}

#[test]
fn renamed_tensor_is_reported_missing_by_its_expected_name() {
    let bytes = edited(|n, s| {
        Some((
            if n == "layer4.2.bn3.running_var" {
                "layer4.2.bn4.running_var".into()
            } else {
                n.to_string()
            },
            s.to_vec(),
        ))
    });
    let err = load_error(&bytes);
    assert!(
        err.contains("missing tensor `layer4.2.bn3.running_var` (expected shape [2048])"),
        "{err}"
    );
}

#[test]
fn unexpected_tensor_alone_is_reported_as_unexpected() {
    let weights = init_weights(InitKind::He, 1);
    let mut out: Vec<(String, Vec<usize>, Vec<u8>)> = weights
        .tensors()
        .unwrap()
        .into_iter()
        .map(|(n, t)| (n.clone(), t.dims().to_vec(), vec![0u8; t.elem_count() * 4]))
        .collect();
    out.push(("layer1.0.se.weight".into(), vec![4], vec![0u8; 16]));
    let views: Vec<_> = out
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                TensorView::new(Dtype::F32, s.clone(), b).unwrap(),
            )
        })
        .collect();
    let err = load_error(&safetensors::serialize(views, None).unwrap());
    assert!(
        err.contains("unexpected tensor `layer1.0.se.weight` with shape [4]"),
        "{err}"
    );
}

#[test]
fn nan_and_inf_are_refused_by_name() {
    let nan = f32::NAN.to_le_bytes();
    let bytes = file(&[(
        "conv1.weight",
        Dtype::F32,
        vec![2],
        [nan, 1f32.to_le_bytes()].concat(),
    )]);
    let err = load_safetensors(&bytes, "t").unwrap_err().to_string();
    assert!(
        err.contains("`conv1.weight` contains 1 NaN or infinite"),
        "{err}"
    );
    let inf = half::f16::INFINITY.to_le_bytes();
    let bytes = file(&[("conv1.weight", Dtype::F16, vec![1], inf.to_vec())]);
    assert!(load_error(&bytes).contains("NaN or infinite"));
}

#[test]
fn other_dtypes_and_namings_are_refused() {
    let bytes = file(&[("conv1.weight", Dtype::I32, vec![1], vec![0; 4])]);
    assert!(load_error(&bytes).contains("dtype I32"));
    let bytes = file(&[("encoder.weight", Dtype::F32, vec![1], vec![0; 4])]);
    assert!(load_error(&bytes).contains("unrecognised checkpoint naming"));
    assert!(load_error(b"").contains("shorter than a safetensors header"));
    assert!(load_error(b"\x04\0\0\0\0\0\0\0null").contains("not a valid safetensors file"));
}

#[test]
fn bf16_and_missing_num_batches_tracked_load() {
    let weights = Init::new(InitKind::Xavier, 2)
        .weights(&ResNetConfig::resnet50(1000))
        .unwrap();
    let views: Vec<(String, Vec<usize>, Vec<u8>)> = weights
        .tensors()
        .unwrap()
        .into_iter()
        .map(|(n, t)| {
            let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            (
                n.clone(),
                t.dims().to_vec(),
                v.iter()
                    .flat_map(|x| half::bf16::from_f32(*x).to_le_bytes())
                    .collect(),
            )
        })
        .collect();
    let views: Vec<_> = views
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                TensorView::new(Dtype::BF16, s.clone(), b).unwrap(),
            )
        })
        .collect();
    let bytes = safetensors::serialize(views, None).unwrap();
    let mut engine = Engine::with_init(Init::new(InitKind::He, 0)).unwrap();
    let info = engine.load_weights(&bytes, "bf16 file").unwrap();
    assert_eq!(info.dtype, "bf16");
    let got = engine
        .weights()
        .get("layer1.0.conv1.weight")
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let want = weights
        .get("layer1.0.conv1.weight")
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert!(got
        .iter()
        .zip(&want)
        .all(|(a, b)| (a - b).abs() <= b.abs() / 128.0));
}
