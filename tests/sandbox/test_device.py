"""Device choice, GPU memory and CUDA out-of-memory advice: with a fake ``torch``
module here (no GPU needed), and on a real GPU where there is one (``gpu`` mark)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

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


DEVICE_ASSERT = ("CUDA error: device-side assert triggered\nCUDA kernel errors might be asynchronously "
                 "reported at some other API call, so the stacktrace below might be incorrect.\n")


@pytest.mark.parametrize("message, expected", [
    (DEVICE_ASSERT, advice.DEVICE_ASSERT),
    ("CUDA error: an illegal memory access was encountered\n", advice.ILLEGAL_ACCESS),
])
def test_cuda_kernel_errors_get_advice(message, expected):
    error_class = type("AcceleratorError", (RuntimeError,), {"__module__": "torch"})
    tip = advice.advice_for(error_class(message))
    assert tip == expected and "run the same code on the CPU" in tip


def test_a_sticky_cuda_error_is_told_apart_by_a_synchronize(monkeypatch):
    torch = fake_torch(cuda=True)
    synchronized = []

    def synchronize(broken: bool) -> None:
        synchronized.append(broken)
        if broken:
            raise RuntimeError(DEVICE_ASSERT)

    monkeypatch.setitem(sys.modules, "torch", torch)
    torch.cuda.synchronize = lambda: synchronize(True)
    assert device.cuda_lost(RuntimeError(DEVICE_ASSERT))
    assert not device.cuda_lost(ValueError("a learner's own error"))  # not about CUDA: not even looked at
    assert synchronized == [True]
    torch.cuda.synchronize = lambda: synchronize(False)
    assert not device.cuda_lost(RuntimeError("CUDA error: out of memory"))  # CUDA still works
    torch.cuda.is_initialized = lambda: False
    assert not device.cuda_lost(RuntimeError(DEVICE_ASSERT))  # this process never used CUDA
    monkeypatch.delitem(sys.modules, "torch")
    assert not device.cuda_lost(RuntimeError(DEVICE_ASSERT))


def broken_cuda(stays_broken: bool) -> str:
    """A cell that raises a CUDA error without a GPU (tests/fakes/broken_cuda.py)."""
    fake = Path(__file__).resolve().parents[1] / "fakes" / "broken_cuda.py"
    return f"cuda_stays_broken = {stays_broken}\n" + fake.read_text()


async def test_a_worker_whose_cuda_is_lost_is_replaced_and_the_cell_says_so(make_client):
    from tutor.sandbox import reasons
    from tutor.sandbox.events import WorkerState, WorkerStateChanged

    states = []
    client = await make_client(on_event=lambda e: isinstance(e, WorkerStateChanged) and states.append(e))
    for attempt in range(4):  # more than the restart limit: each is the cell's doing
        first = (await run(client, "print('up')")).status
        pid = client.info.pid
        cell = await run(client, broken_cuda(True))
        assert (first, cell.status, cell.failure.ename) == ("ok", "error", "AcceleratorError")
        assert cell.failure.advice == advice.DEVICE_ASSERT
        assert cell.finished.state_lost and cell.reason == reasons.GPU_LOST
        after = await run(client, "print(kept)")
        assert after.failure.ename == "NameError", attempt  # a fresh worker: variables lost
        assert client.info.pid != pid and client.state is WorkerState.READY
    assert [s.reason for s in states if s.state is WorkerState.RESTARTING] == [reasons.GPU_LOST] * 4
    assert not [s for s in states if s.state is WorkerState.CRASHED]


async def test_a_cuda_error_that_leaves_cuda_working_keeps_the_worker(make_client):
    client = await make_client()
    await run(client, "print('up')")
    pid = client.info.pid
    cell = await run(client, broken_cuda(False))
    assert cell.status == "error" and not cell.finished.state_lost and cell.reason is None
    assert (await run(client, "print(kept)")).stdout == "41\n" and client.info.pid == pid


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


@pytest.mark.gpu
async def test_a_real_device_side_assert_gets_advice_and_a_fresh_worker(make_client):
    from tutor.sandbox import reasons

    client = await make_client(device="cuda")
    cell = await run(client, "import torch\nfrom torch import nn\nlogits = torch.randn(8, 3, device='cuda')\n"
                             "labels = torch.arange(8, device='cuda')  # 3..7 are not classes\n"
                             "loss = nn.CrossEntropyLoss()(logits, labels)\nprint(loss.item())\n")
    assert cell.failure.advice == advice.DEVICE_ASSERT
    assert cell.finished.state_lost and cell.reason == reasons.GPU_LOST
    after = await run(client, "import torch\nprint(torch.ones(3, device='cuda').sum().item(), 'logits' in dir())")
    assert after.stdout == "3.0 False\n"


@pytest.mark.gpu
async def test_interrupting_a_gpu_loop_keeps_the_worker_and_its_tensors(make_client):
    client = await make_client(device="cuda")
    await run(client, "import torch\nw = torch.eye(2048, device='cuda')\nsteps = 0")
    events = []
    async for event in client.execute("while True:\n    w = (w @ w).clamp(max=1.0)\n    steps += 1\n"
                                      "    if steps == 200: print('going', flush=True)\n"):
        events.append(event)
        if getattr(event, "text", "") == "going\n":
            await client.interrupt()
    assert events[-1].status == "interrupted" and not events[-1].state_lost
    after = await run(client, "print(w.device, steps >= 200, torch.ones(2, device='cuda').sum().item())")
    assert after.stdout == "cuda:0 True 2.0\n"
