//! The values of a tensor as a plain slice, for the kernels, without a copy where possible.

use candle_core::{CpuStorage, Layout, Storage, Tensor, WithDType};

/// Calls `f` with the values of `x` as one contiguous slice of `T`: borrowed from the tensor's
/// storage when it is a contiguous CPU tensor of that dtype (every activation of the inference
/// network), copied otherwise. Generic over the error type, so that a candle custom op (which
/// answers `candle_core::Result`) and the crate's own code (`crate::Result`) both call it.
pub fn with_values<T: WithDType, R, E: From<candle_core::Error>>(
    x: &Tensor,
    f: impl FnOnce(&[T]) -> std::result::Result<R, E>,
) -> std::result::Result<R, E> {
    {
        let (storage, layout) = x.storage_and_layout();
        if let (Storage::Cpu(cpu), Some((start, end))) = (&*storage, layout.contiguous_offsets()) {
            if let Ok(all) = cpu.as_slice::<T>() {
                if let Some(values) = all.get(start..end) {
                    return f(values);
                }
            }
        }
    }
    let copy = x.flatten_all()?.to_vec1::<T>()?;
    f(&copy)
}

/// The values a custom op's contiguous input holds, as a slice of `T`.
pub(crate) fn stored<'a, T: WithDType>(
    storage: &'a CpuStorage,
    layout: &Layout,
) -> candle_core::Result<&'a [T]> {
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("a custom op's input is not contiguous".into()))?;
    Ok(&storage.as_slice::<T>()?[start..end])
}

/// Σ v², accumulated in f64 in eight running sums (so that the loop vectorizes; a filter
/// gradient holds up to 2.4 M values).
pub fn sum_of_squares<T: WithDType>(v: &[T]) -> f64 {
    let mut lanes = [0f64; 8];
    let chunks = v.chunks_exact(8);
    let rest: f64 = chunks.remainder().iter().map(|x| x.to_f64().powi(2)).sum();
    for chunk in chunks {
        for (lane, x) in lanes.iter_mut().zip(chunk) {
            *lane += x.to_f64() * x.to_f64();
        }
    }
    lanes.iter().sum::<f64>() + rest
}
