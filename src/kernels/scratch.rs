//! One set of temporary buffers per thread, shared by the convolutions of a forward pass.

thread_local! {
    /// Temporary buffers shared by the convolutions of a forward pass (im2col patches, the
    /// Winograd domain): grown to the largest layer once, then reused.
    static SCRATCH: std::cell::RefCell<[Vec<f32>; 2]> = const {
        std::cell::RefCell::new([Vec::new(), Vec::new()])
    };
}

/// Calls `f` with two scratch slices of `lens` elements (contents unspecified), reused across
/// calls on this thread instead of allocated per layer.
pub fn with_scratch<R>(lens: [usize; 2], f: impl FnOnce(&mut [f32], &mut [f32]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut bufs) => {
            let [a, b] = &mut *bufs;
            for (buf, len) in [(&mut *a, lens[0]), (&mut *b, lens[1])] {
                if buf.len() < len {
                    buf.resize(len, 0.0);
                }
            }
            f(&mut a[..lens[0]], &mut b[..lens[1]])
        }
        // Re-entered (not done by this crate): fresh buffers.
        Err(_) => f(&mut vec![0.0; lens[0]], &mut vec![0.0; lens[1]]),
    })
}

/// Frees this thread's scratch buffers: after preparing a network, whose staging is larger
/// than what a forward pass needs, so that memory goes back to the allocator for the next
/// allocations (wasm memory itself never shrinks).
pub fn release_scratch() {
    SCRATCH.with(|cell| {
        if let Ok(mut bufs) = cell.try_borrow_mut() {
            *bufs = [Vec::new(), Vec::new()];
        }
    });
}
