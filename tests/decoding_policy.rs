//! One decoding policy for page and CLI (see `resnet_lab::image`), checked against PIL's
//! pixels (tests/fixtures/decoding/, written by tests/reference/make_fixtures.py): EXIF
//! orientation applied, transparency over white, colour profiles ignored. The page's side is
//! in tests/e2e/test_app.py (the same files uploaded).
#![cfg(not(target_arch = "wasm32"))]

use resnet_lab::image::RgbImage;

fn decode(name: &str) -> RgbImage {
    let path = format!(
        "{}/tests/fixtures/decoding/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    RgbImage::decode(&std::fs::read(path).unwrap()).unwrap()
}

/// (largest, mean) per-channel difference; panics when the sizes differ.
fn difference(a: &RgbImage, b: &RgbImage, what: &str) -> (u8, f64) {
    assert_eq!((a.width, a.height), (b.width, b.height), "{what}: size");
    let diffs: Vec<u8> = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| x.abs_diff(*y))
        .collect();
    let largest = *diffs.iter().max().unwrap();
    let mean = diffs.iter().map(|d| *d as f64).sum::<f64>() / diffs.len() as f64;
    eprintln!("{what}: largest difference from PIL {largest}/255, mean {mean:.3}");
    (largest, mean)
}

#[test]
fn exif_orientation_is_applied_as_pil_does() {
    let ours = decode("exif6.jpg");
    let pil = decode("exif6_upright.png");
    // Stored 150×225 and rotated by its EXIF tag: shown 225×150.
    let (largest, mean) = difference(&ours, &pil, "EXIF orientation 6");
    // The `image` crate's JPEG decoder and PIL's libjpeg-turbo round differently.
    assert!(largest <= 6 && mean < 0.5, "{largest} {mean}");
}

#[test]
fn transparency_is_composited_over_white() {
    let ours = decode("alpha.png");
    let pil = decode("alpha_over_white.png");
    let (largest, _) = difference(&ours, &pil, "alpha over white");
    assert!(largest <= 1, "{largest}");
    // The fully transparent column is white, whatever colour lies under it.
    assert_eq!(&ours.data[..3], &[255, 255, 255]);
}

#[test]
fn a_gamma_chunk_changes_nothing() {
    let (largest, _) = difference(&decode("gamma1.png"), &decode("plain.png"), "gAMA 1.0");
    assert_eq!(largest, 0);
}
