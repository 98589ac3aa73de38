"""Lesson 03's training costs, per batch and per device: is a GPU fed fast enough?

    python benchmarks/vision_bench.py [--quick] [--devices cpu,cuda]

For a batch of 32 Fashion-MNIST pictures it measures, in one run:
- making the batch picture by picture (the dataset's ToTensor transform, as a plain
  DataLoader over ``datasets.FashionMNIST`` does), against slicing it from one tensor
  made once (``TensorDataset``, what the lesson uses);
- one training step (forward, loss, backward, SGD step, and the two ``.item()`` calls
  of the lesson's ``train_step``) of each of the lesson's three models, on each device.

From these it projects the training time of lesson 03 with the full data (60,000
training and 10,000 test pictures, 5 epochs for each of the three models), fed both
ways. The projection leaves out the worker start, the test passes' extra cost over a
forward pass, and the smaller cells. Run it on the GPU machine to check the lesson's
claim that the full-data lesson trains within a minute there.
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset, TensorDataset

BATCH = 32
FULL_TRAIN, FULL_TEST, EPOCHS = 60_000, 10_000, 5


class TinyVGG(nn.Module):
    """Lesson 03's TinyVGG (hidden=10)."""

    def __init__(self, in_channels: int = 1, hidden: int = 10, n_classes: int = 10) -> None:
        super().__init__()
        conv = lambda i: [nn.Conv2d(i, hidden, 3, padding=1), nn.ReLU()]  # noqa: E731
        self.block_1 = nn.Sequential(*conv(in_channels), *conv(hidden), nn.MaxPool2d(2))
        self.block_2 = nn.Sequential(*conv(hidden), *conv(hidden), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(hidden * 7 * 7, n_classes))

    def forward(self, x):
        return self.classifier(self.block_2(self.block_1(x)))


MODELS = {
    "baseline": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10), nn.Linear(10, 10)),
    "non-linear": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10)),
    "TinyVGG": TinyVGG,
}


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


def per_batch(loader, n: int) -> float:
    """Seconds to make one batch, the mean over n (after one to start the iterator)."""
    batches = iter(loader)
    next(batches)
    start = time.perf_counter()
    for _ in range(n):
        next(batches)
    return (time.perf_counter() - start) / n


def per_step(make, device: str, batches, warmup: int) -> float:
    """Seconds per training step as the lesson's train_step does it, on ready batches."""
    model = make().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()

    def step(X, y):
        X, y = X.to(device), y.to(device)
        logits = model(X)
        loss = loss_fn(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item(), (logits.argmax(dim=1) == y).sum().item()

    for X, y in batches[:warmup]:
        step(X, y)
    sync(device)
    start = time.perf_counter()
    for X, y in batches[warmup:]:
        step(X, y)
    sync(device)
    return (time.perf_counter() - start) / len(batches[warmup:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer batches")
    parser.add_argument("--devices", help="comma-separated (default: cpu and every GPU found)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice; on a "
                        "busy machine 1 avoids threads waiting for each other)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from torchvision import datasets, transforms

    from tutor.data.fashion_mnist import fashion_mnist_root

    devices = args.devices.split(",") if args.devices else ["cpu"] + (
        ["cuda"] if torch.cuda.is_available() else []) + (["mps"] if torch.backends.mps.is_available() else [])
    n = 20 if args.quick else 100
    root = fashion_mnist_root(say=lambda line: None)
    train = datasets.FashionMNIST(root=root, train=True, transform=transforms.ToTensor())
    images = train.data.unsqueeze(1).float() / 255
    picture_loader = DataLoader(Subset(train, range(len(train))), batch_size=BATCH, shuffle=True)
    tensor_loader = DataLoader(TensorDataset(images, train.targets), batch_size=BATCH, shuffle=True)
    by_picture = per_batch(picture_loader, n)
    by_tensor = per_batch(tensor_loader, n)
    batches = [b for b, _ in zip(tensor_loader, range(n + 10))]

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, load average {load:.1f}")
    print(f"making a batch of {BATCH}: picture by picture {by_picture * 1e3:.2f} ms, "
          f"from a tensor {by_tensor * 1e3:.3f} ms ({by_picture / by_tensor:.0f}x faster)")
    steps_per_model = EPOCHS * (-(-FULL_TRAIN // BATCH))
    for device in devices:
        print(f"\n{device}:")
        projected = {"tensor": 0.0, "ToTensor": 0.0}
        for name, make in MODELS.items():
            step = per_step(make, device, batches, warmup=10)
            print(f"  {name:<10} training step {step * 1e3:7.3f} ms; making its batch picture by picture "
                  f"costs {by_picture / step:5.1f}x the step, from a tensor {by_tensor / step:5.2f}x")
            projected["tensor"] += steps_per_model * (step + by_tensor)
            projected["ToTensor"] += steps_per_model * (step + by_picture)
        print(f"  lesson 03 with the full data ({FULL_TRAIN:,} pictures, {EPOCHS} epochs, 3 models), training "
              f"steps only: about {projected['tensor']:.0f} s fed from tensors, {projected['ToTensor']:.0f} s "
              f"picture by picture ({projected['ToTensor'] / projected['tensor']:.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
