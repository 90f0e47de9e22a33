// Fully connected layer, batch 1: out[o] = sum_i weight[o, i] * input[i] + bias[o].

struct Params {
    inputs: u32,
    outputs: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;     // [inputs]
@group(0) @binding(2) var<storage, read> weight: array<f32>;    // [outputs, inputs]
@group(0) @binding(3) var<storage, read> bias: array<f32>;      // [outputs]
@group(0) @binding(4) var<storage, read_write> out: array<f32>; // [outputs]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let o = gid.x;
    if (o >= p.outputs) {
        return;
    }
    var sum = 0.0;
    for (var i = 0u; i < p.inputs; i++) {
        sum += weight[o * p.inputs + i] * input[i];
    }
    out[o] = sum + bias[o];
}
