#!/usr/bin/env python3
"""PyTorch's CPU eager time for what one Gradient lab click computes: torchvision's ResNet-50,
with and without its shortcuts, forward and backward (cross-entropy, one target), float32.

    python tests/bench/torch_lab.py SIZE THREADS NORM [BATCH]

NORM is `off` (batch norm removed, the classic preset) or `train`. Prints JSON with the median of
three timed clicks after one warm-up. Run by `make bench` with the reference venv of
tests/reference/ when there is one (PyTorch is never a dependency of the project).
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


def network(norm, skips):
    model = torchvision.models.resnet50()
    if norm == "off":
        for name, m in list(model.named_modules()):
            if isinstance(m, nn.BatchNorm2d):
                parent = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
                setattr(parent, name.rsplit(".", 1)[-1], nn.Identity())
    model.train()
    if not skips:
        for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
            for block in layer:
                def forward(x, b=block):
                    out = b.relu(b.bn1(b.conv1(x)))
                    out = b.relu(b.bn2(b.conv2(out)))
                    return b.relu(b.bn3(b.conv3(out)))
                block.forward = forward
    return model


def main():
    size, threads, norm = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    nets = [network(norm, True), network(norm, False)]
    x = torch.randn(batch, 3, size, size)
    target = torch.full((batch,), 281)

    def click():
        start = time.perf_counter()
        for net in nets:
            net.zero_grad(set_to_none=True)
            F.cross_entropy(net(x), target).backward()
        return (time.perf_counter() - start) * 1e3

    click()
    times = [click() for _ in range(3)]
    print(json.dumps({"median_ms": statistics.median(times), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
