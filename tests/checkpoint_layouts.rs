//! Files laid out exactly as the real checkpoints are (microsoft/resnet-50 for transformers, and
//! timm's resnet50, whose names are torchvision's) load and give PyTorch's logits.
//!
//! The layouts (name, dtype, shape, in file order) are in tests/fixtures/weight-manifests/,
//! written by tests/reference/make_fixtures.py from the real checkpoints' manifests, with a
//! `holds` column: the torchvision tensor each one holds, written in Python independently of
//! `src/weights/naming.rs` and checked there by transformers' and timm's own models (loaded with
//! the fixture weights, both give torchvision's logits exactly). So a wrong mapping in our loader
//! fails here; it cannot hide behind its own inverse, as a round trip through our exporter could.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_logits_close, case, case_weights, numbers, pattern_input};
use resnet_lab::engine::{Engine, PredictOptions};
use resnet_lab::weights::Naming;
use safetensors::tensor::TensorView;
use safetensors::Dtype;

/// One row of a layout fixture.
struct Row {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    holds: String,
}

fn layout(file: &str) -> Vec<Row> {
    let path = format!(
        "{}/tests/fixtures/weight-manifests/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 4, "{file}: {line}");
            let dtype = match cols[1] {
                "float32" => Dtype::F32,
                "int64" => Dtype::I64,
                other => panic!("{file}: dtype {other}"),
            };
            let shape = cols[2]
                .split('x')
                .filter(|d| !d.is_empty())
                .map(|d| d.parse().unwrap())
                .collect();
            Row {
                name: cols[0].into(),
                dtype,
                shape,
                holds: cols[3].into(),
            }
        })
        .collect()
}

/// A safetensors file with exactly the tensors of `rows`, filled from the fixture weights.
fn file_like(rows: &[Row]) -> Vec<u8> {
    let weights = case_weights(&case("predict.json", "v1_5_eval"));
    let data: Vec<Vec<u8>> = rows
        .iter()
        .map(|row| match row.dtype {
            Dtype::I64 => 0i64.to_le_bytes().to_vec(),
            _ => {
                let t = weights.get(&row.holds).unwrap();
                assert_eq!(
                    t.dims(),
                    row.shape.as_slice(),
                    "{} ← {}",
                    row.name,
                    row.holds
                );
                let values = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                values.iter().flat_map(|v| v.to_le_bytes()).collect()
            }
        })
        .collect();
    let views: Vec<_> = rows
        .iter()
        .zip(&data)
        .map(|(row, bytes)| {
            let view = TensorView::new(row.dtype, row.shape.clone(), bytes).unwrap();
            (row.name.clone(), view)
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

fn loads_and_matches_pytorch(file: &str, naming: Naming) {
    let rows = layout(file);
    let bytes = file_like(&rows);
    // The file is what the manifest says, tensor for tensor.
    let parsed = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(parsed.len(), rows.len());
    for row in &rows {
        let t = parsed.tensor(&row.name).unwrap();
        assert_eq!((t.dtype(), t.shape()), (row.dtype, row.shape.as_slice()));
    }
    let engine = Engine::from_safetensors(&bytes, file).unwrap();
    assert_eq!(engine.weights().info.naming, Some(naming));
    let p = engine
        .predict(&pattern_input(224), &PredictOptions::default(), &mut |_| {
            Ok(())
        })
        .unwrap();
    let expected = case("predict.json", "v1_5_eval");
    assert_logits_close(&p.logits[0], &numbers(&expected["logits"]), 1e-4, file);
}

#[test]
fn a_file_laid_out_as_microsoft_resnet_50_gives_pytorchs_logits() {
    loads_and_matches_pytorch("hf-transformers-resnet50.tsv", Naming::Transformers);
}

#[test]
fn a_file_laid_out_as_timm_resnet50_gives_pytorchs_logits() {
    loads_and_matches_pytorch("torchvision-timm-resnet50.tsv", Naming::Torchvision);
}
