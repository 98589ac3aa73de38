"""Train the TinyNet that ships with tutor: a small CNN that learns to read drawn letters.

    python assets/pretrained/make_backbone.py            # writes tinynet_letters.pth + .json here
    python assets/pretrained/make_backbone.py --check    # rebuild in a temporary folder and
                                                         # compare with the shipped file
    python assets/pretrained/make_backbone.py --seeds 0,1,2    # the seeds trained (default):
                                                         # the first is written, all give the spread

The data are generated on the spot (``tutor.data.characters.draw_letters``, capital
letters A-Z drawn with Pillow's built-in font, slanted, turned and shifted at random),
so nothing is downloaded and every run draws the same pictures. Training is one CPU
thread with fixed seeds, so a rebuild on the same machine gives the same weights;
elsewhere (another CPU, another torch) it gives the same accuracy within the spread
that ``--seeds`` measures and the README states.

Lesson 06 then teaches this model the digits 0-9 from a handful of examples.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # run from a checkout: import this tutor

import torch  # noqa: E402
from torch import nn  # noqa: E402

from tutor.data.characters import LETTERS, draw_letters  # noqa: E402
from tutor.data.digits import draw_digits  # noqa: E402
from tutor.data.pretrained import META_NAME, SHIPPED_NAME  # noqa: E402
from tutor.data.tinynet import TinyNet  # noqa: E402

TRAIN_SIZE, TRAIN_SEED = 10_400, 7  # 400 pictures of each letter
TEST_SIZE, TEST_SEED = 2_600, 99
EPOCHS, BATCH, LR = 3, 64, 1e-3
SHIFT = 2  # pixels of random shift per batch (a little augmentation)
SEED = 0


def letter_data():
    """(train images, train labels, test images, test labels), the same every time."""
    return (*draw_letters(TRAIN_SIZE, seed=TRAIN_SEED), *draw_letters(TEST_SIZE, seed=TEST_SEED))


def train(images: torch.Tensor, labels: torch.Tensor, *, seed: int, mean: float, std: float,
          say=print) -> TinyNet:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = TinyNet(num_classes=len(LETTERS))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, EPOCHS + 1):
        model.train()
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for start in range(0, len(images), BATCH):
            batch = order[start:start + BATCH]
            dx, dy = (int(v) for v in torch.randint(-SHIFT, SHIFT + 1, (2,), generator=generator))
            x = torch.roll(images[batch], shifts=(dy, dx), dims=(2, 3))
            loss = loss_fn(model((x - mean) / std), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        say(f"  epoch {epoch}: train loss {total / len(images):.4f}")
    return model.eval()


def accuracy(model: TinyNet, images: torch.Tensor, labels: torch.Tensor, mean: float, std: float) -> float:
    model.eval()
    with torch.inference_mode():
        predictions = torch.cat([model((images[i:i + 500] - mean) / std).argmax(1) for i in range(0, len(images), 500)])
    return (predictions == labels).float().mean().item()


def transfer_accuracy(model: TinyNet, mean: float, std: float) -> float:
    """What the backbone is for: feature extraction on the digits from 50 examples (seed
    0), a new linear head trained on the frozen features, scored on 1,000 other digits."""
    train_x, train_y = draw_digits(50, seed=0)
    test_x, test_y = draw_digits(1000, seed=1000)
    model.eval()
    with torch.no_grad():
        features = [torch.flatten(model.avgpool(model.features((x - mean) / std)), 1) for x in (train_x, test_x)]
    torch.manual_seed(0)
    head = nn.Linear(features[0].shape[1], 10)
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-2)
    for _ in range(200):
        loss = nn.functional.cross_entropy(head(features[0]), train_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return (head(features[1]).argmax(1) == test_y).float().mean().item()


def spread(values: dict[str, float]) -> dict:
    return {"seeds": values, "min": min(values.values()), "max": max(values.values())}


def build(folder: Path, *, seeds: tuple[int, ...] = (SEED,), say=print) -> dict:
    """Train with each seed, then write the first seed's weights and their description
    (with the accuracy of every seed: the spread) into ``folder``."""
    torch.set_num_threads(1)  # one thread: the same sums in the same order, run after run
    started = time.perf_counter()
    train_x, train_y, test_x, test_y = letter_data()
    mean, std = train_x.mean().item(), train_x.std().item()
    say(f"{len(train_x):,} training and {len(test_x):,} test letters drawn")
    models, accuracies, transfers = {}, {}, {}
    for seed in seeds:
        say(f"training with seed {seed}")
        models[seed] = train(train_x, train_y, seed=seed, mean=mean, std=std, say=say)
        accuracies[str(seed)] = round(accuracy(models[seed], test_x, test_y, mean, std), 4)
        transfers[str(seed)] = round(transfer_accuracy(models[seed], mean, std), 4)
        say(f"  letters: {accuracies[str(seed)]:.2%} of the test letters; digits from 50 examples: "
            f"{transfers[str(seed)]:.2%}")
    model = models[seeds[0]]
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / SHIPPED_NAME
    torch.save(model.state_dict(), weights)
    meta = {
        "categories": list(LETTERS),
        "mean": round(mean, 6),
        "std": round(std, 6),
        "accuracy": accuracies[str(seeds[0])],
        "accuracy_spread": spread(accuracies),
        "transfer_accuracy": transfers[str(seeds[0])],
        "transfer_spread": spread(transfers),
        "transfer_task": ("feature extraction on the digits: a new Linear head on the frozen features, "
                          "trained on 50 drawn digits (seed 0), scored on 1,000 others (seed 1000)"),
        "num_params": sum(p.numel() for p in model.parameters()),
        "trained_on": (f"{TRAIN_SIZE:,} drawn capital letters (tutor.data.characters.draw_letters, "
                       f"seed {TRAIN_SEED}); accuracy on {TEST_SIZE:,} others (seed {TEST_SEED})"),
        "recipe": {"epochs": EPOCHS, "batch_size": BATCH, "optimizer": f"Adam(lr={LR})", "shift": SHIFT,
                   "seed": seeds[0], "threads": 1},
        "built_with": {"torch": torch.__version__, "python": sys.version.split()[0]},
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (folder / META_NAME).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    say(f"wrote {weights} ({weights.stat().st_size / 1024:.0f} KiB), seed {seeds[0]}: {meta['accuracy']:.2%}")
    return meta


WIDEN = 0.02  # one more seed falls outside the range of three half of the time: widen it


def check(say=print) -> int:
    """Rebuild in a temporary folder; 0 when its letter and transfer accuracies each lie
    within the shipped seeds' range widened by ``WIDEN`` (two points)."""
    shipped = json.loads((HERE / META_NAME).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        rebuilt = build(Path(tmp), seeds=(shipped["recipe"]["seed"],), say=say)
    ok = True
    for name, key, spread_key in (("letters", "accuracy", "accuracy_spread"),
                                  ("digits from 50 examples", "transfer_accuracy", "transfer_spread")):
        span = shipped[spread_key]
        low, high = span["min"] - WIDEN, span["max"] + WIDEN
        inside = low - 1e-9 <= rebuilt[key] <= high + 1e-9
        ok &= inside
        say(f"{name}: rebuilt {rebuilt[key]:.2%}, shipped {shipped[key]:.2%}, seeds "
            f"{span['min']:.2%}-{span['max']:.2%}: {'within' if inside else 'OUTSIDE'} {low:.2%}-{min(high, 1):.2%}")
    same = rebuilt["sha256"] == shipped["sha256"]
    say("identical weights" if same else "different weights (another CPU or torch): compare the accuracies")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the weights (default: here)")
    parser.add_argument("--check", action="store_true", help="rebuild in a temporary folder and compare")
    parser.add_argument("--seeds", default="0,1,2",
                        help="training seeds: the first one's weights are written, all give the spread")
    args = parser.parse_args(argv)
    if args.check:
        return check()
    build(args.out, seeds=tuple(int(seed) for seed in args.seeds.split(",")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
