"""MNIST-style digits drawn on the spot: 28x28 grayscale, white on black, labels 0-9.

Real MNIST needs a download. These are drawn by ``tutor.data.characters`` (Pillow's
built-in font with a random thickness, slant, angle and shift, framed like MNIST), so a
small CNN has something real to learn and the lessons work offline. The same seed
always draws the same digits.
"""

from __future__ import annotations

import random

from PIL import Image

from tutor.data.characters import SIDE, draw_character, draw_characters

DIGITS = tuple("0123456789")  # the label of a picture is its index here

__all__ = ["DIGITS", "SIDE", "draw_digit", "draw_digits"]


def draw_digit(digit: int, rng: random.Random) -> Image.Image:
    """One digit as a 28x28 "L" image, framed the way MNIST frames its digits."""
    return draw_character(str(digit), rng)


def draw_digits(n: int, seed: int = 0):
    """``n`` digits as tensors: images (n, 1, 28, 28) float32 in [0, 1], labels (n,) int64.

    The labels cycle through 0-9 in a shuffled order, so the classes are balanced.
    """
    return draw_characters(DIGITS, n, seed)
