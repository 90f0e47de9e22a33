//! The values of a tensor as a plain slice, for the kernels, without a copy where possible.

/// Calls `f` with the values of `x` as one contiguous slice: borrowed from the tensor's storage
/// when it is a contiguous CPU f32 tensor (every activation of the inference network), copied
/// otherwise.
pub fn with_values<R>(
    x: &candle_core::Tensor,
    f: impl FnOnce(&[f32]) -> crate::Result<R>,
) -> crate::Result<R> {
    {
        let (storage, layout) = x.storage_and_layout();
        if let (candle_core::Storage::Cpu(cpu), Some((start, end))) =
            (&*storage, layout.contiguous_offsets())
        {
            if let Ok(all) = cpu.as_slice::<f32>() {
                if let Some(values) = all.get(start..end) {
                    return f(values);
                }
            }
        }
    }
    let copy = x.flatten_all()?.to_vec1::<f32>()?;
    f(&copy)
}
