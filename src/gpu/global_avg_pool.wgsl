// Global average pooling, batch 1: one invocation per channel.

struct Params {
    c: u32,
    hw: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;     // [c, hw]
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // [c]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.c) {
        return;
    }
    var sum = 0.0;
    for (var i = 0u; i < p.hw; i++) {
        sum += input[c * p.hw + i];
    }
    out[c] = sum / f32(p.hw);
}
