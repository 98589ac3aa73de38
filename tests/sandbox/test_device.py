"""Device choice, GPU memory and CUDA out-of-memory advice: with a fake ``torch``
module here (no GPU needed), and on a real GPU where there is one (``gpu`` mark)."""

from __future__ import annotations

import sys
import types

import pytest
from sandbox_helpers import run

from tutor.sandbox import advice, device


def fake_torch(*, cuda: bool = False, mps: bool = False, allocated: int = 0) -> types.ModuleType:
    torch = types.ModuleType("torch")
    props = types.SimpleNamespace(name="Fake GPU 80GB", total_memory=80 * 2**30)
    torch.cuda = types.SimpleNamespace(
        is_available=lambda: cuda, current_device=lambda: 0, get_device_properties=lambda i: props,
        is_initialized=lambda: cuda, memory_allocated=lambda: allocated, memory_reserved=lambda: 2 * allocated,
        mem_get_info=lambda: (60 * 2**30, 80 * 2**30),
    )
    torch.backends = types.SimpleNamespace(mps=types.SimpleNamespace(is_available=lambda: mps))
    return torch


@pytest.mark.parametrize("setting, cuda, mps, expected, note", [
    ("auto", True, True, "cuda:0", None),
    ("auto", False, True, "mps", None),
    ("auto", False, False, "cpu", None),
    ("cuda", False, False, "cpu", "CUDA was asked for"),
    ("mps", True, False, "cpu", "MPS was asked for"),
    ("cpu", True, True, "cpu", None),
])
def test_device_choice(monkeypatch, setting, cuda, mps, expected, note):
    monkeypatch.setitem(sys.modules, "torch", fake_torch(cuda=cuda, mps=mps))
    choice = device.choose_device(setting)
    assert choice.device == expected
    assert (choice.note or "").startswith(note or "")
    if expected == "cuda:0":
        assert choice.name == "Fake GPU 80GB" and choice.gpu_total == 80 * 2**30


def test_gpu_memory_only_once_cuda_is_in_use(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", fake_torch(cuda=True, allocated=3 * 2**20))
    assert device.gpu_memory() == (3 * 2**20, 6 * 2**20)
    monkeypatch.setitem(sys.modules, "torch", fake_torch(cuda=False))
    assert device.gpu_memory() == (None, None)


def test_cuda_out_of_memory_gets_advice(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", fake_torch(cuda=True, allocated=2**30))
    error_class = type("OutOfMemoryError", (RuntimeError,), {"__module__": "torch"})
    tip = advice.advice_for(error_class("CUDA out of memory. Tried to allocate 20.00 GiB"))
    assert tip.startswith("The GPU ran out of memory (20.0 GiB of 80.0 GiB in use, 2.0 GiB held by PyTorch)")
    assert "smaller batch size" in tip and "torch.cuda.empty_cache()" in tip


def test_cpu_out_of_memory_names_the_limit():
    tip = advice.advice_for(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 GB"),
                            memory_limit=4 * 2**30)
    assert "limit is 4.0 GiB" in tip


def test_cpu_setting_hides_gpus_from_lesson_code():
    assert device.hide_gpus_for("cpu") == {"CUDA_VISIBLE_DEVICES": ""}
    assert device.hide_gpus_for("auto") == {}


async def test_the_worker_gets_the_device_environment(make_client):
    client = await make_client(device="cpu")
    cell = await run(client, "import os\nprint(repr(os.environ.get('CUDA_VISIBLE_DEVICES')), os.environ['MPLBACKEND'])")
    assert cell.stdout == "'' Agg\n"


@pytest.mark.gpu
async def test_real_gpu_is_chosen_and_reported(make_client):
    from tutor.sandbox.events import ResourcesMeasured

    measured = []
    client = await make_client(prewarm=True, on_event=lambda e: isinstance(e, ResourcesMeasured) and measured.append(e))
    await client.ready.wait()
    assert client.info.device.startswith("cuda") and client.info.gpu_total > 0
    cell = await run(client, "import torch, time\nx = torch.ones(1024, 1024, device='cuda')\ntime.sleep(2.5)\n"
                             "print(torch.cuda.is_available())")
    assert cell.stdout == "True\n"
    assert any(m.gpu_allocated for m in measured)
    cell = await run(client, "big = torch.empty(10**14, device='cuda')")
    assert cell.failure.ename == "OutOfMemoryError" and "The GPU ran out of memory" in cell.failure.advice
    assert (await run(client, "x.sum().item()")).stdout == "1048576.0\n"  # variables kept
