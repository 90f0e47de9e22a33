//! One recorded kernel launch: pipeline, bound buffers and workgroup counts.

/// A kernel launch ready to be encoded; plans are lists of these, built once per input size.
pub struct Dispatch {
    /// The kernel.
    pub pipeline: wgpu::ComputePipeline,
    /// Its buffers.
    pub bind_group: wgpu::BindGroup,
    /// Workgroups along x and y.
    pub groups: (u32, u32),
}

impl Dispatch {
    /// Records the launch into a compute pass.
    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.dispatch_workgroups(self.groups.0, self.groups.1, 1);
    }
}

/// Workgroup counts for `len` invocations in groups of 64 along x, spilling into y past the
/// 65 535-group limit (the kernels compute `gid.x + gid.y * 65535 * 64`).
pub fn groups_1d(len: usize) -> (u32, u32) {
    let groups = len.div_ceil(64).max(1) as u32;
    if groups <= 65_535 {
        (groups, 1)
    } else {
        (65_535, groups.div_ceil(65_535))
    }
}

/// A parameter struct as the 16-byte-padded words of a uniform buffer.
pub fn uniform_words(fields: &[u32]) -> Vec<u32> {
    let mut words = fields.to_vec();
    words.resize(fields.len().div_ceil(4) * 4, 0);
    words
}
