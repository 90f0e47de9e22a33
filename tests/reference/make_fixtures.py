#!/usr/bin/env python3
"""Golden fixtures for ResNet Lab, computed with PyTorch on weights exported by `resnet-lab`.

Run by hand, never by CI:

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch torchvision safetensors numpy pillow transformers timm grad-cam
    cargo build --release --bin resnet-lab
    /tmp/refvenv/bin/python tests/reference/make_fixtures.py

It exports seeded weights with `target/release/resnet-lab export-init` (≈100 MB each, into
target/reference/, never committed), runs torchvision's ResNet-50 on them and writes small JSON
files into tests/fixtures/. The Rust tests regenerate the same weights from the same seeds.

The real checkpoints' layouts (names, dtypes, shapes of microsoft/resnet-50 and timm's resnet50)
are read from WEIGHT_MANIFESTS (default ../shared/reference/weight-manifests), checked against
transformers' and timm's own models, and committed to tests/fixtures/weight-manifests/.

Inputs are the deterministic `pattern_input` below (mirrored in tests/common/mod.rs), so the
model parity does not depend on image preprocessing; preprocessing has its own fixture (a PNG of
the crop PIL/torchvision produce for a non-square sample image).
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from PIL import Image
from safetensors.torch import load_file

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures")
WORK = os.path.join(ROOT, "target", "reference")
CLI = os.path.join(ROOT, "target", "release", "resnet-lab")

torch.set_grad_enabled(False)
torch.use_deterministic_algorithms(True)


def pattern_input(size, batch=1):
    """x[i] = ((i * 2654435761) mod 65536) / 32768 - 1, exact in f32 (tests/common/mod.rs)."""
    n = batch * 3 * size * size
    i = np.arange(n, dtype=np.uint64)
    v = ((i * np.uint64(2654435761)) % np.uint64(65536)).astype(np.float64) / 32768.0 - 1.0
    return torch.from_numpy(v.astype(np.float32).reshape(batch, 3, size, size))


# Every case runs on weights whose batch norm is not the identity (`export-init --bn-stats`:
# γ, β, running mean and variance, and the fc bias drawn per channel), so that folding and the
# batch-norm mapping are checked with real values; one extra case keeps the identity.
BN_STATS = 1


def exported(init, seed, bn_stats=BN_STATS):
    name = f"{init}-{seed}" + (f"-bn{bn_stats}" if bn_stats is not None else "")
    path = os.path.join(WORK, f"{name}.safetensors")
    if not os.path.exists(path):
        os.makedirs(WORK, exist_ok=True)
        extra = ["--bn-stats", str(bn_stats)] if bn_stats is not None else []
        subprocess.run([CLI, "export-init", "--init", init, "--seed", str(seed), *extra, "--out", path], check=True)
    return path


def weights_of(init, seed, bn_stats=BN_STATS):
    """How the Rust tests regenerate a case's weights."""
    return {"init": init, "seed": seed, "bn_stats": bn_stats}


