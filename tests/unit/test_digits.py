"""The drawn MNIST-style digits of lesson 03's exercise."""

from __future__ import annotations

import random

import pytest

torch = pytest.importorskip("torch")

from tutor.data.digits import draw_digit, draw_digits  # noqa: E402


def test_shapes_types_and_range():
    images, labels = draw_digits(40, seed=3)
    assert images.shape == (40, 1, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (40,) and labels.dtype == torch.long
    assert images.min() >= 0 and images.max() <= 1


def test_classes_are_balanced_and_shuffled():
    _, labels = draw_digits(100, seed=0)
    assert torch.bincount(labels, minlength=10).tolist() == [10] * 10
    assert labels[:10].tolist() != list(range(10))


def test_same_seed_same_digits_other_seed_other_digits():
    a, la = draw_digits(20, seed=5)
    b, lb = draw_digits(20, seed=5)
    c, lc = draw_digits(20, seed=6)
    assert torch.equal(a, b) and torch.equal(la, lb)
    assert not torch.equal(a, c)


def test_every_digit_is_inked_and_framed_like_mnist():
    for digit in range(10):
        image = draw_digit(digit, random.Random(digit))
        assert image.size == (28, 28) and image.mode == "L"
        left, top, right, bottom = image.getbbox()
        # MNIST puts the digit in a 20x20 box near the middle; we allow the shift and blur.
        assert max(right - left, bottom - top) >= 16, f"digit {digit} is too small"
        assert left >= 0 and top >= 0 and right <= 28 and bottom <= 28
        assert max(image.tobytes()) > 150, f"digit {digit} has no bright strokes"


def test_digits_differ_from_each_other():
    rng = random.Random(0)
    drawn = {digit: sum(draw_digit(digit, rng).tobytes()) for digit in (1, 8)}
    # A 1 has far less ink than an 8.
    assert drawn[1] < 0.8 * drawn[8]
