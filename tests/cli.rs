//! The `resnet-lab` command line keeps its JSON contract (see DESIGN.md, "CLI — contract").
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

use serde_json::Value;

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_resnet-lab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn predict_json_has_logits_top_and_stages() {
    let (code, out, err) = cli(&[
        "predict",
        "--init",
        "he",
        "--seed",
        "0",
        "--image",
        "static/samples/cat.jpg",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["logits"][0].as_array().unwrap().len(), 1000);
    let top = v["top"].as_array().unwrap();
    assert_eq!(top.len(), 5);
    assert!(top[0]["class"].is_u64() && top[0]["label"].is_string() && top[0]["prob"].is_f64());
    let names: Vec<&str> = v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["stage1", "stage2", "stage3", "stage4", "stage5", "pool"]
    );
    assert_eq!(v["stages"][1]["shape"], serde_json::json!([1, 256, 56, 56]));
}

/// A file in the build folder, for the CLI to read.
fn temp_file(name: &str, text: &str) -> String {
    let path = format!("{}/cli-{name}", env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn predict_takes_the_checkpoints_preprocessing_and_prints_it() {
    let timm = temp_file(
        "timm-config.json",
        r#"{"architecture": "resnet50", "pretrained_cfg": {"input_size": [3, 224, 224],
            "interpolation": "bicubic", "crop_pct": 0.95, "crop_mode": "center",
            "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}}"#,
    );
    let run = |extra: &[&str]| {
        let mut args = vec!["predict", "--image", "static/samples/cat.jpg", "--json"];
        args.extend_from_slice(extra);
        let (code, out, err) = cli(&args);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let default = run(&[]);
    assert_eq!(default["preprocess"]["interpolation"], "bilinear");
    assert_eq!(default["preprocess"]["resize"], 256);
    let with_timm = run(&["--preprocess", &timm]);
    let recipe = &with_timm["preprocess"];
    assert_eq!(
        (recipe["interpolation"].as_str(), recipe["resize"].as_u64()),
        (Some("bicubic"), Some(235))
    );
    assert_ne!(
        with_timm["logits"], default["logits"],
        "the recipe must change the input"
    );
    // Its own JSON reads back as the same recipe.
    let again = temp_file("recipe.json", &recipe.to_string());
    assert_eq!(
        run(&["--preprocess", &again])["logits"],
        with_timm["logits"]
    );

    let bad = temp_file(
        "bad.json",
        r#"{"pretrained_cfg": {"input_size": [3, 224, 224], "crop_pct": 2}}"#,
    );
    let (code, out, err) = cli(&[
        "predict",
        "--image",
        "static/samples/cat.jpg",
        "--preprocess",
        &bad,
    ]);
    assert_ne!(code, 0);
    assert!(
        out.is_empty() && err.contains("crop_pct") && err.contains("bad.json"),
        "{err}"
    );
}

#[test]
fn grads_json_lists_every_layer_with_null_for_unused_shortcuts() {
    let (code, out, err) = cli(&[
        "grads",
        "--init",
        "xavier",
        "--seed",
        "0",
        "--bn",
        "off",
        "--image",
        "static/samples/cat.jpg",
        "--target",
        "281",
        "--size",
        "64",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 54);
    assert_eq!(layers[0]["name"], "conv1.weight");
    assert!(layers[4]["plain"].is_null(), "{}", layers[4]);
    assert!(layers[0]["plain"].as_f64().unwrap() < layers[0]["skip"].as_f64().unwrap());
    assert_eq!(v["blocks"].as_array().unwrap().len(), 16);
    assert!(v["loss"]["skip"].is_f64() && v["loss"]["plain"].is_f64());
}

/// `args` stop with exit code 2 and a message containing `words`.
fn assert_bad_input(args: &[&str], words: &str) {
    let (code, _, err) = cli(args);
    assert_eq!(code, 2, "{args:?}");
    assert!(err.contains(words), "{err}");
}

#[test]
fn bad_input_exits_with_2_and_a_message() {
    let cat = "static/samples/cat.jpg";
    assert_bad_input(
        &["predict", "--image", "Cargo.toml"],
        "not a readable image",
    );
    let bn = ["grads", "--image", cat, "--bn", "sideways", "--target", "1"];
    assert_bad_input(&bn, "batch norm mode `sideways`");
    let weights = [
        "predict",
        "--weights",
        "/nonexistent.safetensors",
        "--image",
        cat,
    ];
    assert_bad_input(&weights, "/nonexistent.safetensors");
    // The image is read first: a missing one is named before any weights are touched.
    let both = [
        "predict",
        "--weights",
        "/nonexistent.safetensors",
        "--image",
        "x",
    ];
    assert_bad_input(&both, "x: No such file");
}

#[test]
fn export_init_writes_a_loadable_torchvision_checkpoint() {
    let path = std::env::temp_dir().join("resnet-lab-cli-export.safetensors");
    let (code, _, err) = cli(&[
        "export-init",
        "--init",
        "xavier",
        "--seed",
        "5",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = cli(&[
        "predict",
        "--weights",
        path.to_str().unwrap(),
        "--image",
        "static/samples/coffee.jpg",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"top\""));
    let _ = std::fs::remove_file(path);
}

/// A bad command line is an error with exit code 2 and a usage line, never a silent default:
/// a misspelt flag, a missing value, a missing required option, conflicting weights options,
/// both inputs, an unknown command.
#[test]
fn command_line_errors_exit_with_2_and_a_usage_line() {
    let image = "static/samples/cat.jpg";
    let cases: [&[&str]; 7] = [
        &["predict", "--bogusflag", "x", "--image", image],
        &["predict", "--wieghts", "w.safetensors", "--image", image],
        &["predict", "--image"],
        &["grads", "--image", image, "--bn", "off"],
        &[
            "predict",
            "--weights",
            "w.safetensors",
            "--init",
            "he",
            "--image",
            image,
        ],
        &["predict", "--image", image, "--input", "x.safetensors"],
        &["classify", "--image", image],
    ];
    for args in cases {
        let (code, out, err) = cli(args);
        assert_eq!(code, 2, "{args:?}: exit {code}\n{err}");
        assert!(out.is_empty(), "{args:?} printed to stdout: {out}");
        assert!(
            err.contains("Usage: resnet-lab"),
            "{args:?}: no usage line in\n{err}"
        );
    }
    let (code, _, err) = cli(&[]);
    assert_eq!(code, 2, "no command: {err}");
    let (code, _, err) = cli(&["predict", "--top", "many", "--image", image]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("invalid value 'many' for '--top <K>'"),
        "{err}"
    );
}

#[test]
fn help_and_version_exit_0() {
    let (code, out, _) = cli(&["--help"]);
    assert_eq!(code, 0);
    for command in ["predict", "grads", "export-init", "bench"] {
        assert!(
            out.contains(command),
            "--help does not list {command}:\n{out}"
        );
    }
    let (code, out, _) = cli(&["predict", "--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("--weights") && out.contains("--image"),
        "{out}"
    );
    let (code, out, _) = cli(&["--version"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        format!("resnet-lab {}", env!("CARGO_PKG_VERSION"))
    );
}