def build(path, variant="v1.5", norm="eval", skips=True, f16=False):
    model = torchvision.models.resnet50()
    state = load_file(path)
    if f16:
        state = {k: (v.half().float() if v.is_floating_point() else v) for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    if variant == "v1":
        for layer in (model.layer2, model.layer3, model.layer4):
            layer[0].conv1.stride = (2, 2)
            layer[0].conv2.stride = (1, 1)
    if norm == "off":
        for name, m in list(model.named_modules()):
            if isinstance(m, nn.BatchNorm2d):
                parent = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
                setattr(parent, name.rsplit(".", 1)[-1], nn.Identity())
    model.train(norm == "train")
    model.skips = skips
    return model


def run(model, x, keep=None):
    """torchvision's forward, step by step, with optional skips and retained activations."""
    acts = []

    def mark(name, t):
        if keep is not None:
            t.retain_grad()
            acts.append((name, t))
        return t

    h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    h = mark("stem", h)
    stages = [h]
    for s, layer in enumerate((model.layer1, model.layer2, model.layer3, model.layer4)):
        for b, blk in enumerate(layer):
            out = blk.relu(blk.bn1(blk.conv1(h)))
            out = blk.relu(blk.bn2(blk.conv2(out)))
            out = blk.bn3(blk.conv3(out))
            if model.skips:
                short = blk.downsample(h) if blk.downsample is not None else h
                out = out + short
            h = mark(f"layer{s + 1}.{b}", blk.relu(out))
        stages.append(h)
    pooled = torch.flatten(model.avgpool(h), 1)
    return model.fc(pooled), stages + [pooled], acts


def stats(name, t):
    t = t.double()
    return {"name": name, "shape": list(t.shape), "mean": t.mean().item(), "std": t.std(unbiased=False).item(),
            "min": t.min().item(), "max": t.max().item()}


def predict_case(case, size, bn_stats=BN_STATS, **kw):
    model = build(exported("he", 0, bn_stats), **kw)
    logits, outs, _ = run(model, pattern_input(size))
    names = ["stage1", "stage2", "stage3", "stage4", "stage5", "pool"]
    return {"case": case, "weights": weights_of("he", 0, bn_stats), "size": size, **kw, "logits": logits[0].tolist(),
            "stages": [stats(n, t) for n, t in zip(names, outs)]}


def grads_case(case, init, seed, norm, size, batch=1, target=281):
    """Both networks, in float64 (the reference) and float32 (PyTorch's own rounding error).

    On a batch of `batch` pattern images, with the batch-mean loss (`reduction="mean"`). With
    `target=None`, each image's target is its top-1 in the residual network in float64 (from the
    logits of the same forward pass), and every other run uses those targets.

    Batch norm in training mode on one small image is ill-conditioned: PyTorch's float32 result
    differs from its float64 one by up to tens of percent in the plain network, so the Rust
    tests compare float64 to float64 at 1e-3 and float32 against the float64 truth with a
    tolerance scaled by PyTorch's own float32 error.
    """
    path = exported(init, seed)
    result = {"case": case, "weights": weights_of(init, seed), "init": init, "seed": seed, "bn": norm, "size": size,
              "batch": batch, "own_targets": target is None}
    targets = None if target is None else [target] * batch
    # float32 in three kernels: how far PyTorch's own float32 lands from its float64 varies by
    # kernel (trained_224's plain loss: 2e-6 in one memory format, 3.5e-5 in the other), so the
    # tests take the largest as float32's error on each figure.
    # A third float32 run has oneDNN off: PyTorch's own im2col + GEMM convolution, the
    # algorithm ResNet Lab uses (its error on trained_224's plain layer1.1.conv3 is 6.7e-3, where
    # oneDNN's is 1.5e-4).
    contiguous, channels_last = torch.contiguous_format, torch.channels_last
    for dtype, fmt, suffix in ((torch.float64, contiguous, ""), (torch.float32, contiguous, "_f32"),
                               (torch.float32, channels_last, "_f32_cl"), (torch.float32, contiguous, "_f32_gemm")):
        torch.backends.mkldnn.enabled = suffix != "_f32_gemm"
        for skips in (True, False):
            model = build(path, norm=norm, skips=skips).to(dtype).to(memory_format=fmt)
            with torch.enable_grad():
                x = pattern_input(size, batch).to(dtype).contiguous(memory_format=fmt)
                logits, _, acts = run(model, x, keep=True)
                if targets is None:
                    targets = logits.argmax(dim=1).tolist()
                loss = F.cross_entropy(logits, torch.tensor(targets))
                loss.backward()
            key = ("skip" if skips else "plain") + suffix
            result[f"loss_{key}"] = loss.item()
            result[f"layers_{key}"] = {n: p.grad.double().norm().item() for n, p in model.named_parameters()
                                      if p.grad is not None and p.dim() in (2, 4)}
            result[f"acts_{key}"] = {n: t.grad.double().norm().item() for n, t in acts}
    torch.backends.mkldnn.enabled = True
    result["target"] = targets[0]
    result["targets"] = targets
    return result


def preprocessing_fixture():
    from torchvision import transforms
    # JPEG decoders differ by a few levels (libjpeg here, the `image` crate in the CLI), so the
    # fixture starts from PIL's decoded pixels, stored losslessly.
    img = Image.open(os.path.join(ROOT, "static", "samples", "cat.jpg")).convert("RGB")
    img.save(os.path.join(OUT, "cat_decoded.png"))
    crop = transforms.CenterCrop(224)(transforms.Resize(256)(img))
    crop.save(os.path.join(OUT, "cat_crop224.png"))
    # timm's recipe for resnet50.a1_in1k (bicubic, crop_pct 0.95): PIL's bicubic filter.
    bicubic = transforms.InterpolationMode.BICUBIC
    transforms.CenterCrop(224)(transforms.Resize(235, interpolation=bicubic)(img)).save(
        os.path.join(OUT, "cat_crop224_bicubic235.png"))
    x = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])(transforms.ToTensor()(crop))
    model = build(exported("he", 0))
    logits, _, _ = run(model, x.unsqueeze(0))
    return {"case": "cat_full_preprocessing", "weights": weights_of("he", 0), "image": "tests/fixtures/cat_decoded.png", "size": list(img.size),
            "logits": logits[0].tolist()}


