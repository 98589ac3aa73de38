"""Which pretrained model lesson 06 uses, with or without the internet.

torchvision's route is ``models.efficientnet_b0(weights="DEFAULT")``: ImageNet weights
(21 MB) that torch keeps in its hub cache (``$TORCH_HOME/hub/checkpoints``) once
downloaded. ``choose_backbone()`` returns a :class:`Backbone` saying which one a lesson
gets and why:

1. ``efficientnet``: the weights are in the hub cache, or can be downloaded there
   (not when ``TUTOR_OFFLINE=1``; a short socket timeout, and a failed download leaves
   nothing behind);
2. ``shipped``: otherwise, the small TinyNet that ships with tutor
   (``assets/pretrained/``, trained on drawn letters by ``make_backbone.py``).

``describe_choice()`` says the same without downloading anything (``tutor doctor``).
Nothing here imports torch unless it downloads; the model itself is in
``tutor.data.tinynet``.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from tutor import config
from tutor.data.fashion_mnist import offline_requested

SHIPPED_FOLDER = "pretrained"
SHIPPED_NAME = "tinynet_letters.pth"
META_NAME = "tinynet_letters.json"
# torchvision's EfficientNet_B0_Weights.IMAGENET1K_V1 (tests check it against torchvision).
EFFICIENTNET_URL = "https://download.pytorch.org/models/efficientnet_b0_rwightman-7f5810bc.pth"
EFFICIENTNET_MB = 20.5
DOWNLOAD_TIMEOUT = 10.0


def shipped_folder() -> Path:
    return config.assets_dir() / SHIPPED_FOLDER


SHIPPED_WEIGHTS = shipped_folder() / SHIPPED_NAME


def shipped_meta() -> dict:
    """What make_backbone.py wrote about the shipped weights (classes, accuracy, ...)."""
    return json.loads((shipped_folder() / META_NAME).read_text(encoding="utf-8"))


def torch_hub_dir() -> Path:
    """torch.hub.get_dir() without importing torch: ``$TORCH_HOME/hub``, where
    TORCH_HOME defaults to ``$XDG_CACHE_HOME/torch`` (``~/.cache/torch``)."""
    cache = os.environ.get("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    return Path(os.path.expanduser(os.environ.get("TORCH_HOME", os.path.join(cache, "torch")))) / "hub"


def efficientnet_file() -> Path:
    """Where torchvision keeps (or will keep) EfficientNet-B0's ImageNet weights."""
    return torch_hub_dir() / "checkpoints" / EFFICIENTNET_URL.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Backbone:
    """The pretrained model a lesson uses: ``kind`` "efficientnet" or "shipped", and why."""

    kind: str
    note: str

    @property
    def is_efficientnet(self) -> bool:
        return self.kind == "efficientnet"

    def __str__(self) -> str:
        return self.note


def _shipped(reason: str) -> Backbone:
    return Backbone("shipped", f"{reason}, so this lesson uses the TinyNet that ships with tutor "
                               f"({SHIPPED_WEIGHTS}), trained on drawn letters. The code is the same.")


def choose_backbone(*, download: bool | None = None, timeout: float = DOWNLOAD_TIMEOUT) -> Backbone:
    """EfficientNet-B0 with ImageNet weights when they are cached or can be downloaded,
    else the shipped TinyNet (see the module docstring)."""
    cached = efficientnet_file()
    if cached.is_file():
        return Backbone("efficientnet", f"Using torchvision's EfficientNet-B0 with ImageNet weights, found in {cached}.")
    if download is None:
        download = not offline_requested()
    if not download:
        return _shipped(f"EfficientNet-B0's ImageNet weights are not in the torch hub cache ({cached}) "
                        "and downloads are off (TUTOR_OFFLINE=1)")
    try:
        fetch_efficientnet(timeout=timeout)
    except Exception as error:  # noqa: BLE001 - any failure means: use the shipped model
        return _shipped(f"EfficientNet-B0's ImageNet weights are not in the torch hub cache ({cached}) "
                        f"and the download failed ({_short(error)})")
    return Backbone("efficientnet", f"Downloaded EfficientNet-B0's ImageNet weights into {cached}; using them.")


def fetch_efficientnet(*, timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    """Download the weights into the hub cache, as torchvision would (hash checked).
    On failure nothing is left behind (torch downloads to a temporary file first)."""
    from torch.hub import load_state_dict_from_url

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        load_state_dict_from_url(EFFICIENTNET_URL, progress=False, check_hash=True, map_location="cpu")
    finally:
        socket.setdefaulttimeout(previous)
    return efficientnet_file()


def describe_choice() -> tuple[str, bool]:
    """What lesson 06 would use here, without downloading: (finding, ok)."""
    shipped_ok = SHIPPED_WEIGHTS.is_file() and (shipped_folder() / META_NAME).is_file()
    shipped = (f"the shipped TinyNet ({SHIPPED_WEIGHTS}, {SHIPPED_WEIGHTS.stat().st_size // 1024} KiB)"
               if shipped_ok else f"NOTHING: the shipped TinyNet is missing from {shipped_folder()}")
    cached = efficientnet_file()
    if cached.is_file():
        return f"lesson 06 uses EfficientNet-B0's ImageNet weights from the torch hub cache ({cached})", True
    if offline_requested():
        return (f"lesson 06 uses {shipped}: EfficientNet-B0's ImageNet weights are not in the torch hub "
                f"cache ({cached}) and TUTOR_OFFLINE is set"), shipped_ok
    return (f"lesson 06 tries to download EfficientNet-B0's ImageNet weights ({EFFICIENTNET_MB:g} MB) into "
            f"{cached}, else uses {shipped}"), shipped_ok


def _short(error: BaseException) -> str:
    text = str(getattr(error, "reason", None) or error).strip().splitlines()
    line = text[-1] if text else type(error).__name__
    return line if len(line) <= 100 else line[:97] + "..."
