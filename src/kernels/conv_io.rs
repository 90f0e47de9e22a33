//! The checks every convolution kernel makes on what it is given, before touching a value.

use crate::{Error, Result};

/// `input` holds an `[N, C, H, W]` batch with the `cin` channels the filters expect, and `out`
/// has room for `out_len` values; `kernel` names the kernel in the message.
pub fn check_buffers(
    kernel: &str,
    [n, c, h, w]: [usize; 4],
    cin: usize,
    (input, out): (&[f32], &[f32]),
    out_len: usize,
) -> Result<()> {
    if c != cin {
        return Err(Error::InvalidArgument(format!(
            "{kernel}: {c} input channels, expected {cin}"
        )));
    }
    if input.len() < n * c * h * w || out.len() < out_len {
        return Err(Error::InvalidArgument(format!(
            "{kernel}: buffers of {} and {} values for [{n}, {c}, {h}, {w}]",
            input.len(),
            out.len()
        )));
    }
    Ok(())
}
