"""A stand-in for torch, for warm-up tests without the real one (tests/fakes/fake_torch
goes first on the worker's PYTHONPATH). Everything the warm-up touches answers with
``Anything``; the warm-up's first ``linspace`` waits FAKE_TORCH_WARMUP_SECONDS, and
raises when FAKE_TORCH_WARMUP is "fail". ``torch.rand`` counts its calls in
``draws`` (the learner's random stream)."""

from __future__ import annotations

import os
import time

__version__ = "0.0-fake"
draws = 0


class Anything:
    def __init__(self, *args, **kwargs) -> None:
        pass

    def __getattr__(self, name):
        return Anything()

    def __call__(self, *args, **kwargs):
        return Anything()

    def __iter__(self):
        return iter(())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __eq__(self, other):
        return False

    __hash__ = object.__hash__

    def __add__(self, other):
        return Anything()

    __radd__ = __mod__ = __mul__ = __add__


def linspace(*args, **kwargs):
    if os.environ.get("FAKE_TORCH_WARMUP") == "fail":
        raise RuntimeError("fake warm-up failure")
    time.sleep(float(os.environ.get("FAKE_TORCH_WARMUP_SECONDS", "0")))
    return Anything()


def rand(*shape):
    global draws
    draws += 1
    return [0.5] * (shape[0] if shape else 1)


def get_num_threads() -> int:
    return 2


device = arange = relu = no_grad = inference_mode = Anything
nn = optim = Anything()


def __getattr__(name):  # anything else the warm-up may touch
    return Anything()


class cuda:
    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def is_initialized() -> bool:
        return False


class backends:
    mps = None
