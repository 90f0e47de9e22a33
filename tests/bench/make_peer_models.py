#!/usr/bin/env python3
"""Builds the peers' ResNet-50 from our exported weights, so all three engines run the same
network with the same random weights (batch norm folded, as our inference path does):

    python3 tests/bench/make_peer_models.py WEIGHTS.safetensors OUT_DIR

writes OUT_DIR/resnet50.onnx (ONNX, NCHW) and OUT_DIR/tfjs/{manifest.json,weights.bin} (NHWC).
Needs numpy and onnx (pip), nothing downloaded.
"""
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

EPS = 1e-5
BLOCKS = [3, 4, 6, 3]


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(info["shape"])
    return out


def fold(w, conv, bn):
    scale = w[f"{bn}.weight"] / np.sqrt(w[f"{bn}.running_var"] + EPS)
    kernel = w[f"{conv}.weight"] * scale[:, None, None, None]
    bias = w[f"{bn}.bias"] - w[f"{bn}.running_mean"] * scale
    return kernel.astype(np.float32), bias.astype(np.float32)


def layers(w):
    """(name, kernel OIHW, bias, stride, pad) for every folded convolution, in order."""
    convs = [("conv1", *fold(w, "conv1", "bn1"), 2, 3)]
    for s, count in enumerate(BLOCKS):
        for b in range(count):
            p = f"layer{s + 1}.{b}"
            stride = 2 if s > 0 and b == 0 else 1
            convs.append((f"{p}.conv1", *fold(w, f"{p}.conv1", f"{p}.bn1"), 1, 0))
            convs.append((f"{p}.conv2", *fold(w, f"{p}.conv2", f"{p}.bn2"), stride, 1))
            convs.append((f"{p}.conv3", *fold(w, f"{p}.conv3", f"{p}.bn3"), 1, 0))
            if b == 0:
                convs.append((f"{p}.downsample", *fold(w, f"{p}.downsample.0", f"{p}.downsample.1"), stride, 0))
    return convs


def onnx_model(w, convs, size):
    nodes, inits = [], []
    by_name = {c[0]: c for c in convs}

    def conv(x, name, relu):
        _, k, b, stride, pad = by_name[name]
        inits.extend([numpy_helper.from_array(k, f"{name}.w"), numpy_helper.from_array(b, f"{name}.b")])
        out = f"{name}.out"
        nodes.append(helper.make_node("Conv", [x, f"{name}.w", f"{name}.b"], [out], strides=[stride, stride],
                                      pads=[pad] * 4, kernel_shape=list(k.shape[2:])))
        if relu:
            nodes.append(helper.make_node("Relu", [out], [f"{name}.relu"]))
            return f"{name}.relu"
        return out

    x = conv("input", "conv1", True)
    nodes.append(helper.make_node("MaxPool", [x], ["pool0"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    x = "pool0"
    for s, count in enumerate(BLOCKS):
        for b in range(count):
            p = f"layer{s + 1}.{b}"
            h = conv(x, f"{p}.conv1", True)
            h = conv(h, f"{p}.conv2", True)
            h = conv(h, f"{p}.conv3", False)
            short = conv(x, f"{p}.downsample", False) if b == 0 else x
            nodes.append(helper.make_node("Add", [h, short], [f"{p}.add"]))
            nodes.append(helper.make_node("Relu", [f"{p}.add"], [f"{p}.out"]))
            x = f"{p}.out"
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"]))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], axis=1))
    inits.extend([numpy_helper.from_array(w["fc.weight"].astype(np.float32), "fc.w"),
                  numpy_helper.from_array(w["fc.bias"].astype(np.float32), "fc.b")])
    nodes.append(helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], transB=1))
    graph = helper.make_graph(nodes, "resnet50", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def tfjs_files(w, convs, out):
    os.makedirs(out, exist_ok=True)
    blobs, manifest, offset = [], {"convs": []}, 0

    def put(array):
        nonlocal offset
        data = np.ascontiguousarray(array, dtype=np.float32).tobytes()
        blobs.append(data)
        entry = {"offset": offset, "shape": list(array.shape)}
        offset += len(data)
        return entry

    for name, k, b, stride, pad in convs:
        manifest["convs"].append({"name": name, "w": put(k.transpose(2, 3, 1, 0)), "b": put(b), "stride": stride, "pad": pad})
    manifest["fc"] = {"w": put(w["fc.weight"].T), "b": put(w["fc.bias"])}
    with open(os.path.join(out, "weights.bin"), "wb") as f:
        f.write(b"".join(blobs))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f)


def main():
    weights, out = sys.argv[1], sys.argv[2]
    w = read_safetensors(weights)
    convs = layers(w)
    os.makedirs(out, exist_ok=True)
    onnx.save(onnx_model(w, convs, 224), os.path.join(out, "resnet50.onnx"))
    tfjs_files(w, convs, os.path.join(out, "tfjs"))
    print("wrote", out)


if __name__ == "__main__":
    main()
