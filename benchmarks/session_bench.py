"""Sessions benchmark: what a session host and the remote link cost, measured in one
run against the sandbox client alone.

    python benchmarks/session_bench.py [--quick] [--lines N]

Three ways to the same worker (torch not imported: ``prewarm=False``, so the figures
are the plumbing's, not torch's):
  direct   SandboxClient in this process (today's path without a session host)
  local    SessionClient -> Unix socket -> session host -> SandboxClient
  remote   SessionClient -> ssh -> sshd on 127.0.0.1 -> relay -> Unix socket -> host
           (a throwaway OpenSSH server, as in the tests: tests/sessions/sshd_harness.py;
           skipped when openssh-server is missing)

Figures: a trivial cell's round trip (median), lines/s of a printing cell (the output
cap lifted, every line received), and the time to re-attach to a host whose detached
cell printed N lines (start() to the replayed cell's end), with the default ring (16
MiB: every line replayed) and with a 64 KiB ring, smaller than the output (the
catch-up path: each cell's kept head and tail, and an honest count of the lines
between).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "sessions"))

from tutor.sandbox.client import SandboxClient  # noqa: E402
from tutor.sandbox.events import CellFinished, OutputStreamed, WorkerState  # noqa: E402
from tutor.sandbox.outputcap import CapLimits  # noqa: E402
from tutor.sessions.client import SessionClient  # noqa: E402
from tutor.sessions.control import stop_sessions  # noqa: E402
from tutor.sessions.events import CellReplayed  # noqa: E402
from tutor.sessions.host import HostOptions  # noqa: E402
from tutor.sessions.transport import LocalTransport, SshTransport  # noqa: E402

CATCH_UP_RING = 64 * 2**10  # smaller than 10^5 printed lines: the replay must catch up instead
NO_CAP = CapLimits(head_lines=10**9, head_bytes=1 << 40, tail_lines=10, tail_bytes=1 << 16)


async def until_ready(client) -> None:
    while client.state is not WorkerState.READY:
        await asyncio.sleep(0.01)


async def trivial(client, n: int) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        async for event in client.execute("pass", label="t"):
            pass
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def lines_per_second(client, lines: int) -> float:
    got = 0
    started = time.perf_counter()
    async for event in client.execute(f"for i in range({lines}):\n    print(i)", label="flood"):
        if isinstance(event, OutputStreamed):
            got += event.text.count("\n")
    elapsed = time.perf_counter() - started
    assert got == lines, f"{got} lines arrived of {lines}"
    return lines / elapsed


async def reattach(make, lines: int) -> tuple[float, int]:
    """A cell prints ``lines`` while no app is attached; then: start() to its replayed end."""
    first = make(None)
    await first.start()
    await until_ready(first)
    flood = first.execute(f"for i in range({lines}):\n    print(i)", label="flood", tag={"cell": "flood"})
    await flood.__anext__()
    await first.detach()
    await flood.aclose()
    await asyncio.sleep(max(lines / 2e5, 1.0))  # let it finish while nobody listens
    done = asyncio.Event()
    shown = [0]

    def on_event(event) -> None:
        if isinstance(event, CellReplayed):
            if isinstance(event.event, OutputStreamed):
                shown[0] += event.event.text.count("\n")
            elif isinstance(event.event, CellFinished):
                done.set()

    second = make(on_event)
    started = time.perf_counter()
    await second.start()
    await asyncio.wait_for(done.wait(), 120)
    elapsed = time.perf_counter() - started
    await second.shutdown()
    return elapsed, shown[0]


def options(lesson: str, **extra) -> HostOptions:
    return HostOptions(lesson_id=lesson, prewarm=False, idle_timeout=300,
                       output_limits=dataclasses.asdict(NO_CAP), **extra)


async def main(args, scratch: Path) -> None:
    n = 30 if args.quick else 200
    lines = args.lines
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {n} trivial cells; "
          f"{lines:,} lines", flush=True)
    home = scratch / "home"
    home.mkdir()
    os.environ["TUTOR_HOME"] = str(home)
    rows = []

    direct = SandboxClient(workdir=home / "direct", prewarm=False, output_limits=NO_CAP)
    await direct.start()
    await until_ready(direct)
    base_rtt = await trivial(direct, n)
    base_lps = await lines_per_second(direct, lines)
    await direct.shutdown()
    rows.append(("direct (no host)", base_rtt, base_lps, None))

    def local(lesson: str, **extra):
        return lambda on_event: SessionClient(LocalTransport(options(lesson, **extra)), on_event=on_event)

    client = local("bench")(None)
    await client.start()
    await until_ready(client)
    rtt, lps = await trivial(client, n), await lines_per_second(client, lines)
    await client.shutdown()
    replay = await reattach(local("replay"), lines)
    catch_up = await reattach(local("catchup", ring_bytes=CATCH_UP_RING), lines)
    rows.append(("local session host", rtt, lps, (replay, catch_up)))

    import sshd_harness

    why = sshd_harness.missing()
    if why:
        rows.append(("remote (ssh, 127.0.0.1)", None, None, why))
    else:
        (scratch / "sshd").mkdir()
        server = sshd_harness.start(scratch / "sshd")
        far = scratch / "far"
        far.mkdir()
        python = f"env TUTOR_HOME={far} PYTHONPATH={ROOT} {sys.executable}"
        try:
            def remote(lesson: str, **extra):
                return lambda on_event: SessionClient(
                    SshTransport(server.alias, options(lesson, **extra), ssh_command=server.ssh_command,
                                 remote_python=python), on_event=on_event)

            client = remote("bench")(None)
            started = time.perf_counter()
            await client.start()
            await until_ready(client)
            connect = time.perf_counter() - started
            rtt, lps = await trivial(client, n), await lines_per_second(client, lines)
            await client.shutdown()
            replay = await reattach(remote("replay"), lines)
            catch_up = await reattach(remote("catchup", ring_bytes=CATCH_UP_RING), lines)
            rows.append(("remote (ssh, 127.0.0.1)", rtt, lps, (replay, catch_up)))
            print(f"remote: ssh connect + host start + worker ready: {connect:.2f} s")
        finally:
            os.environ["TUTOR_HOME"] = str(far)
            stop_sessions("all")
            os.environ["TUTOR_HOME"] = str(home)
            server.stop()
    stop_sessions("all")

    print()
    print("| path | trivial cell (median) | vs direct | lines/s | vs direct | re-attach, all replayed | re-attach, 64 KiB ring (catch-up) |")
    print("|---|---|---|---|---|---|---|")
    for name, rtt, lps, again in rows:
        if rtt is None:
            print(f"| {name} | skipped: {again} | | | | | |")
            continue
        cells = [f"{rtt * 1000:.2f} ms", f"{rtt / base_rtt:.2f}×", f"{lps:,.0f}", f"{lps / base_lps:.2f}×"]
        if again is None:
            cells += ["—", "—"]
        else:
            (t1, shown1), (t2, shown2) = again
            cells += [f"{t1:.2f} s ({shown1:,} lines)", f"{t2:.2f} s ({shown2:,} lines shown)"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--lines", type=int, default=100_000)
    scratch = Path(tempfile.mkdtemp(prefix="tutor-session-bench-"))  # homes, the sshd's keys: removed after
    try:
        asyncio.run(main(parser.parse_args(), scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
