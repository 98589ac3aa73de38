"""Cell code (run in a worker): a CUDA error without a GPU. A stand-in ``torch`` whose
``cuda.synchronize`` fails as a real one does after a device-side assert when
``cuda_stays_broken`` (set by the test before this code) is true; then the error."""

import sys
import types

MESSAGE = ("CUDA error: device-side assert triggered\nCUDA kernel errors might be asynchronously "
           "reported at some other API call, so the stacktrace below might be incorrect.\n")


class AcceleratorError(RuntimeError):
    pass


def synchronize():
    if cuda_stays_broken:  # noqa: F821 - set by the test
        raise AcceleratorError(MESSAGE)


torch = types.ModuleType("torch")
torch.cuda = types.SimpleNamespace(is_initialized=lambda: True, synchronize=synchronize)
sys.modules["torch"] = torch
kept = 41
raise AcceleratorError(MESSAGE)
