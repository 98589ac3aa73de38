"""Worker side: run a lesson slightly differently, to catch claims that hold by luck.

``tutor run LESSON --perturb K`` shifts every torch seed by K (``torch.manual_seed(s)``
seeds ``s + K``, and so do ``torch.cuda.manual_seed*`` and ``torch.Generator().
manual_seed``) and runs torch with another number of CPU threads (a different
reduction order, so slightly different sums). A lesson that passes only for one
random stream, or one summation order, would fail on a GPU's different numerics:
this finds it on the CPU. Imports torch only when ``apply`` runs (in the worker).
"""

from __future__ import annotations

import os
import threading

_SEED_RANGE = 2**64


def other_thread_count(current: int, cpus: int | None) -> int:
    """A thread count that differs from ``current`` and stays sensible for the machine."""
    if current > 1:
        return 1
    return max(2, min(4, cpus or 2))


def shifted(seed: object, shift: int) -> int:
    """``seed + shift``, kept in the range torch accepts."""
    return (int(seed) + shift) % _SEED_RANGE


def apply(shift: int) -> str:
    """Perturb this process's torch; returns what was done, in words."""
    import torch

    # torch.manual_seed seeds every device through torch.cuda.manual_seed_all (and MPS's):
    # those must not shift the seed a second time when called from it.
    inside = threading.local()

    def shifting(function, *, seeds_devices: bool = False):
        def manual_seed(seed):
            if getattr(inside, "shifted", False):
                return function(seed)
            if not seeds_devices:
                return function(shifted(seed, shift))
            inside.shifted = True
            try:
                return function(shifted(seed, shift))
            finally:
                inside.shifted = False

        manual_seed.__doc__ = function.__doc__
        manual_seed.__name__ = function.__name__
        manual_seed.__wrapped__ = function
        return manual_seed

    seed_everywhere = shifting(torch.random.manual_seed, seeds_devices=True)
    torch.manual_seed = seed_everywhere
    torch.random.manual_seed = seed_everywhere
    for module_name, names in (("cuda", ("manual_seed", "manual_seed_all")), ("mps", ("manual_seed",))):
        module = getattr(torch, module_name, None)
        for name in names:
            original = getattr(module, name, None)
            if original is not None:
                setattr(module, name, shifting(original))

    class Generator(torch.Generator):
        """torch.Generator whose manual_seed is shifted too (random_split, DataLoader)."""

        def manual_seed(self, seed):
            return super().manual_seed(shifted(seed, shift))

    Generator.__name__ = Generator.__qualname__ = "Generator"
    Generator.__module__ = "torch"
    torch.Generator = Generator

    before = torch.get_num_threads()
    threads = other_thread_count(before, os.cpu_count())
    torch.set_num_threads(threads)
    return (f"perturbed: every torch seed shifted by {shift}, "
            f"{threads} CPU thread{'s' if threads != 1 else ''} instead of {before}")
