// Max pooling 3×3, stride 2, padding 1 (the stem's pool), batch 1; padding never wins.

struct Params {
    c: u32,
    h: u32,
    w: u32,
    ho: u32,
    wo: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;     // [c, h, w]
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // [c, ho, wo]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * 65535u * 64u;
    if (i >= p.c * p.ho * p.wo) {
        return;
    }
    let c = i / (p.ho * p.wo);
    let oy = (i / p.wo) % p.ho;
    let ox = i % p.wo;
    var best = bitcast<f32>(0xff7fffffu); // -f32::MAX
    for (var dy = 0u; dy < 3u; dy++) {
        let iy = i32(oy * 2u + dy) - 1;
        if (iy < 0 || iy >= i32(p.h)) {
            continue;
        }
        for (var dx = 0u; dx < 3u; dx++) {
            let ix = i32(ox * 2u + dx) - 1;
            if (ix < 0 || ix >= i32(p.w)) {
                continue;
            }
            best = max(best, input[(c * p.h + u32(iy)) * p.w + u32(ix)]);
        }
    }
    out[i] = best;
}
