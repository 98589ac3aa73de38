"""Sandbox benchmark: prints the figures of issue #3's table, measured in one run,
as ratios against a raw pipe round trip and against a Jupyter kernel, and the start
figures of issue #10: worker ready against a bare ``python -c "import torch"``,
restart to ready (the standby worker), and the first CUDA training cell once warm
(when a GPU is there; a line says it was skipped otherwise).

    python benchmarks/sandbox_bench.py [--quick] [--no-jupyter]

Needs the ``bench`` extra for the Jupyter column (``pip install -e '.[bench]'``).
Figures are medians (latency) or best-of (loops); compare only within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.sandbox.client import SandboxClient  # noqa: E402
from tutor.sandbox.events import CellFinished, OutputStreamed, WarmupChanged  # noqa: E402
from tutor.sandbox.outputcap import CapLimits  # noqa: E402

SETUP = """
import torch
from torch import nn
torch.manual_seed(0)
X = torch.arange(0, 1, 0.02).unsqueeze(1)
y = 0.7 * X + 0.3
"""
LOOP = """
model = nn.Linear(1, 1)
loss_fn = nn.L1Loss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(1000):
    model.train()
    loss = loss_fn(model(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    {extra}
"""
PLAIN = "pass"
LIVE = "live.log(step=epoch, loss=loss.item())"
PRINT = "print(epoch, loss.item())"

RAW_CHILD = r"""
import os, sys, json
r, w = int(sys.argv[1]), int(sys.argv[2])
f = os.fdopen(r, 'rb', buffering=0)
buf = b''
while True:
    data = f.readline()
    if not data:
        break
    req = json.loads(data)
    exec(req['code'], {})
    os.write(w, (json.dumps({'id': req['id'], 'status': 'ok'}) + '\n').encode())
"""


def loop(extra: str) -> str:
    return LOOP.format(extra=extra)


# -- raw pipe ------------------------------------------------------------------------

def raw_pipe_latency(n: int) -> float:
    """A child that execs JSON-line requests on a pipe: the floor for a round trip."""
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    child = subprocess.Popen([sys.executable, "-c", RAW_CHILD, str(to_child_r), str(from_child_w)],
                             pass_fds=(to_child_r, from_child_w))
    os.close(to_child_r)
    os.close(from_child_w)
    reader = os.fdopen(from_child_r, "rb")
    times = []
    for i in range(n):
        start = time.perf_counter()
        os.write(to_child_w, (json.dumps({"id": i, "code": "pass"}) + "\n").encode())
        reader.readline()
        times.append(time.perf_counter() - start)
    os.close(to_child_w)
    child.wait()
    return statistics.median(times)


# -- plain python --------------------------------------------------------------------

def plain_python_loop(repeats: int) -> float:
    code = SETUP + "import time\nbest = 1e9\n" + f"for _ in range({repeats}):\n    t = time.perf_counter()\n" + \
        textwrap.indent(loop(PLAIN), "    ") + "\n    best = min(best, time.perf_counter() - t)\nprint(best)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


# -- the sandbox ------------------------------------------------------------------------

async def cell(client: SandboxClient, code: str) -> tuple[CellFinished, int]:
    lines = 0
    finished = None
    async for event in client.execute(code):
        if isinstance(event, OutputStreamed):
            lines += event.text.count("\n")
        elif isinstance(event, CellFinished):
            finished = event
    assert finished is not None and finished.status == "ok", finished
    return finished, lines


async def wait_warm(client: SandboxClient, seconds: float = 300) -> None:
    deadline = time.perf_counter() + seconds
    while client.warmup == "warming" and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)


async def sandbox(n: int, repeats: int, workdir: Path) -> dict:
    figures = {}
    started = time.perf_counter()
    client = SandboxClient(workdir=workdir, prewarm=True)
    await client.start()
    await client.ready.wait()
    figures["ready"] = time.perf_counter() - started
    await cell(client, SETUP)
    first, _ = await cell(client, loop(PLAIN))  # at once: the warm-up may still be running
    figures["first_training_cell_at_once"] = first.duration
    await client.restart()  # a fresh worker, this time measured once warm
    await client.ready.wait()
    await wait_warm(client)
    await cell(client, SETUP)
    first, _ = await cell(client, loop(PLAIN))
    figures["first_training_cell"] = first.duration
    await cell(client, "from tutor import live")
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await cell(client, "pass")
        times.append(time.perf_counter() - start)
    figures["trivial_cell"] = statistics.median(times)
    for name, extra in (("loop_plain", PLAIN), ("loop_live", LIVE), ("loop_print", PRINT)):
        figures[name] = min([(await cell(client, loop(extra)))[0].duration for _ in range(repeats)])
    start = time.perf_counter()
    await cell(client, "for i in range(10**6): print(i)")
    figures["million_lines_capped"] = time.perf_counter() - start
    await client.shutdown()
    # every line delivered: lift the cap for this measure
    client = SandboxClient(workdir=workdir, prewarm=False,
                           output_limits=CapLimits(head_lines=10**7, head_bytes=2**30))
    await client.start()
    await client.ready.wait()
    start = time.perf_counter()
    _, lines = await cell(client, "for i in range(10**6): print(i)")
    figures["million_lines_delivered"] = time.perf_counter() - start
    assert lines == 10**6, lines
    await client.shutdown()
    return figures


# -- starting: ready, restart, the first CUDA cell -----------------------------------------

def bare_import_torch(module: str = "torch") -> float:
    """A plain ``python -c "import torch"``: start until torch is imported (its exit,
    about 0.5 s with torch loaded, is not counted: the worker never pays it)."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", f"import {module}; print('imported', flush=True)"],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "imported"
    took = time.perf_counter() - start
    child.kill()
    child.wait()
    return took


async def starting(repeats: int, workdir: Path) -> dict:
    """Worker ready against a bare ``import torch``, measured in turns (so that a change
    of load hits both; medians), restart to ready with the standby worker (median of
    ``repeats``), and on a GPU the first training cell once warm."""
    figures: dict = {"ready": [], "bare": [], "restart": [], "plain_ready": [], "plain_bare": []}
    for _ in range(repeats):
        for prewarm, ready, bare, module in ((True, "ready", "bare", "torch"),
                                             (False, "plain_ready", "plain_bare", "json")):
            figures[bare].append(bare_import_torch(module))
            started = time.perf_counter()
            client = SandboxClient(workdir=workdir, prewarm=prewarm)
            await client.start()
            await client.ready.wait()
            figures[ready].append(time.perf_counter() - started)
            await client.shutdown()
    client = SandboxClient(workdir=workdir, prewarm=True, standby=True)
    await client.start()
    await client.ready.wait()
    for _ in range(repeats):
        await wait_warm(client)
        deadline = time.perf_counter() + 300
        while not (client._standby.proc is not None and client._standby.parked):  # the spare is ready to take
            assert time.perf_counter() < deadline, "no standby worker"
            await asyncio.sleep(0.01)
        start = time.perf_counter()
        await client.restart()
        await client.ready.wait()
        figures["restart"].append(time.perf_counter() - start)
    figures["device"] = client.info.device if client.info else "?"
    if figures["device"].startswith("cuda"):
        await wait_warm(client)
        await cell(client, SETUP.replace("y = 0.7 * X + 0.3", "X, y = X.cuda(), (0.7 * X + 0.3).cuda()"))
        on_gpu = loop(PLAIN).replace("nn.Linear(1, 1)", "nn.Linear(1, 1).cuda()")
        first, _ = await cell(client, on_gpu)
        figures["first_cuda_training_cell"] = first.duration
        figures["warm_cuda_training_cell"] = min([(await cell(client, on_gpu))[0].duration for _ in range(3)])
    await client.shutdown()
    figures["extra"] = statistics.median(r - b for r, b in zip(figures["ready"], figures["bare"]))
    figures["plain_extra"] = statistics.median(r - b for r, b in zip(figures["plain_ready"], figures["plain_bare"]))
    for name in ("ready", "bare", "restart", "plain_ready", "plain_bare"):
        figures[name] = statistics.median(figures[name])
    return figures


# -- Jupyter -----------------------------------------------------------------------------

def jupyter(n: int, repeats: int) -> dict | None:
    try:
        from jupyter_client.manager import start_new_kernel
    except ImportError:
        return None
    figures = {}
    started = time.perf_counter()
    manager, kc = start_new_kernel(kernel_name="python3")

    def run(code: str) -> tuple[float, int]:
        lines = 0
        start = time.perf_counter()
        msg_id = kc.execute(code)
        while True:
            msg = kc.get_iopub_msg(timeout=600)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                lines += msg["content"]["text"].count("\n")
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        kc.get_shell_msg(timeout=600)
        return time.perf_counter() - start, lines

    try:
        figures["ready"] = time.perf_counter() - started
        run(SETUP)
        figures["torch_imported"] = time.perf_counter() - started
        figures["first_training_cell"] = run(loop(PLAIN))[0]
        figures["trivial_cell"] = statistics.median(run("pass")[0] for _ in range(n))
        figures["loop_plain"] = min(run(loop(PLAIN))[0] for _ in range(repeats))
        figures["loop_print"] = min(run(loop(PRINT))[0] for _ in range(repeats))
        seconds, lines = run("for i in range(10**5): print(i)")
        figures["lines_per_second"] = lines / seconds
    finally:
        kc.stop_channels()
        manager.shutdown_kernel(now=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-jupyter", action="store_true", help="skip the Jupyter kernel")
    args = parser.parse_args()
    n, repeats = (50, 2) if args.quick else (300, 5)
    with tempfile.TemporaryDirectory() as tmp:
        ours = asyncio.run(sandbox(n, repeats, Path(tmp)))
        start_figures = asyncio.run(starting(3 if args.quick else 5, Path(tmp)))
    bare = start_figures["bare"]
    raw = raw_pipe_latency(n)
    plain = plain_python_loop(repeats)
    jup = None if args.no_jupyter else jupyter(n, repeats)

    def ratio(a, b) -> str:
        return f"{a / b:.2f}x" if a and b else "-"

    lines_per_s = 10**6 / ours["million_lines_delivered"]
    rows = [
        ("warm trivial cell (median)", "<= 1 ms", f"{ours['trivial_cell'] * 1e3:.2f} ms",
         f"{raw * 1e3:.3f} ms ({ratio(ours['trivial_cell'], raw)})",
         f"{jup['trivial_cell'] * 1e3:.2f} ms ({ratio(ours['trivial_cell'], jup['trivial_cell'])})" if jup else "-"),
        ("output end to end, every line", ">= 1,000,000 lines/s", f"{lines_per_s:,.0f} lines/s", "-",
         f"{jup['lines_per_second']:,.0f} lines/s ({lines_per_s / jup['lines_per_second']:.1f}x)" if jup else "-"),
        ("10^6 lines, capped (cell time)", "-", f"{ours['million_lines_capped']:.2f} s", "-", "-"),
        ("1000-epoch loop with live.log vs plain python", "<= 5% overhead",
         f"{ours['loop_live'] / plain:.3f}x ({ours['loop_live'] * 1e3:.0f} vs {plain * 1e3:.0f} ms)", "-",
         f"with print: {jup['loop_print'] / plain:.3f}x" if jup else "-"),
        ("same loop: live.log vs none, in the worker", "-", f"{ours['loop_live'] / ours['loop_plain']:.3f}x",
         "-", "-"),
        ("same loop, no live.log, vs plain python", "-", f"{ours['loop_plain'] / plain:.3f}x", "-",
         f"{jup['loop_plain'] / plain:.3f}x" if jup else "-"),
        ("same loop, print every epoch, vs plain python", "-", f"{ours['loop_print'] / plain:.3f}x", "-",
         f"{jup['loop_print'] / plain:.3f}x" if jup else "-"),
        ("first training cell once warm", "<= 0.1 s",
         f"{ours['first_training_cell']:.3f} s (warm: {ours['loop_plain']:.3f} s, "
         f"{ours['first_training_cell'] / ours['loop_plain']:.2f}x; at once, while warming: "
         f"{ours['first_training_cell_at_once']:.3f} s)", "-",
         f"{jup['first_training_cell']:.3f} s (warm: {jup['loop_plain']:.3f} s, "
         f"{jup['first_training_cell'] / jup['loop_plain']:.2f}x)" if jup else "-"),
        ("worker ready (torch imported) vs bare import torch", "<= bare + 0.5 s",
         f"{start_figures['ready']:.2f} s vs {bare:.2f} s ({start_figures['ready'] / bare:.2f}x; "
         f"{start_figures['extra']:+.2f} s, median of the turns)", "-",
         f"{jup['ready']:.2f} s to start, {jup['torch_imported']:.2f} s with torch" if jup else "-"),
        ("the same without torch: the supervision's own cost", "-",
         f"{start_figures['plain_ready'] * 1e3:.0f} ms vs {start_figures['plain_bare'] * 1e3:.0f} ms for a bare "
         f"python ({start_figures['plain_extra'] * 1e3:+.0f} ms)", "-", "-"),
        ("restart to ready (standby worker)", "<= 0.5 s", f"{start_figures['restart'] * 1e3:.0f} ms "
         f"(median; against a fresh start: {start_figures['restart'] / start_figures['ready']:.2f}x)", "-", "-"),
        ("first CUDA training cell once warm", "<= 0.1 s",
         f"{start_figures['first_cuda_training_cell']:.3f} s (warm: {start_figures['warm_cuda_training_cell']:.3f} s, "
         f"{start_figures['first_cuda_training_cell'] / start_figures['warm_cuda_training_cell']:.2f}x)"
         if "first_cuda_training_cell" in start_figures
         else f"skipped: no CUDA device here (worker on {start_figures['device']})", "-", "-"),
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"sandbox benchmark: {os.cpu_count()} CPUs, load average {load:.1f}, Python {sys.version.split()[0]}")
    widths = [max(len(str(r[i])) for r in rows + [("measure", "target", "tutor sandbox", "raw pipe", "Jupyter kernel")])
              for i in range(5)]
    header = ("measure", "target", "tutor sandbox", "raw pipe", "Jupyter kernel")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