BN = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def transformers_holds():
    """Which torchvision tensor each tensor of microsoft/resnet-50 holds. Written here by hand,
    independently of src/weights/naming.rs, and checked below by transformers' own model."""
    holds = {"resnet.embedder.embedder.convolution.weight": "conv1.weight"}
    holds.update({f"resnet.embedder.embedder.normalization.{s}": f"bn1.{s}" for s in BN})
    for stage, blocks in enumerate((3, 4, 6, 3)):
        for b in range(blocks):
            hf, tv = f"resnet.encoder.stages.{stage}.layers.{b}", f"layer{stage + 1}.{b}"
            for i in range(3):
                holds[f"{hf}.layer.{i}.convolution.weight"] = f"{tv}.conv{i + 1}.weight"
                holds.update({f"{hf}.layer.{i}.normalization.{s}": f"{tv}.bn{i + 1}.{s}" for s in BN})
            if b == 0:
                holds[f"{hf}.shortcut.convolution.weight"] = f"{tv}.downsample.0.weight"
                holds.update({f"{hf}.shortcut.normalization.{s}": f"{tv}.downsample.1.{s}" for s in BN})
    holds.update({"classifier.1.weight": "fc.weight", "classifier.1.bias": "fc.bias"})
    return holds


def read_manifest(path):
    with open(path) as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return [(name, dtype, shape) for name, dtype, shape in rows]


def write_manifest(name, rows, holds):
    os.makedirs(os.path.join(OUT, "weight-manifests"), exist_ok=True)
    with open(os.path.join(OUT, "weight-manifests", name), "w") as f:
        f.write("name\tdtype\tshape\tholds\n")
        for tensor, dtype, shape in rows:
            f.write(f"{tensor}\t{dtype}\t{shape}\t{holds[tensor]}\n")


def real_checkpoint_layouts(manifests):
    """The real tensor names, dtypes and shapes of microsoft/resnet-50 (transformers) and of
    timm's resnet50 (../shared/reference/weight-manifests/), each checked against the library's
    own model: loaded with the fixture weights, it gives torchvision's logits. The Rust test
    builds a file with exactly these tensors from the `holds` column and loads it."""
    import timm
    import transformers
    tv = build(exported("he", 0))
    state = tv.state_dict()
    x = pattern_input(224)
    reference = tv(x)
    shape = lambda t: "x".join(str(d) for d in t.shape)  # noqa: E731
    dtype = lambda t: str(t.dtype).replace("torch.", "")  # noqa: E731
    results = {}

    rows = read_manifest(os.path.join(manifests, "hf-transformers-resnet50.tsv"))
    holds = transformers_holds()
    config = transformers.ResNetConfig(num_channels=3, embedding_size=64, hidden_sizes=[256, 512, 1024, 2048],
                                       depths=[3, 4, 6, 3], layer_type="bottleneck", hidden_act="relu",
                                       downsample_in_first_stage=False, num_labels=1000)
    hf = transformers.ResNetForImageClassification(config).eval()
    hf_state = hf.state_dict()
    assert [(k, dtype(v), shape(v)) for k, v in hf_state.items()] == rows, "transformers' layout changed"
    hf.load_state_dict({k: state[holds[k]] for k in hf_state}, strict=True)
    results["transformers"] = (hf(pixel_values=x).logits - reference).abs().max().item()
    write_manifest("hf-transformers-resnet50.tsv", rows, holds)

    rows = read_manifest(os.path.join(manifests, "torchvision-timm-resnet50.tsv"))
    tm = timm.create_model("resnet50", pretrained=False).eval()
    tm_state = tm.state_dict()
    assert [(k, dtype(v), shape(v)) for k, v in tm_state.items()] == rows, "timm's layout changed"
    tm.load_state_dict({k: state[k] for k in tm_state}, strict=True)
    results["timm"] = (tm(x) - reference).abs().max().item()
    write_manifest("torchvision-timm-resnet50.tsv", rows, {k: k for k, _, _ in rows})
    scale = reference.abs().max().item()
    for library, err in results.items():
        print(f"{library}: max |Δlogit| against torchvision {err:.2e} (max |logit| {scale:.1f})")
        assert err <= 1e-5 * scale, library
    return {"transformers": transformers.__version__, "timm": timm.__version__}


