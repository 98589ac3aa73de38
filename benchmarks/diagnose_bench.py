"""What the training-loop diagnosis costs (issue 12).

    python benchmarks/diagnose_bench.py [--quick] [--static-only] [--device cuda]

- static: the AST pass over a 200-line cell (target ≤ 2 ms), against `ast.parse` and
  `compile` of the same cell (what the worker does to every cell anyway).
- runtime: a 1000-step training loop in the real worker, with the diagnosis on and off
  (target: within 3%), best of N alternating runs, in CPU time of the worker (one torch
  thread): wall time on a shared machine swings by more than the effect measured.
- hooks: what the runtime hooks do at each step, timed in this process (10,000 calls),
  and that time as a share of each loop's step: a figure the load cannot blur as much.
- in one process: the same two loops with no hooks, with the hooks installed but no cell
  watched, and watched, in a shuffled order each round, with a second "no hooks" as an
  A/A control that shows the noise.
- --instructions (needs valgrind): the instructions each step executes, counted by
  callgrind inside the loop only, with and without the diagnosis. Counts do not depend
  on the load, so the overhead can be read to a fraction of a percent on a busy machine.

With --device cuda the loops train on the GPU and are timed in wall time up to a
synchronize (a GPU's loss is kept and read 100 at a time, so the hooks never wait for
it); on the CPU they are timed in the worker's CPU time. Figures are from one run; the
load average is printed with them.
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.diagnose import diagnose_code, diagnose_tree  # noqa: E402

# A realistic cell: helpers, a training loop, an evaluation loop, plotting.
_BLOCK = '''
def train_step_{i}(model, loader, loss_fn, optimizer, device):
    """One epoch of training. Returns (mean loss, accuracy)."""
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        logits = model(X)
        loss = loss_fn(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        seen += len(y)
    return loss_sum / seen, correct / seen


def test_step_{i}(model, loader, loss_fn, device):
    model.eval()
    loss_sum, correct, seen = 0.0, 0, 0
    with torch.inference_mode():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            logits = model(X)
            loss_sum += loss_fn(logits, y).item() * len(y)
            correct += (logits.argmax(dim=1) == y).sum().item()
            seen += len(y)
    return loss_sum / seen, correct / seen


for epoch in range(1, epochs + 1):
    train_loss, train_acc = train_step_{i}(model, train_loader, loss_fn, optimizer, device)
    test_loss, test_acc = test_step_{i}(model, test_loader, loss_fn, device)
    live.log(step=epoch, train_loss=train_loss, test_loss=test_loss, test_acc=test_acc)
    print(f"epoch {{epoch}}: train loss {{train_loss:.3f}} | test loss {{test_loss:.3f}}")
'''


def cell_of(lines: int) -> str:
    parts, i = [], 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(_BLOCK.format(i=i))
        i += 1
    return "".join("".join(parts).splitlines(keepends=True)[:lines])


def best_median(function, repeat: int) -> float:
    for _ in range(20):
        function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def static(repeat: int) -> None:
    code = cell_of(200)
    compile(code, "<bench>", "exec")  # it must be a real cell
    assert not diagnose_code(code).advice, "the benchmark cell should be clean"
    tree = ast.parse(code)
    parse = best_median(lambda: ast.parse(code), repeat)
    full = best_median(lambda: diagnose_code(code), repeat)
    analysis = best_median(lambda: diagnose_tree(tree), repeat)
    compiled = best_median(lambda: compile(code, "<bench>", "exec"), repeat)
    print(f"static diagnosis of a {code.count(chr(10))}-line cell (median of {repeat}; target ≤ 2 ms):")
    print(f"  parse + analysis   {full * 1e3:7.3f} ms")
    print(f"  analysis alone     {analysis * 1e3:7.3f} ms   (the worker reuses its parsed tree)")
    print(f"  ast.parse alone    {parse * 1e3:7.3f} ms")
    print(f"  compile (baseline) {compiled * 1e3:7.3f} ms   analysis / compile = {analysis / compiled:.2f}")


RUNTIME_SETUP = """
import time, torch
from torch import nn
torch.set_num_threads(1)  # both workers alike; spinning threads on a shared machine blur the figures
torch.manual_seed(0)
X_line = torch.arange(0, 1, 0.02).unsqueeze(1)
y_line = 0.7 * X_line + 0.3
X_mlp = torch.randn(256, 20)
y_mlp = torch.randint(0, 4, (256,))
device = {device!r}
X_line, y_line, X_mlp, y_mlp = (t.to(device) for t in (X_line, y_line, X_mlp, y_mlp))
if device == "cpu":
    clock = time.process_time
