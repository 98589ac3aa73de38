"""TinyNet: the small pretrained model that ships with tutor, with torchvision's API.

    from tutor.data.tinynet import TinyNet_Weights, tinynet

    weights = TinyNet_Weights.DEFAULT          # what it learned: drawn capital letters A-Z
    model = tinynet(weights=weights)           # features -> avgpool -> classifier
    preprocess = weights.transforms()          # the inputs it was trained on
    weights.meta["categories"]                 # ['A', 'B', ...]

It is built like torchvision's EfficientNet (``model.features``, ``model.avgpool``,
``model.classifier`` ending in a ``Linear``), so the same transfer-learning code works
on both. ``tinynet(weights=None, num_classes=10)`` is the same network with random
weights: the baseline trained from scratch. The weights file and its provenance are in
``assets/pretrained/`` (``make_backbone.py`` rebuilds it).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
from PIL import Image
from torch import nn
from torchvision.models import Weights, WeightsEnum
from torchvision.transforms import functional as F

from tutor.data import pretrained
from tutor.data.characters import LETTERS

WIDTHS = (16, 32, 64)
POOL = 2  # the feature maps are averaged down to 2x2, so a little of "where" survives
SIDE = 28


def _conv(inputs: int, outputs: int) -> list[nn.Module]:
    return [nn.Conv2d(inputs, outputs, kernel_size=3, padding=1), nn.BatchNorm2d(outputs), nn.ReLU(inplace=True)]


class TinyNet(nn.Module):
    """Five 3x3 convolutions (each with BatchNorm and ReLU, two max-pools between them),
    an average pool to 2x2, and a linear classifier: about 40,000 parameters."""

    def __init__(self, num_classes: int = 26, dropout: float = 0.2) -> None:
        super().__init__()
        a, b, c = WIDTHS
        self.features = nn.Sequential(
            nn.Sequential(*_conv(1, a), *_conv(a, a), nn.MaxPool2d(2)),  # 28x28 -> 14x14
            nn.Sequential(*_conv(a, b), *_conv(b, b), nn.MaxPool2d(2)),  # 14x14 -> 7x7
            nn.Sequential(*_conv(b, c)),  # 7x7, the most specific features
        )
        self.avgpool = nn.AdaptiveAvgPool2d(POOL)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(c * POOL * POOL, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class CharacterTransforms(nn.Module):
    """The inputs TinyNet was trained on: one grayscale channel, 28x28, values scaled to
    0..1, then normalized with the training pictures' mean and standard deviation.
    Takes a PIL image (any size or colour) or a float/uint8 tensor (..., C, H, W)."""

    def __init__(self, *, mean: float, std: float, size: int = SIDE) -> None:
        super().__init__()
        self.mean, self.std, self.size = mean, std, size

    def forward(self, image: Any) -> torch.Tensor:
        if isinstance(image, Image.Image):
            image = F.pil_to_tensor(image.convert("L"))
        if not image.is_floating_point():
            image = F.convert_image_dtype(image, torch.float)
        if image.shape[-3] == 3:
            image = F.rgb_to_grayscale(image)
        if tuple(image.shape[-2:]) != (self.size, self.size):
            image = F.resize(image, [self.size, self.size], antialias=True)
        return F.normalize(image, [self.mean], [self.std])

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}(", "    grayscale (1 channel)", f"    resize_size=[{self.size}, {self.size}]",
                 f"    mean=[{self.mean:.4f}]", f"    std=[{self.std:.4f}]", ")"]
        return "\n".join(lines)

    def describe(self) -> str:
        return ("Accepts PIL images and tensors (..., C, H, W). Converted to one grayscale channel, "
                f"resized to {self.size}x{self.size}, scaled to 0..1 and normalized with mean "
                f"{self.mean:.4f} and std {self.std:.4f}.")


def _shipped_weights() -> Weights:
    try:
        meta = pretrained.shipped_meta()
    except (OSError, ValueError):  # not built yet (make_backbone.py is building it)
        meta = {"categories": list(LETTERS), "mean": 0.0, "std": 1.0, "accuracy": None, "num_params": None,
                "trained_on": f"nothing yet: {pretrained.SHIPPED_WEIGHTS} is missing (run make_backbone.py)"}
    return Weights(
        url=pretrained.SHIPPED_WEIGHTS.as_uri(),
        transforms=partial(CharacterTransforms, mean=meta["mean"], std=meta["std"]),
        meta={
            "categories": list(meta["categories"]),
            "num_params": meta["num_params"],
            "trained_on": meta["trained_on"],
            "_metrics": {"letters": {"acc@1": meta["accuracy"]}},
            "recipe": "assets/pretrained/make_backbone.py",
            "_docs": "A small CNN that learned to read drawn capital letters (see assets/pretrained/README.md).",
        },
    )


class TinyNet_Weights(WeightsEnum):  # noqa: N801 - torchvision's naming, on purpose
    """The weights that ship with tutor (``assets/pretrained/``), like torchvision's enums."""

    LETTERS_V1 = _shipped_weights()
    DEFAULT = LETTERS_V1

    def get_state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The weights from the shipped file (nothing is downloaded)."""
        return torch.load(pretrained.SHIPPED_WEIGHTS, map_location="cpu", weights_only=True)


def tinynet(*, weights: TinyNet_Weights | str | None = None, num_classes: int | None = None,
            progress: bool = False) -> TinyNet:
    """A TinyNet; with ``weights``, the pretrained one (its classifier knows the 26
    letters, so ``num_classes`` must then be left out, as in torchvision)."""
    weights = TinyNet_Weights.verify(weights)
    if weights is not None:
        categories = len(weights.meta["categories"])
        if num_classes not in (None, categories):
            raise ValueError(f"the pretrained weights have {categories} classes, not {num_classes}: build it "
                             "with weights, then replace model.classifier")
        model = TinyNet(num_classes=categories)
        model.load_state_dict(weights.get_state_dict(progress=progress))
        return model
    return TinyNet(num_classes=num_classes or 26)
