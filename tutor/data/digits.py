"""MNIST-style digits drawn on the spot: 28x28 grayscale, white on black, labels 0-9.

Real MNIST needs a download. These are drawn with Pillow's built-in font with a random
thickness, slant, angle and shift, then framed like MNIST (the digit scaled into a
20x20 box in the middle of 28x28), so a small CNN has something real to learn and the
lesson works offline. The same seed always draws the same digits.
"""

from __future__ import annotations

import functools
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIDE = 28
_CANVAS = 2 * SIDE  # draw at twice the size, then shrink: smoother strokes


@functools.lru_cache(maxsize=4)
def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only a small bitmap font
        return ImageFont.load_default()


def draw_digit(digit: int, rng: random.Random) -> Image.Image:
    """One digit as a 28x28 "L" image, framed the way MNIST frames its digits."""
    canvas = Image.new("L", (_CANVAS, _CANVAS), 0)
    draw = ImageDraw.Draw(canvas)
    font = _font(40)
    draw.text((8, 4), str(digit), fill=255, font=font, stroke_width=rng.choice((0, 1, 2, 3)), stroke_fill=255)
    # Slant and rotate a little, like handwriting.
    shear = rng.uniform(-0.3, 0.3)
    canvas = canvas.transform(canvas.size, Image.Transform.AFFINE, (1, shear, -shear * _CANVAS / 2, 0, 1, 0))
    canvas = canvas.rotate(rng.uniform(-15, 15), resample=Image.Resampling.BILINEAR)
    # MNIST's framing: the digit fits a 20x20 box, centred in 28x28 (we add a small shift).
    digit_only = canvas.crop(canvas.getbbox())
    scale = 20 / max(digit_only.size)
    width, height = (max(1, round(side * scale)) for side in digit_only.size)
    digit_only = digit_only.resize((width, height), Image.Resampling.LANCZOS)
    image = Image.new("L", (SIDE, SIDE), 0)
    x = (SIDE - width) // 2 + rng.randint(-2, 2)
    y = (SIDE - height) // 2 + rng.randint(-2, 2)
    image.paste(digit_only, (x, y))
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 0.6)))


def draw_digits(n: int, seed: int = 0):
    """``n`` digits as tensors: images (n, 1, 28, 28) float32 in [0, 1], labels (n,) int64.

    The labels cycle through 0-9 in a shuffled order, so the classes are balanced.
    """
    import torch

    rng = random.Random(seed)
    labels = [i % 10 for i in range(n)]
    rng.shuffle(labels)
    pixels = b"".join(draw_digit(label, rng).tobytes() for label in labels)
    images = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(n, 1, SIDE, SIDE)
    return images.float() / 255, torch.tensor(labels, dtype=torch.long)
