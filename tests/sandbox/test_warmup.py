"""Issue 10 section 3: the worker is ready once torch is imported; the warm-up runs in a
background thread and reports warming, warm or failed, never killing the worker and
never disturbing a cell that runs meanwhile.

The thread on its own, the real worker with a fake torch (tests/fakes/fake_torch),
and (slow) the real worker with the real torch: the warm-up must not consume the
learner's random stream nor change torch's settings."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sandbox_helpers import StateLog, run, wait_state

from tutor.sandbox import warmup
from tutor.sandbox.events import WarmupChanged, WorkerState
from tutor.sandbox.spawn import PACKAGE_ROOT

pytestmark = pytest.mark.timeout(120)

FAKE_TORCH = str(Path(__file__).resolve().parents[1] / "fakes" / "fake_torch")


# -- the thread alone ---------------------------------------------------------------------

def test_the_thread_reports_warming_then_warm():
    reports, gate = [], threading.Event()
    warm = warmup.WarmUp("torch", "cpu", lambda state, detail: reports.append((state, detail)),
                         run=lambda torch, device: gate.wait(5))
    warm.start()
    assert reports == [("warming", None)] and warm.state == "warming" and warm.thread.is_alive()
    gate.set()
    warm.wait(5)
    assert [state for state, _ in reports] == ["warming", "warm"] and warm.state == "warm"
    assert float(reports[-1][1]) >= 0


def test_a_failing_warm_up_is_reported_not_raised():
    reports = []

    def broken(torch, device):
        raise RuntimeError("no kernels")

    warm = warmup.WarmUp("torch", "cuda:0", lambda state, detail: reports.append((state, detail)), run=broken)
    warm.start()
    warm.wait(5)
    assert reports[-1] == ("failed", "RuntimeError: no kernels") and warm.state == "failed"


def test_the_warm_up_exercises_what_the_course_uses():
    """Against the fake torch: every layer, loss and optimizer the issue names is called."""
    calls = []

    class Recorder:
        def __init__(self, name="torch"):
            self.name = name

        def __getattr__(self, name):
            return Recorder(f"{self.name}.{name}")

        def __call__(self, *args, **kwargs):
            calls.append(self.name)
            for arg in args:  # skip_init(module_class, ...) calls the class
                if isinstance(arg, Recorder):
                    calls.append(arg.name)
            return Recorder(f"{self.name}()")

        def __iter__(self):
            return iter(())

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def __add__(self, other):
            return self

        __mod__ = __radd__ = __add__

    warmup.exercise(Recorder(), "cpu")
    for name in ("torch.nn.Conv2d", "torch.nn.BatchNorm2d", "torch.nn.Linear", "torch.nn.functional.max_pool2d",
                 "torch.relu", "torch.nn.functional.cross_entropy",
                 "torch.nn.functional.binary_cross_entropy_with_logits", "torch.optim.SGD", "torch.optim.Adam",
                 "torch.optim.AdamW"):
        assert name in calls, name
    assert not any(name.endswith(("manual_seed", "set_num_threads", "use_deterministic_algorithms"))
                   for name in calls)
    assert not any(".rand" in name for name in calls)  # no random numbers drawn


# -- the real worker with a fake torch ------------------------------------------------------

def fake_torch(**env: str) -> dict:
    return {"prewarm": True, "env": {"PYTHONPATH": os.pathsep.join([FAKE_TORCH, PACKAGE_ROOT]), **env}}


async def test_ready_comes_before_the_warm_up_ends(make_client):
    log = StateLog()
    started = time.monotonic()
    client = await make_client(on_event=log, **fake_torch(FAKE_TORCH_WARMUP_SECONDS="3"))
    await client.ready.wait()
    assert time.monotonic() - started < 3.0  # not waiting for the 3 s warm-up
    assert client.info.torch_version == "0.0-fake" and client.warmup == "warming"
    # a cell that uses torch meanwhile just runs, and draws from its own random stream
    cell = await run(client, "import torch\nprint(torch.rand(3), torch.draws)")
    assert cell.status == "ok" and cell.stdout == "[0.5, 0.5, 0.5] 1\n", cell.events
    assert client.warmup == "warming" and cell.finished.threads == ()  # the warm-up is not the cell's thread
    await wait_until(lambda: client.warmup == "warm", 10)
    changes = [e for e in log.events if isinstance(e, WarmupChanged)]
    assert [e.state for e in changes] == ["warming", "warm"] and float(changes[-1].detail) >= 2.5
    await client.shutdown()
    assert client.warmup is None  # it was the stopped worker's


async def test_a_failed_warm_up_is_reported_and_the_worker_works(make_client):
    log = StateLog()
    client = await make_client(on_event=log, **fake_torch(FAKE_TORCH_WARMUP="fail"))
    await wait_until(lambda: client.warmup == "failed", 20)
    failed = [e for e in log.events if isinstance(e, WarmupChanged)][-1]
    assert failed.state == "failed" and failed.detail == "RuntimeError: fake warm-up failure"
    assert client.state is WorkerState.READY
    assert (await run(client, "import torch\nprint(torch.__version__)")).stdout == "0.0-fake\n"


async def test_a_fork_waits_for_the_warm_up(make_client):
    client = await make_client(**fake_torch(FAKE_TORCH_WARMUP_SECONDS="3"))
    await client.ready.wait()
    cell = await run(client, "import os, time\nstarted = time.time()\npid = os.fork()\nif pid == 0:\n"
                             "    os._exit(0)\nos.waitpid(pid, 0)\nprint(time.time() - started > 0.5)")
    assert cell.status == "ok" and cell.stdout == "True\n", cell.events  # it waited for the warm-up
    await wait_until(lambda: client.warmup == "warm", 5)


async def wait_until(predicate, seconds: float) -> None:
    import asyncio

    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


# -- the real torch (slow) ------------------------------------------------------------------

SETTINGS = ("import torch\nprint(torch.get_num_threads(), torch.get_num_interop_threads(), torch.get_default_dtype(), "
            "torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark, torch.is_grad_enabled(), "
            "torch.get_float32_matmul_precision())")
# The default generator has not moved since the process seeded it (the seed differs per process).
UNTOUCHED = ("import torch\nfresh = torch.Generator().manual_seed(torch.initial_seed())\n"
             "print(torch.equal(torch.rand(1000), torch.rand(1000, generator=fresh)))")


@pytest.mark.slow
async def test_the_real_warm_up_leaves_the_random_stream_and_settings_alone(make_client, tmp_path):
    fresh = subprocess.run([sys.executable, "-c", SETTINGS], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert fresh.returncode == 0, fresh.stderr
    log = StateLog()
    client = await make_client(on_event=log, prewarm=True, device="cpu")
    await client.ready.wait()
    # at once, while it may still be warming up: a seeded stream is the seed's alone
    during = await run(client, "import torch\ntorch.manual_seed(0)\nseeded = torch.rand(1000)\n"
                               "print(torch.equal(seeded, torch.rand(1000, generator=torch.Generator().manual_seed(0))))")
    assert during.stdout == "True\n", during.events
    await wait_until(lambda: client.warmup in ("warm", "failed"), 120)
    assert client.warmup == "warm", [e for e in log.events if isinstance(e, WarmupChanged)]
    # a fresh worker, once warm: its default stream was never drawn from, its settings are torch's own
    await client.restart()
    await client.ready.wait()
    await wait_until(lambda: client.warmup in ("warm", "failed"), 120)
    assert (await run(client, UNTOUCHED)).stdout == "True\n"
    after = await run(client, SETTINGS)
    assert after.stdout == fresh.stdout, (after.events, fresh.stdout)
