"""Characters drawn on the spot, MNIST-style: 28x28 grayscale, white on black.

Each character is drawn with Pillow's built-in font with a random thickness, slant,
angle and shift, then framed like MNIST (scaled into a 20x20 box in the middle of
28x28), so a small CNN has something real to learn and the lessons work offline.
The same seed always draws the same pictures.

- ``tutor.data.digits``: the digits 0-9 (lesson 03; the new task of lesson 06);
- ``draw_letters``: the capital letters A-Z, what lesson 06's shipped pretrained
  model learned to read (``assets/pretrained/make_backbone.py``).
"""

from __future__ import annotations

import functools
import random
import string
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIDE = 28
LETTERS = tuple(string.ascii_uppercase)
_CANVAS = 2 * SIDE  # draw at twice the size, then shrink: smoother strokes


@functools.lru_cache(maxsize=4)
def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only a small bitmap font
        return ImageFont.load_default()


def draw_character(text: str, rng: random.Random) -> Image.Image:
    """One character as a 28x28 "L" image, framed the way MNIST frames its digits."""
    canvas = Image.new("L", (_CANVAS, _CANVAS), 0)
    draw = ImageDraw.Draw(canvas)
    font = _font(40)
    draw.text((8, 4), text, fill=255, font=font, stroke_width=rng.choice((0, 1, 2, 3)), stroke_fill=255)
    # Slant and rotate a little, like handwriting.
    shear = rng.uniform(-0.3, 0.3)
    canvas = canvas.transform(canvas.size, Image.Transform.AFFINE, (1, shear, -shear * _CANVAS / 2, 0, 1, 0))
    canvas = canvas.rotate(rng.uniform(-15, 15), resample=Image.Resampling.BILINEAR)
    # MNIST's framing: the character fits a 20x20 box, centred in 28x28 (plus a small shift).
    character = canvas.crop(canvas.getbbox())
    scale = 20 / max(character.size)
    width, height = (max(1, round(side * scale)) for side in character.size)
    character = character.resize((width, height), Image.Resampling.LANCZOS)
    image = Image.new("L", (SIDE, SIDE), 0)
    x = (SIDE - width) // 2 + rng.randint(-2, 2)
    y = (SIDE - height) // 2 + rng.randint(-2, 2)
    image.paste(character, (x, y))
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 0.6)))


def draw_characters(symbols: Sequence[str], n: int, seed: int = 0):
    """``n`` pictures of ``symbols`` as tensors: images (n, 1, 28, 28) float32 in [0, 1]
    and labels (n,) int64, the index of each picture's symbol. The labels cycle through
    the symbols in a shuffled order, so the classes are balanced."""
    import torch

    rng = random.Random(seed)
    labels = [i % len(symbols) for i in range(n)]
    rng.shuffle(labels)
    pixels = b"".join(draw_character(symbols[label], rng).tobytes() for label in labels)
    images = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(n, 1, SIDE, SIDE)
    return images.float() / 255, torch.tensor(labels, dtype=torch.long)


def draw_letters(n: int, seed: int = 0):
    """``n`` capital letters: images (n, 1, 28, 28) in [0, 1], labels 0-25 (A-Z)."""
    return draw_characters(LETTERS, n, seed)