def png_with_gamma(path, img, gamma=1.0):
    """`img` as a PNG with a gAMA chunk (PIL cannot write one): PIL and torchvision ignore it;
    a colour-managed browser would change the pixels."""
    import io
    import struct
    import zlib
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    data = buf.getvalue()
    end_of_ihdr = 8 + 8 + 13 + 4
    body = b"gAMA" + struct.pack(">I", int(round(100000 / gamma)))
    chunk = struct.pack(">I", 4) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(data[:end_of_ihdr] + chunk + data[end_of_ihdr:])


def decoding_fixtures():
    """One decoding policy for page and CLI, written down by PIL (tests/fixtures/decoding/):
    EXIF orientation applied (ImageOps.exif_transpose), transparency composited over white,
    colour profiles (gAMA, iCCP) ignored, as PIL and torchvision do."""
    from PIL import ImageOps
    out = os.path.join(OUT, "decoding")
    os.makedirs(out, exist_ok=True)
    cat = Image.open(os.path.join(ROOT, "static", "samples", "cat.jpg")).convert("RGB")
    small = cat.resize((cat.width // 2, cat.height // 2), Image.BILINEAR)
    # A phone photo taken sideways: the pixels stored rotated, EXIF orientation 6 (rotate 90° CW
    # to display). The reference is what PIL shows after exif_transpose, stored losslessly.
    stored = small.transpose(Image.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(os.path.join(out, "exif6.jpg"), quality=95, exif=exif.tobytes())
    upright = ImageOps.exif_transpose(Image.open(os.path.join(out, "exif6.jpg"))).convert("RGB")
    assert upright.size == small.size, (upright.size, small.size)
    upright.save(os.path.join(out, "exif6_upright.png"))
    # Transparency: alpha from 0 to 255 across, colour under alpha 0 kept (PIL's convert("RGB")
    # would show it; composited over white it is white).
    rgba = small.convert("RGBA")
    alpha = Image.linear_gradient("L").transpose(Image.ROTATE_90).resize(small.size)
    rgba.putalpha(alpha)
    rgba.save(os.path.join(out, "alpha.png"))
    white = Image.new("RGBA", small.size, (255, 255, 255, 255))
    Image.alpha_composite(white, rgba).convert("RGB").save(os.path.join(out, "alpha_over_white.png"))
    # A gAMA chunk of 1.0 (linear light): ignored.
    png_with_gamma(os.path.join(out, "gamma1.png"), small)
    small.save(os.path.join(out, "plain.png"))


GRADS_CASES = {
    "classic_64": ("xavier", 0, "off", 64),
    "trained_64": ("he", 0, "train", 64),
    "classic_224": ("xavier", 0, "off", 224),
    "trained_224": ("he", 0, "train", 224),
    # The "As trained, batch" preset's setting on 4 images, each with its own top-1 as target.
    "trained_224_batch4": ("he", 0, "train", 224, 4, None),
    # Batch norm in eval mode on the trained statistics: the lab on pretrained weights.
    "eval_224": ("he", 0, "eval", 224),
}


def write_grads(names):
    """(Re)computes the named gradient cases, keeping the others in grads.json as they are."""
    path = os.path.join(OUT, "grads.json")
    old = {}
    if os.path.exists(path):
        with open(path) as f:
            old = {c["case"]: c for c in json.load(f)["cases"]}
    new = {name: grads_case(name, *GRADS_CASES[name]) for name in names}
    cases = [new.get(name) or old[name] for name in GRADS_CASES if name in new or name in old]
    with open(path, "w") as f:
        json.dump({"generator": f"torch {torch.__version__}", "cases": cases}, f)


CAM_LAYERS = {"layer3": 4, "layer4": 5}


def cam_fixtures():
    """Grad-CAM and Grad-CAM++ by pytorch-grad-cam (`pip install grad-cam`) on the fixture
    weights with real batch-norm statistics, at layer3 and layer4, for the top-1 and top-2 of the
    pattern input: each map at the stage's resolution through the package's own public call (its
    target size set to the stage's, where its resize is the identity), and its 224×224 output
    sampled every 8 pixels (to check the upsampling)."""
    from pytorch_grad_cam import GradCAM, GradCAMPlusPlus
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    from importlib.metadata import version

    model = build(exported("he", 0)).eval()
    x = pattern_input(224)
    with torch.no_grad():
        logits = model(x)[0]
    classes = torch.argsort(logits, descending=True)[:2].tolist()
    cases = []
    with torch.enable_grad():
        for layer, stage in CAM_LAYERS.items():
            side = 224 >> stage
            for name, method in (("gradcam", GradCAM), ("gradcam++", GradCAMPlusPlus)):
                for c in classes:
                    targets = [ClassifierOutputTarget(c)]
                    with method(model=model, target_layers=[getattr(model, layer)]) as cam:
                        full = cam(input_tensor=x, targets=targets)[0]
                        cam.get_target_width_height = lambda _: (side, side)
                        small = cam(input_tensor=x, targets=targets)[0]
                    assert small.shape == (side, side), small.shape
                    # A map that is flat (a class nowhere positive) would check nothing.
                    assert small.max() > 0.9 and np.unique(np.round(small, 3)).size > side, (layer, name, c)
                    cases.append({"case": f"{layer}_{name}_{c}", "weights": weights_of("he", 0), "size": 224,
                                  "layer": layer, "stage": stage, "method": name, "class": c,
                                  "map": small.astype(np.float64).round(7).ravel().tolist(),
                                  "upsampled_every8": full[::8, ::8].astype(np.float64).round(7).ravel().tolist()})
    with open(os.path.join(OUT, "cam.json"), "w") as f:
        json.dump({"generator": f"torch {torch.__version__}, grad-cam {version('grad-cam')}",
                   "classes": classes, "cases": cases}, f)


def main():
    if sys.argv[1:2] == ["--cam"]:
        # `make_fixtures.py --cam`: only the class activation maps.
        return cam_fixtures()
    if sys.argv[1:2] == ["--grads"]:
        # `make_fixtures.py --grads NAME…`: only those gradient cases.
        return write_grads(sys.argv[2:] or list(GRADS_CASES))
    if not os.path.exists(CLI):
        sys.exit("build the CLI first: cargo build --release --bin resnet-lab")
    os.makedirs(OUT, exist_ok=True)
    cases = [
        predict_case("v1_5_eval", 224),
        predict_case("f16_eval", 224, f16=True),
        predict_case("v1_eval", 224, variant="v1"),
        predict_case("no_skip_eval", 224, skips=False),
        predict_case("v1_5_eval_64", 64),
        predict_case("v1_5_eval_identity_bn", 224, bn_stats=None),
        preprocessing_fixture(),
    ]
    with open(os.path.join(OUT, "predict.json"), "w") as f:
        json.dump({"generator": f"torch {torch.__version__}, torchvision {torchvision.__version__}",
                   "cases": cases}, f)
    write_grads(list(GRADS_CASES))
    manifests = os.environ.get("WEIGHT_MANIFESTS", os.path.join(ROOT, "..", "shared", "reference", "weight-manifests"))
    versions = real_checkpoint_layouts(manifests)
    decoding_fixtures()
    cam_fixtures()
    print("checked the layouts with", versions)
    print("wrote", os.listdir(OUT))


if __name__ == "__main__":
    main()
