"""Where a trivial cell's time goes: timestamps along the run key's path to the output
view, and along the sandbox client's own path (the floor), in one process.

    python benchmarks/trivial_path.py [--runs N]

Each function on the way is wrapped to note when it is first entered (``>``) and left
(``<``) in each run, relative to the key (or to ``client.execute`` for the floor); the
table gives the median and the 25th percentile of N runs. The wrappers cost about a
microsecond each, so the times are a little late: compare steps, not totals, and use
``ui_bench.py`` for the figures themselves. Each run pauses as ``ui_bench.py`` does (the
code on the way runs cold, as it does for a learner), and the worker is the app's child.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ui_bench  # noqa: E402 - the benchmark's own app set-up

_marks: dict[str, float] | None = None


def _mark(name: str) -> None:
    if _marks is not None and name not in _marks:
        _marks[name] = time.perf_counter()


def _watch(owner, attribute: str, name: str, only=None) -> None:
    """Note when ``owner.attribute`` is entered and left (``only(args)``: for those calls)."""
    original = getattr(owner, attribute)

    def wrapper(*args, **kwargs):
        noted = only is None or only(args)
        if noted:
            _mark(name + " >")
        try:
            return original(*args, **kwargs)
        finally:
            if noted:
                _mark(name + " <")

    setattr(owner, attribute, wrapper)


def _watch_the_path() -> None:
    import tutor.sandbox.client as client_module
    import tutor.ui.run_requests as requests_module
    from tutor.cell_outputs import OutputKeeper
    from tutor.execution.executor import Executor
    from tutor.execution.queue import RunQueue
    from tutor.sandbox.client import SandboxClient
    from tutor.sandbox.events import OutputStreamed
    from tutor.sandbox.process import WorkerProcess
    from tutor.ui.output_buffer import OutputBuffer
    from tutor.ui.run_display import RunDisplay
    from tutor.ui.run_reports import RunReporter
    from tutor.ui.run_requests import RunRequests
    from tutor.ui.screens.lesson import LessonScreen
    from tutor.ui.widgets.cell import RunnableCell

    def output(args) -> bool:
        return any(isinstance(arg, OutputStreamed) for arg in args)

    for owner, attribute, name, only in (
            (LessonScreen, "_focused_quiz", "the focused quiz", None),
            (RunRequests, "enqueue", "RunRequests.enqueue", None),
            (requests_module, "job_for", "job_for", None),
            (RunQueue, "add", "RunQueue.add", None),
            (Executor, "begin", "Executor.begin", None),
            (RunReporter, "part_starting", "the request's tag", None),
            (client_module, "encode", "the request encoded", None),
            (WorkerProcess, "send_frame", "the request sent", None),
            (SandboxClient, "_set_state", "the client's state told", None),
            (RunDisplay, "start", "the start shown", None),
            (WorkerProcess, "_read_events", "the worker's frames read", None),
            (RunQueue, "_report", "the output reported", output),
            (OutputKeeper, "add", "kept for export", output),
            (RunDisplay, "reported", "RunDisplay.reported", output),
            (RunnableCell, "_clear_stale", "the last run's output cleared", None),
            (OutputBuffer, "write", "written to the output view", None)):
        _watch(owner, attribute, name, only)


async def _measure(runs: int) -> tuple[dict, dict]:
    global _marks
    from tutor.sandbox.events import OutputStreamed

    app = await ui_bench._open("bench", prewarm=False, course=ui_bench.bench_course("print('tick')"))
    floor, key = defaultdict(list), defaultdict(list)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.screen
        await ui_bench._until(lambda: ui_bench.page_ready(screen) and screen.session.client.ready.is_set())
        client, cell = screen.session.client, screen.cells[0]
        cell.editor.focus()
        for n in range(runs):
            await pilot.pause()
            await asyncio.sleep(0.05)
            _marks, start = {}, time.perf_counter()
            async for event in client.execute(f"print('floor-{n}')", label="bench"):
                if isinstance(event, OutputStreamed):
                    _mark("the output in the caller's hands")
            for name, when in _marks.items():
                floor[name].append(1000 * (when - start))
            cell.editor.load_text(f"print('tick-{n}')")
            await pilot.pause()
            await asyncio.sleep(0.05)
            _marks, start = {}, time.perf_counter()
            screen.action_run()
            _mark("the key's turn over")
            await ui_bench._until(lambda: "written to the output view <" in _marks)
            for name, when in _marks.items():
                key[name].append(1000 * (when - start))
            _marks = None
            await ui_bench._until(lambda: not cell.running and screen.runs.idle)
    return floor, key


def _table(title: str, rows: dict) -> None:
    print(title)
    for name, times in sorted(rows.items(), key=lambda row: statistics.median(row[1])):
        ordered = sorted(times)
        print(f"  {statistics.median(times):7.3f} ms  (p25 {ordered[len(ordered) // 4]:7.3f})  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    _watch_the_path()
    floor, key = asyncio.run(_measure(args.runs))
    _table(f"the sandbox client alone (the floor), {args.runs} runs, from client.execute:", floor)
    _table(f"the app, {args.runs} runs, from the run key:", key)


if __name__ == "__main__":
    main()
