"""Health checks that other parts add to ``tutor doctor``.

Each check is a function returning a list of ``(name, finding, ok)``. Keep them
free of torch in this process: start a subprocess (the sandbox) when torch is needed.
"""

from __future__ import annotations

from collections.abc import Callable

CHECKS: list[Callable[[], list[tuple[str, str, bool]]]] = []


def lessons_check() -> list[tuple[str, str, bool]]:
    from tutor import config
    from tutor.lessons import load_catalog

    catalog = load_catalog(config.lessons_dir())
    broken = len(catalog.broken)
    finding = f"{len(catalog.lessons)} lessons load"
    if broken:
        finding += f", {broken} broken (run 'tutor check')"
    return [("lessons", finding, broken == 0)]


CHECKS.append(lessons_check)


def sandbox_check() -> list[tuple[str, str, bool]]:
    """Start a real worker (torch imported), run a trivial cell, wait for its warm-up, stop it."""
    import asyncio
    import tempfile
    import time

    from tutor import config
    from tutor.sandbox.client import SandboxClient
    from tutor.sandbox.events import CellFinished, WarmupChanged, WorkerState, WorkerStateChanged

    async def probe(workdir: str) -> tuple[str, bool]:
        settled = asyncio.Event()
        warmed: list[WarmupChanged] = []

        def on_event(event) -> None:
            if isinstance(event, WorkerStateChanged) and event.state in (WorkerState.READY, WorkerState.CRASHED):
                settled.set()
            elif isinstance(event, WarmupChanged) and event.state != "warming":
                warmed.append(event)

        client = SandboxClient(workdir=workdir, device=config.device_setting(),
                               memory_limit=config.memory_limit_setting(), on_event=on_event)
        started = time.perf_counter()
        try:
            await client.start()
            await asyncio.wait_for(settled.wait(), 180)
            if client.state is not WorkerState.READY:
                return f"does not start: {client.reason}", False
            ready = time.perf_counter() - started
            info = client.info
            where = "user+PID namespace" if client.in_namespace else "own session, nanny subreaper"
            torch = f"torch {info.torch_version}" if info and info.torch_version else "torch NOT loaded"
            note = f"; {client.reason}" if client.reason else ""
            deadline = time.perf_counter() + 120
            while client.warmup == "warming" and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
            # Timed once warm: during the warm-up a cell shares the interpreter with it (61.8 ms
            # a trivial cell on an H200 while CUDA started, against 0.6 ms once warm on a CPU).
            times = []
            for _ in range(5):
                cell, finished = time.perf_counter(), None
                async for event in client.execute("1 + 1", label="doctor", timeout=30):
                    if isinstance(event, CellFinished):
                        finished = event
                times.append(time.perf_counter() - cell)
                if finished is None or finished.status != "ok":
                    return f"starts, but a trivial cell failed: {finished and finished.reason}", False
            cell = sorted(times)[len(times) // 2]
            warm = warmed[-1] if warmed else None
            warm_up = ("" if client.warmup is None else
                       f"; warm-up {float(warm.detail):.1f} s more, in the background" if warm and warm.state == "warm"
                       else f"; warm-up failed ({warm.detail})" if warm else "; still warming up after 120 s")
            return (f"starts in {ready:.1f} s on {info.device if info else '?'} "
                    f"({info.device_name if info else '?'}), {torch}{warm_up}; a trivial cell takes "
                    f"{cell * 1000:.1f} ms once warm; isolation: {where}{note}"), bool(info and info.torch_version)
        except asyncio.TimeoutError:
            return "did not get ready within 180 s", False
        finally:
            await client.shutdown()

    with tempfile.TemporaryDirectory(prefix="tutor-doctor-") as workdir:
        finding, ok = asyncio.run(probe(workdir))
    return [("sandbox", finding, ok)]


CHECKS.append(sandbox_check)


def data_check() -> list[tuple[str, str, bool]]:
    """Which Fashion-MNIST lesson 03 would use, without preparing or downloading it."""
    from tutor import config
    from tutor.data import fashion_mnist as fm

    existing = fm.find_existing(fm.default_search_roots())
    if existing is not None:
        finding = existing.describe()
    elif fm.has_gz_files(fm.SYSTEM_DIR):
        finding = f"Fashion-MNIST: Debian's system copy in {fm.SYSTEM_DIR} (unpacked on first use)"
    else:
        subset = config.assets_dir() / "fashion-mnist"
        if not fm.has_gz_files(subset):
            return [("data", f"no Fashion-MNIST anywhere, and the shipped subset is missing from {subset}", False)]
        online = "skipped: TUTOR_OFFLINE is set" if fm.offline_requested() else "tried first"
        finding = (f"Fashion-MNIST: the download ({online}), else the subset shipped in {subset}; "
                   "'apt install dataset-fashion-mnist' gives the full set offline")
    return [("data", finding, True)]


CHECKS.append(data_check)


def pretrained_check() -> list[tuple[str, str, bool]]:
    """Which pretrained model lesson 06 would use, without downloading it."""
    from tutor.data.pretrained import describe_choice

    finding, ok = describe_choice()
    return [("pretrained", finding, ok)]


CHECKS.append(pretrained_check)