else:  # the GPU works on after the host's last call: wait for it, in wall time
    def clock():
        torch.cuda.synchronize()
        return time.perf_counter()
"""
DEVICE = "cpu"


def setup() -> str:
    return RUNTIME_SETUP.format(device=DEVICE)

RUNTIME_LOOPS = {
    "linear regression (lesson 01's loop)": """
model = nn.Linear(1, 1).to(device)
loss_fn = nn.L1Loss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
start = clock()
for epoch in range(1000):
    model.train()
    loss = loss_fn(model(X_line), y_line)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(clock() - start)
""",
    "MLP, batch 256, Adam": """
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 4)).to(device)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
start = clock()
for step in range(1000):
    loss = loss_fn(model(X_mlp), y_mlp)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(clock() - start)
""",
}


async def _timed(client, code: str, diagnose: bool) -> float:
    out, kinds = [], []
    async for event in client.execute(code, diagnose=diagnose):
        if type(event).__name__ == "OutputStreamed":
            out.append(event.text)
        elif type(event).__name__ == "AdviceGiven":
            kinds.append(event.kind)
        elif type(event).__name__ == "CellFailed":
            raise RuntimeError(f"{event.ename}: {event.message}")
    assert not kinds, f"the benchmark loop got advice: {kinds}"
    return float("".join(out).split()[-1])


async def runtime(repeat: int, per_step: float) -> None:
    """Two workers, one never diagnosed (no hooks at all) and one diagnosing every run;
    runs alternate between them, and the best of each is compared."""
    import tempfile

    from tutor.sandbox.client import SandboxClient

    with tempfile.TemporaryDirectory() as plain_dir, tempfile.TemporaryDirectory() as watched_dir:
        plain = SandboxClient(workdir=plain_dir, prewarm=False, device=DEVICE)
        watched = SandboxClient(workdir=watched_dir, prewarm=False, device=DEVICE)
        await plain.start()
        await watched.start()
        try:
            for client in (plain, watched):
                async for _ in client.execute(setup()):
                    pass
            print(f"runtime diagnosis: a 1000-step loop, best of {repeat} alternating runs (target: within 3%):")
            for name, code in RUNTIME_LOOPS.items():
                off, on = [], []
                await _timed(plain, code, False)
                await _timed(watched, code, True)
                for _ in range(repeat):
                    off.append(await _timed(plain, code, False))
                    on.append(await _timed(watched, code, True))
                best_off, best_on = min(off), min(on)
                print(f"  {name:38s} off {best_off * 1e3:7.1f} ms   on {best_on * 1e3:7.1f} ms   "
                      f"on/off = {best_on / best_off:.3f}   (medians {statistics.median(on) / statistics.median(off):.3f})")
                print(f"  {'':38s} the hooks' {per_step * 1e6:.2f} µs a step are "
                      f"{per_step * 1000 / best_off:.2%} of this loop's {best_off:.3f} s")
        finally:
            await plain.shutdown()
            await watched.shutdown()


def hooks(repeat: int) -> float:
    """What the runtime hooks do at each training step, timed in this process (the
    whole-loop comparison above is at the mercy of the machine's load; this is not):
    the work after ``backward()`` (the loss kept, read 100 at a time) and before
    ``optimizer.step()`` (one parameter with a gradient looked for). Microseconds a step."""
    import torch
    from torch import nn

    from tutor.diagnose.runtime import Watcher

    torch.set_num_threads(1)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 4))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = nn.functional.cross_entropy(model(torch.randn(256, 20)), torch.randint(0, 4, (256,)))
    loss.backward()  # gradients exist, as in a real step
    given = []
    watcher = Watcher(send=given.append, namespace={})
    watcher.begin("bench", None)
    steps = 10_000

    def run() -> None:
        for _ in range(steps):
            watcher._after_backward(loss)
            watcher._before_step(optimizer)

    try:
        per_step = best_median(run, repeat) / steps
    finally:
        watcher.end()
    assert watcher.backwards > 0 and not [a for a in given if a.kind != "loss-flat"], given
    print(f"runtime hooks, timed in process: {per_step * 1e6:.2f} µs a training step (median of {repeat} x {steps} steps)")
    return per_step


def _variants():
    """Switch the hooks of this process: "off" (torch's own backward, no optimizer hook),
    "idle" (installed, no cell watched), "on" (a cell watched)."""
    import torch
    from torch.optim import optimizer as torch_optimizer

    from tutor.diagnose import runtime as diagnose_runtime

    assert not diagnose_runtime._installed, "measure in a process without the hooks"
    plain_backward = torch.Tensor.backward
    plain_hooks = dict(torch_optimizer._global_optimizer_pre_hooks)
    diagnose_runtime._install_hooks()
    hooked_backward = torch.Tensor.backward
    hooked_hooks = dict(torch_optimizer._global_optimizer_pre_hooks)
    watcher = diagnose_runtime.Watcher(send=lambda advice: None, namespace={})

    def switch(variant: str) -> None:
        watcher.end()
        off = variant.startswith("off")
        torch.Tensor.backward = plain_backward if off else hooked_backward
        torch_optimizer._global_optimizer_pre_hooks.clear()
        torch_optimizer._global_optimizer_pre_hooks.update(plain_hooks if off else hooked_hooks)
        if variant == "on":
            watcher.begin("bench", None)

    return switch


def in_process(rounds: int) -> None:
    """Each loop with the hooks off, idle and on, in one process, shuffled each round."""
    import random

    import torch

    namespace: dict = {}
    exec(setup(), namespace)
    switch = _variants()
    names = ["off", "idle", "on", "off (A/A)"]
    what = "CPU time" if DEVICE == "cpu" else f"wall time on {DEVICE}"
    print(f"in one process, {rounds} rounds in a shuffled order, {what} of a 1000-step loop:")
    try:
        for name, code in RUNTIME_LOOPS.items():
            body = code.replace("print(clock() - start)", "elapsed = clock() - start")
            times: dict[str, list[float]] = {variant: [] for variant in names}
            for round_ in range(rounds + 1):
                order = names[:]
                random.shuffle(order)
                for variant in order:
                    switch(variant)
                    exec(body, namespace)
                    if round_:  # the first round warms up
                        times[variant].append(namespace["elapsed"])
            best, middle = min(times["off"]), statistics.median(times["off"])
            ratios = "   ".join(f"{variant} {min(times[variant]) / best:.3f} ({statistics.median(times[variant]) / middle:.3f})"
                               for variant in names[1:])
            print(f"  {name:38s} best/best (median/median) against off: {ratios}")
    finally:
        switch("off")


_COUNTED = """
import functools, gc, sys
sys.path.insert(0, {root!r})
exec({setup!r})
from torch import nn
variant, steps = sys.argv[1], int(sys.argv[2])
if variant == "on":
    from tutor.diagnose import runtime
    runtime.Watcher(send=lambda advice: None, namespace={{}}).begin("bench", None)
exec({model!r})
def step(_a, _b):
{step}
for _ in range(100):
    step(0, 0)
gc.collect()
gc.disable()  # a collection's cost depends on the heap, not on the loop
functools.reduce(step, range(steps), None)  # callgrind counts inside functools_reduce only
"""


def instructions(steps: int) -> None:
    """Instructions a step executes, off and on, counted by callgrind in the loop alone."""
    import shutil
    import subprocess
    import tempfile

    if shutil.which("valgrind") is None:
        print("instructions: valgrind is not installed (apt install valgrind)")
        return
    print(f"instructions a training step executes (callgrind, {steps} steps, counted in the loop only):")
    for name, code in RUNTIME_LOOPS.items():
        lines = code.strip().splitlines()
        model = "\n".join(lines[:3])
        loop = [line for line in lines if line.startswith("    ")]
        script = _COUNTED.format(root=str(Path(__file__).resolve().parents[1]), setup=setup(),
                                 model=model, step="\n".join(loop))
        counts = {}
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "counted.py"
            path.write_text(script)
            for variant in ("off", "on"):
                out = subprocess.run(
                    ["valgrind", "--tool=callgrind", "--toggle-collect=functools_reduce",
                     f"--callgrind-out-file={folder}/callgrind.out", sys.executable, str(path), variant, str(steps)],
                    capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
                collected = [line for line in out.stderr.splitlines() if "Collected" in line]
                if out.returncode or not collected:
                    print(f"  {name}: callgrind failed: {out.stderr.strip().splitlines()[-1:]}")
                    return
                counts[variant] = int(collected[-1].split()[-1].replace(",", "")) / steps
        print(f"  {name:38s} off {counts['off']:9,.0f}   on {counts['on']:9,.0f}   "
              f"on/off = {counts['on'] / counts['off']:.4f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--static-only", action="store_true")
    parser.add_argument("--instructions", action="store_true", help="count instructions with valgrind too")
    parser.add_argument("--device", default="cpu", help="where the loops train: cpu (default) or cuda")
    args = parser.parse_args()
    global DEVICE
    DEVICE = args.device
    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    static(200 if args.quick else 1000)
    if not args.static_only:
        import asyncio

        in_process(5 if args.quick else 30)  # first: it needs this process without hooks
        per_step = hooks(5 if args.quick else 20)
        asyncio.run(runtime(5 if args.quick else 15, per_step))
        if args.instructions:
            instructions(200 if args.quick else 2000)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
