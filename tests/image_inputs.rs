//! What a user may bring as an image, natively (the `image` crate decodes): thin strips, huge
//! headers, cut-off files, empty files, things that are not images. Each is refused quickly with
//! a message that names the problem, or gives a result; nothing allocates for a bomb.
#![cfg(not(target_arch = "wasm32"))]

use std::io::Cursor;
use std::time::Instant;

use resnet_lab::image::{jpeg_is_complete, preprocess, RgbImage};
use resnet_lab::Error;

mod common;
use common::add_to_fuzz_corpus;

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG that is only a signature and an IHDR chunk claiming `width`×`height`.
fn header_only_png(width: u32, height: u32) -> Vec<u8> {
    let mut chunk = b"IHDR".to_vec();
    chunk.extend(width.to_be_bytes());
    chunk.extend(height.to_be_bytes());
    chunk.extend([8, 2, 0, 0, 0]); // 8-bit RGB
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(13u32.to_be_bytes());
    out.extend(&chunk);
    out.extend(crc32(&chunk).to_be_bytes());
    out
}

fn cat() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/static/samples/cat.jpg"
    ))
    .unwrap()
}

#[test]
fn a_header_claiming_30000_by_30000_is_refused_before_decoding() {
    let start = Instant::now();
    let err = RgbImage::decode(&header_only_png(30_000, 30_000)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ImageTooLarge {
                width: 30_000,
                height: 30_000
            }
        ),
        "{err}"
    );
    assert!(
        start.elapsed().as_secs_f64() < 1.0,
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn thin_strips_are_refused_with_their_own_message() {
    for (w, h) in [(8192, 1), (1, 8192), (2, 8192)] {
        let start = Instant::now();
        let err = RgbImage::decode(&png(w, h)).unwrap_err();
        assert!(matches!(err, Error::ImageAspect { .. }), "{w}×{h}: {err}");
        assert!(err.to_string().contains("more than 32 times"), "{err}");
        assert!(
            start.elapsed().as_secs_f64() < 1.0,
            "{w}×{h} took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn the_most_elongated_accepted_image_is_predicted_from_its_crop_only() {
    // 32:1, the limit: the resized image would be 8192×256; only the 224×224 crop is computed.
    let img = RgbImage::decode(&png(4096, 128)).unwrap();
    let t = preprocess(&img, 224).unwrap();
    assert_eq!(t.dims(), [1, 3, 224, 224]);
}

#[test]
fn a_cut_off_jpeg_is_an_error_that_says_so() {
    let whole = cat();
    assert!(jpeg_is_complete(&whole));
    assert!(RgbImage::decode(&whole).is_ok());
    for cut in [whole.len() / 3, whole.len() / 2, whole.len() - 2] {
        let part = &whole[..cut];
        assert!(!jpeg_is_complete(part), "cut at {cut}");
        let err = RgbImage::decode(part).unwrap_err();
        assert!(matches!(err, Error::ImageTruncated), "cut at {cut}: {err}");
        assert!(err.to_string().contains("incomplete"), "{err}");
    }
}

#[test]
fn a_cut_off_png_is_an_error() {
    let whole = png(300, 200);
    assert!(RgbImage::decode(&whole).is_ok());
    let err = RgbImage::decode(&whole[..whole.len() / 2]).unwrap_err();
    assert!(err.to_string().contains("not a readable image"), "{err}");
}

#[test]
fn empty_and_non_image_files_are_errors() {
    for bytes in [
        &b""[..],
        b"GIF89a?",
        b"hello, this is text",
        b"\xff\xd8\xff",
    ] {
        let err = RgbImage::decode(bytes).unwrap_err();
        assert!(
            err.to_string().starts_with("image error") || matches!(err, Error::ImageTruncated),
            "{bytes:?}: {err}"
        );
    }
}

/// Every kind of hostile image, generated here: each is refused with its own kind of error and
/// written to the image fuzzer's regression corpus (the 30000² header at once; the strips and
/// the photo cut at a third as they are).
#[test]
fn every_kind_of_hostile_image_is_refused_and_joins_the_fuzz_corpus() {
    let whole = cat();
    type Case = (&'static str, Vec<u8>, fn(&Error) -> bool);
    let cases: Vec<Case> = vec![
        ("thin-8192x1.png", png(8192, 1), |e| {
            matches!(e, Error::ImageAspect { .. })
        }),
        ("tall-1x8192.png", png(1, 8192), |e| {
            matches!(e, Error::ImageAspect { .. })
        }),
        (
            "header-30000x30000.png",
            header_only_png(30_000, 30_000),
            |e| matches!(e, Error::ImageTooLarge { .. }),
        ),
        ("truncated.jpg", whole[..whole.len() / 3].to_vec(), |e| {
            matches!(e, Error::ImageTruncated)
        }),
        ("empty", Vec::new(), |e| matches!(e, Error::Image(_))),
        ("not-an-image.txt", b"hello, this is text".to_vec(), |e| {
            matches!(e, Error::Image(_))
        }),
    ];
    for (name, bytes, expected) in &cases {
        let err = RgbImage::decode(bytes)
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"));
        assert!(expected(&err), "{name}: {err}");
        add_to_fuzz_corpus("image", name, bytes);
    }
}
