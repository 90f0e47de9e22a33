#!/usr/bin/env python3
"""Builds LiteRT.js's peer model: torchvision's ResNet-50 with our exported weights, converted to
`.tflite` by litert-torch (Google's PyTorch → LiteRT converter, from PyPI), so that LiteRT.js runs
the same network and weights as the other peers:

    .tools/litert-venv/bin/python tests/bench/make_litert_model.py WEIGHTS.safetensors OUT_DIR

writes OUT_DIR/resnet50.tflite (input NCHW 1×3×224×224, as PyTorch takes it) and prints the first
logit of PyTorch and of the converted model on an all-ones input, which must agree. Nothing is
downloaded: the network is torchvision's code, the weights are ours. `make bench` runs it in its
own venv (torch and TensorFlow's runtime, several GB, under .tools/litert-venv).
"""
import json
import os
import sys

import litert_torch
import numpy as np
import torch
import torchvision
from safetensors.torch import load_file

SIZE = 224


def main():
    weights, out_dir = sys.argv[1], sys.argv[2]
    model = torchvision.models.resnet50(weights=None)
    state = load_file(weights)
    missing, unexpected = model.load_state_dict(state, strict=False)
    # Our export leaves out batch norm's num_batches_tracked counters, which inference never reads.
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(f"weights do not fit torchvision's ResNet-50: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.eval()
    x = torch.ones(1, 3, SIZE, SIZE)
    with torch.no_grad():
        torch_logit = float(model(x)[0, 0])
    edge = litert_torch.convert(model, (x,))
    lite_logit = float(np.asarray(edge(x)).reshape(-1)[0])
    if abs(lite_logit - torch_logit) > 1e-3 * max(1.0, abs(torch_logit)):
        raise SystemExit(f"the converted model disagrees with PyTorch: {lite_logit} vs {torch_logit}")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "resnet50.tflite")
    edge.export(path)
    print(json.dumps({"tflite": path, "bytes": os.path.getsize(path), "torch_first_logit": torch_logit,
                      "litert_first_logit": lite_logit, "litert_torch": litert_torch.__version__
                      if hasattr(litert_torch, "__version__") else "?"}))


if __name__ == "__main__":
    main()
