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

/// Every kind of broken file, small enough for the fuzzers to start from: each is refused with
/// the message that names its problem by the reader the page and the CLI use (the header first,
/// each tensor read on its own), refused by the whole-file reader too, and written to the
/// weights fuzzer's regression corpus.
#[test]
fn every_kind_of_broken_file_is_refused_by_both_readers_and_joins_the_fuzz_corpus() {
    let one = |dtype: Dtype, shape: Vec<usize>, bytes: Vec<u8>| {
        file(&[("conv1.weight", dtype, shape, bytes)])
    };
    let small = one(Dtype::F32, vec![2], vec![0; 8]);
    let with_prefix = |n: u64, rest: &[u8]| [&n.to_le_bytes()[..], rest].concat();
    // The header's text edited in place (same length, so the length prefix stays true).
    let replaced = |bytes: &[u8], from: &str, to: &str| {
        let at = bytes
            .windows(from.len())
            .position(|w| w == from.as_bytes())
            .unwrap();
        [&bytes[..at], to.as_bytes(), &bytes[at + from.len()..]].concat()
    };
    let two = file(&[
        ("conv1.weight", Dtype::F32, vec![2], vec![0; 8]),
        ("bn1.weight", Dtype::F32, vec![2], vec![0; 8]),
    ]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "shorter than a safetensors header"),
        ("truncated", small[..small.len() - 3].to_vec(), "truncated"),
        (
            "header-longer-than-file",
            with_prefix(small.len() as u64, &small[8..]),
            "header claims to be longer than the file",
        ),
        (
            "header-over-100mb",
            with_prefix(200_000_000, b"{}"),
            "larger than 100 MB",
        ),
        ("header-not-json", with_prefix(4, b"null"), "does not parse"),
        (
            "offsets-out-of-range",
            replaced(&small, "[0,8]", "[0,9]"),
            "does not parse",
        ),
        (
            "offsets-overlapping",
            replaced(&two, "[8,16]", "[4,12]"),
            "does not parse",
        ),
        (
            "padded",
            [small.clone(), vec![0; 4]].concat(),
            "does not match the header's offsets",
        ),
        (
            "missing-tensor",
            small.clone(),
            "missing tensor `fc.weight`",
        ),
        (
            "wrong-dtype",
            one(Dtype::I32, vec![1], vec![0; 4]),
            "missing tensor",
        ),
        (
            "unknown-naming",
            file(&[("encoder.weight", Dtype::F32, vec![1], vec![0; 4])]),
            "unrecognised checkpoint naming",
        ),
        (
            "nan",
            one(Dtype::F32, vec![1], f32::NAN.to_le_bytes().to_vec()),
            "missing tensor",
        ),
    ];
    for (name, bytes, expected) in &cases {
        let stored = Engine::checked_stored(std::rc::Rc::new(bytes.clone()), name)
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"))
            .to_string();
        assert!(stored.contains(expected), "{name}: {stored}");
        assert!(
            Engine::checked_weights(bytes, name).is_err(),
            "{name}: the whole-file reader accepted it"
        );
        common::add_to_fuzz_corpus("weights", &format!("{name}.safetensors"), bytes);
    }
}

/// A whole checkpoint with one bad value, read one tensor at a time: refused by the tensor's
/// name before anything is built.
#[test]
fn a_non_finite_value_in_a_whole_checkpoint_is_found_by_the_stored_reader() {
    let shapes = resnet_lab::weights::Weights::seeded(
        Init::new(InitKind::He, 0),
        &ResNetConfig::resnet50(1000),
    )
    .shapes();
    let tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = shapes
        .into_iter()
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            let mut bytes = vec![0u8; n * 4];
            if name == "layer2.1.bn2.running_var" {
                bytes[4..8].copy_from_slice(&f32::INFINITY.to_le_bytes());
            }
            (name, Dtype::F32, shape, bytes)
        })
        .collect();
    let views: Vec<_> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let bytes = safetensors::serialize(views, None).unwrap();
    let err = Engine::checked_stored(std::rc::Rc::new(bytes), "t")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`layer2.1.bn2.running_var` contains 1 NaN or infinite"),
        "{err}"
    );
}
