//! Image bytes → decode → preprocessing: any input is an error or a tensor, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use resnet_lab::image::{preprocess, RgbImage};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(image) = RgbImage::decode(bytes) {
        let _ = preprocess(&image, 224);
    }
});
