"""Worker side: turn what learner code passes to ``tutor.live`` into plain data.

Accepts lists, NumPy arrays, tensors on any device and PIL images. torch and NumPy
are used only when the value is one of theirs (nothing is imported up front).
"""

from __future__ import annotations

import math
from typing import Any

from tutor.thinning import thin

MAX_POINTS = 2000  # a series is thinned to about this many points (tutor.charts.thin)
MAX_IMAGES = 64
MAX_SIDE = 64


def _plain(value: Any) -> Any:
    """A tensor or array as nested lists; anything else unchanged."""
    if hasattr(value, "detach"):  # torch.Tensor
        return value.detach().cpu().tolist()
    if hasattr(value, "tolist") and hasattr(value, "shape"):  # NumPy
        return value.tolist()
    return value


def _flatten(value: Any) -> list:
    value = _plain(value)
    if isinstance(value, (list, tuple)):
        out: list = []
        for item in value:
            if isinstance(item, (list, tuple)) or hasattr(item, "shape"):
                out.extend(_flatten(item))
            else:
                out.append(item)
        return out
    if hasattr(value, "__iter__") and not isinstance(value, (str, bytes)):
        return _flatten(list(value))
    return [value]


def to_number(value: Any) -> float:
    kind = type(value)
    if kind is float or kind is int:  # the common case, called every training step
        return float(value)
    if hasattr(value, "item"):
        value = value.item()
    return float(value)


def to_floats(value: Any) -> list[float]:
    return [to_number(v) for v in _flatten(value)]


def series_data(x: Any, y: Any) -> tuple[list[float], list[float]]:
    if y is None:
        ys = to_floats(x)
        xs = [float(i) for i in range(len(ys))]
    else:
        xs, ys = to_floats(x), to_floats(y)
        if len(xs) != len(ys):
            raise ValueError(f"x has {len(xs)} values but y has {len(ys)}: they must match")
    ys = [v if math.isfinite(v) else math.nan for v in ys]
    return thin(xs, ys, MAX_POINTS)


# -- images ----------------------------------------------------------------------------

def _as_array(item: Any):
    import numpy as np

    if hasattr(item, "detach"):
        item = item.detach().cpu()
        if item.dtype.is_floating_point or item.dtype.is_complex:
            item = item.float()
        return item.numpy()
    if hasattr(item, "getbands"):  # PIL image
        return np.asarray(item.convert("RGB" if item.mode not in ("L", "RGB") else item.mode))
    return np.asarray(item)


def _split_batch(batch: Any, count: int | None) -> list:
    """A batch as a list of single images (each an array H x W, C x H x W or H x W x C).

    A 3-D array is a batch N x H x W, unless it is one H x W x 3 (or 4) image; with
    labels, their number decides. Pass one C x H x W image as ``[image]``.
    """
    if isinstance(batch, (list, tuple)):
        return [_as_array(item) for item in batch]
    array = _as_array(batch)
    if array.ndim == 2:
        return [array]
    if array.ndim == 3:
        if count is not None:
            return list(array) if count == array.shape[0] else [array]
        if array.shape[-1] in (3, 4) and array.shape[0] not in (3, 4):
            return [array]
        return list(array)
    if array.ndim == 4:
        return list(array)
    raise ValueError(f"live.images: cannot read an array of shape {tuple(array.shape)} as images "
                     "(expected N x C x H x W, N x H x W, or one image)")


def _to_pixels(array) -> tuple[int, int, str, bytes]:
    import numpy as np
    from PIL import Image as PILImage

    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = np.moveaxis(array, 0, -1)  # C x H x W -> H x W x C
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[-1] == 4:
        array = array[..., :3]
    if array.ndim not in (2, 3):
        raise ValueError(f"live.images: an image of shape {tuple(array.shape)} is not H x W or H x W x C")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif array.dtype.kind == "f":
        finite = np.nan_to_num(array.astype(np.float32))
        low, high = float(finite.min()), float(finite.max())
        if low >= 0.0 and high <= 1.0:
            array = finite * 255.0
        elif high > low:  # normalised data: stretch to the full range
            array = (finite - low) * (255.0 / (high - low))
        else:
            array = np.zeros_like(finite)
        array = np.clip(array + 0.5, 0, 255).astype(np.uint8)
    else:
        array = np.clip(array, 0, 255).astype(np.uint8)
    mode = "L" if array.ndim == 2 else "RGB"
    image = PILImage.fromarray(np.ascontiguousarray(array))
    if max(image.size) > MAX_SIDE:
        scale = MAX_SIDE / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, PILImage.BOX)
    return image.width, image.height, mode, image.tobytes()


def _label_text(label: Any) -> str:
    label = _plain(label)
    return str(label)


def to_images(batch: Any, labels: Any = None) -> list[tuple[int, int, str, bytes, str | None]]:
    """At most MAX_IMAGES images of at most MAX_SIDE pixels a side, as uint8 pixels."""
    flat = None
    if labels is not None:
        flat = _plain(labels)
        flat = [flat] if isinstance(flat, (str, int, float)) else list(flat)
    items = _split_batch(batch, None if flat is None else len(flat))[:MAX_IMAGES]
    names: list[str | None] = [None] * len(items)
    for i, label in enumerate((flat or [])[:len(items)]):
        names[i] = _label_text(label)
    return [(*_to_pixels(item), names[i]) for i, item in enumerate(items)]
