// Convolution as an implicit GEMM, batch 1, with folded batch norm (the bias), an optional
// residual added before the ReLU, and an optional ReLU:
//   out[m, n] = act(sum_k w_t[k, m] * patch[k, n] + bias[m] + residual[m, n])
// m: output channel, n: output pixel (oy * wo + ox), k: (ci, ky, kx) of the filter.
// Each 16×16 workgroup computes a 64×64 tile of out, each invocation a 4×4 block of it; the
// weights and the image patches are staged through workgroup memory 16 values of k at a time.

struct Params {
    cin: u32,
    h: u32,
    w: u32,
    cout: u32,
    ho: u32,
    wo: u32,
    kh: u32,
    kw: u32,
    stride: u32,
    pad: u32,
    relu: u32,
    residual: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;     // [cin, h, w]
@group(0) @binding(2) var<storage, read> w_t: array<f32>;       // [cin * kh * kw, cout]
@group(0) @binding(3) var<storage, read> bias: array<f32>;      // [cout]
@group(0) @binding(4) var<storage, read> residual: array<f32>;  // [cout, ho * wo] when p.residual == 1
@group(0) @binding(5) var<storage, read_write> out: array<f32>; // [cout, ho * wo]

const TILE: u32 = 64u;
const TILE_K: u32 = 16u;

var<workgroup> a_tile: array<f32, 1024>; // [TILE_K][TILE] weights
var<workgroup> b_tile: array<f32, 1024>; // [TILE_K][TILE] patches

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let k_total = p.cin * p.kh * p.kw;
    let n_total = p.ho * p.wo;
    let taps = p.kh * p.kw;
    let m0 = wid.y * TILE;
    let n0 = wid.x * TILE;
    let tid = lid.y * 16u + lid.x;

    var acc: array<vec4<f32>, 4>;
    for (var i = 0u; i < 4u; i++) {
        acc[i] = vec4<f32>(0.0);
    }

    for (var k0 = 0u; k0 < k_total; k0 += TILE_K) {
        for (var r = 0u; r < 4u; r++) {
            let idx = tid + r * 256u;
            let kk = idx / TILE;
            let col = idx % TILE;
            let k = k0 + kk;

            let m = m0 + col;
            var a = 0.0;
            if (k < k_total && m < p.cout) {
                a = w_t[k * p.cout + m];
            }
            a_tile[idx] = a;

            let n = n0 + col;
            var b = 0.0;
            if (k < k_total && n < n_total) {
                let ci = k / taps;
                let t = k % taps;
                let ky = t / p.kw;
                let kx = t % p.kw;
                let iy = i32((n / p.wo) * p.stride + ky) - i32(p.pad);
                let ix = i32((n % p.wo) * p.stride + kx) - i32(p.pad);
                if (iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w)) {
                    b = input[(ci * p.h + u32(iy)) * p.w + u32(ix)];
                }
            }
            b_tile[idx] = b;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TILE_K; kk++) {
            let ab = kk * TILE + lid.y * 4u;
            let bb = kk * TILE + lid.x * 4u;
            let a = vec4<f32>(a_tile[ab], a_tile[ab + 1u], a_tile[ab + 2u], a_tile[ab + 3u]);
            let b = vec4<f32>(b_tile[bb], b_tile[bb + 1u], b_tile[bb + 2u], b_tile[bb + 3u]);
            acc[0] += a.x * b;
            acc[1] += a.y * b;
            acc[2] += a.z * b;
            acc[3] += a.w * b;
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < 4u; i++) {
        let m = m0 + lid.y * 4u + i;
        if (m >= p.cout) {
            continue;
        }
        for (var j = 0u; j < 4u; j++) {
            let n = n0 + lid.x * 4u + j;
            if (n >= n_total) {
                continue;
            }
            var v = acc[i][j] + bias[m];
            if (p.residual == 1u) {
                v += residual[m * n_total + n];
            }
            if (p.relu == 1u) {
                v = max(v, 0.0);
            }
            out[m * n_total + n] = v;
        }
    }
}
