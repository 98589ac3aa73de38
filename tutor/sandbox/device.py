"""Worker side: choose the device, read GPU memory. torch is imported only when these
functions run (in the worker, never in the client). The warm-up is in warmup.py.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceChoice:
    device: str  # "cuda:0", "mps", "cpu"
    name: str
    gpu_total: int | None
    note: str | None  # e.g. why the asked-for device is not used


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def choose_device(setting: str) -> DeviceChoice:
    """``auto``: CUDA, then MPS, then the CPU; ``cuda``/``mps`` fall back to the CPU
    with a note when absent."""
    import torch

    note = None
    if setting in ("auto", "cuda"):
        if torch.cuda.is_available():
            index = torch.cuda.current_device()
            props = torch.cuda.get_device_properties(index)
            return DeviceChoice(f"cuda:{index}", props.name, int(props.total_memory), None)
        if setting == "cuda":
            note = "CUDA was asked for but PyTorch sees no CUDA device: running on the CPU."
    if setting in ("auto", "mps"):
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return DeviceChoice("mps", "Apple GPU (MPS)", None, None)
        if setting == "mps":
            note = "MPS was asked for but is not available: running on the CPU."
    return DeviceChoice("cpu", cpu_name(), None, note)


def hide_gpus_for(setting: str) -> dict[str, str]:
    """Environment for a worker that must not use CUDA (``--device cpu``), so lesson
    code that asks ``torch.cuda.is_available()`` gets the same answer."""
    return {"CUDA_VISIBLE_DEVICES": ""} if setting in ("cpu", "mps") else {}


def gpu_memory() -> tuple[int | None, int | None]:
    """(allocated, reserved) on the current CUDA device, if CUDA is in use."""
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        return None, None
    try:
        if not torch.cuda.is_initialized():
            return None, None
        return int(torch.cuda.memory_allocated()), int(torch.cuda.memory_reserved())
    except Exception:
        return None, None


def cuda_lost(err: BaseException) -> bool:
    """Whether CUDA is broken for good in this process after ``err``. Some CUDA errors (a
    device-side assert, an illegal memory access) are sticky: every later CUDA call in
    the process fails the same way, so the worker must be replaced. Only errors that
    speak of CUDA are looked at; a lost context fails even a bare synchronize."""
    import sys

    torch = sys.modules.get("torch")
    try:
        if torch is None or not (type(err).__name__ == "AcceleratorError" or "CUDA error" in str(err)):
            return False
        if not torch.cuda.is_initialized():
            return False
    except Exception:  # a learner's exception whose str() raises
        return False
    try:
        torch.cuda.synchronize()
    except Exception:
        return True
    return False


def torch_environment(setting: str) -> dict[str, str]:
    env = hide_gpus_for(setting)
    env.setdefault("MPLBACKEND", "Agg")  # plt.show() must not try to open a window
    return env


def set_chosen(choice: DeviceChoice) -> None:
    os.environ["TUTOR_WORKER_DEVICE"] = choice.device.split(":")[0]
