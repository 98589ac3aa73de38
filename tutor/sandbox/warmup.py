"""Worker side: warm PyTorch up in a background thread, after the worker is ready.

The first forward, backward and optimizer step of a fresh process pays for lazy
initialisation (about 1 s on a CPU, 4.6 s on a CUDA GPU: kernels loaded on first
use). The worker says ready as soon as torch is imported and the device chosen; this
thread then runs the layers, losses and optimizers the course uses, once, on that
device: Linear, Conv2d, BatchNorm2d, MaxPool2d, ReLU, cross_entropy,
binary_cross_entropy_with_logits, l1_loss, mse_loss, SGD, Adam and AdamW, and a
loss read back with ``item()``.

It must never disturb a cell that runs meanwhile:
- no random numbers: layers are made without initialisation (``skip_init``) and filled
  with constants, inputs come from ``linspace``; the learner's random stream is not
  advanced, so ``torch.manual_seed(0)`` gives the same numbers with or without it;
- no global setting is changed (threads, determinism, cuDNN flags, default dtype);
  grad mode is per thread;
- the worker waits for it to end before a ``fork`` (a child must not inherit torch in
  the middle of an operation);
- a failure is reported (``failed``), never raised: the worker carries on cold.

States go to ``report(state, detail)``: "warming", then "warm" (detail: seconds) or
"failed" (detail: the error).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

WARMING, WARM, FAILED = "warming", "warm", "failed"


def exercise(torch, device: str) -> None:
    """One small training step of each kind the course uses, on ``device``."""
    nn, functional = torch.nn, torch.nn.functional
    dev = torch.device(device)

    def made(module_class, *args, **kwargs):
        module = nn.utils.skip_init(module_class, *args, device=dev, **kwargs)  # no random init
        with torch.no_grad():
            for parameter in module.parameters():
                parameter.fill_(0.01)
        return module

    def inputs(*shape):
        count = 1
        for size in shape:
            count *= size
        return torch.linspace(-1.0, 1.0, count, device=dev).reshape(shape)

    conv = made(nn.Conv2d, 1, 4, 3, padding=1)
    norm = nn.BatchNorm2d(4, device=dev)  # ones and zeros: no random numbers
    linear = made(nn.Linear, 4 * 4 * 4, 3)
    images, labels = inputs(8, 1, 8, 8), torch.arange(8, device=dev) % 3
    head = made(nn.Linear, 4, 1)
    features, targets = inputs(8, 4), (torch.arange(8, device=dev) % 2).float().unsqueeze(1)
    parameters = [*conv.parameters(), *norm.parameters(), *linear.parameters(), *head.parameters()]
    for optimizer_class in (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW):
        optimizer = optimizer_class(parameters, lr=0.01)
        for _ in range(2):
            hidden = functional.max_pool2d(torch.relu(norm(conv(images))), 2)
            loss = functional.cross_entropy(linear(hidden.flatten(1)), labels)
            guess = head(features)
            loss = loss + functional.binary_cross_entropy_with_logits(guess, targets)
            loss = loss + functional.l1_loss(guess, targets) + functional.mse_loss(guess, targets)  # lessons 01, 02
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    loss.item()  # the first copy back to the host
    norm.eval()
    with torch.inference_mode():
        linear(functional.max_pool2d(torch.relu(norm(conv(images))), 2).flatten(1))
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


class WarmUp:
    """``start()`` runs ``exercise`` in a daemon thread; ``wait()`` joins it."""

    def __init__(self, torch, device: str, report: Callable[[str, str | None], None],
                 run: Callable[[object, str], None] = exercise) -> None:
        self.torch, self.device, self.report, self.run = torch, device, report, run
        self.state: str | None = None
        self.thread = threading.Thread(target=self._main, name="tutor-warm-up", daemon=True)

    def start(self) -> None:
        self.state = WARMING
        self.report(WARMING, None)
        self.thread.start()

    def wait(self, timeout: float | None = None) -> None:
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout)

    def _main(self) -> None:
        started = time.perf_counter()
        try:
            self.run(self.torch, self.device)
        except BaseException as err:  # noqa: BLE001 - a failed warm-up leaves the worker cold, never dead
            self.state = FAILED
            detail = f"{type(err).__name__}: {err}"
        else:
            self.state = WARM
            detail = f"{time.perf_counter() - started:.2f}"
        try:
            self.report(self.state, detail[:2000])
        except Exception:  # noqa: BLE001 - the channel is gone: the worker is ending
            pass
