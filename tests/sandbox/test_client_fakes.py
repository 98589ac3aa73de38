"""The client against misbehaving fake workers (tests/fakes/fake_worker.py): no torch,
no real worker. Each test checks what the user is told, that the client survives,
and (through the make_client fixture) that no process is left behind."""

from __future__ import annotations

import asyncio
import time

import pytest
from sandbox_helpers import FAKE_WORKER, StateLog, assert_gone, family, run, wait_state

from tutor.sandbox.events import CellStarted, OutputStreamed, WorkerState

pytestmark = pytest.mark.timeout(60)


def fake(mode: str, **env: str) -> dict:
    return {"worker_command": FAKE_WORKER, "env": {"FAKE_WORKER_MODE": mode, **env}}


async def test_echo_round_trip(make_client):
    client = await make_client(**fake("ok"))
    cell = await run(client, "hello")
    assert cell.status == "ok" and cell.stdout == "hello\n"
    assert client.state is WorkerState.READY


async def test_slow_start_is_waited_for(make_client):
    log = StateLog()
    client = await make_client(on_event=log, **fake("slow_start", FAKE_WORKER_DELAY="0.8"))
    assert client.state is WorkerState.STARTING and not client.ready.is_set()
    started = time.monotonic()
    cell = await run(client, "after the wait")  # execute waits for READY itself
    assert time.monotonic() - started >= 0.5
    assert cell.stdout == "after the wait\n"
    assert log.states[:2] == [WorkerState.STARTING, WorkerState.READY]


async def test_crash_at_start_stops_after_three_tries(make_client):
    log = StateLog()
    client = await make_client(on_event=log, **fake("crash_at_start"))
    await wait_state(client, WorkerState.CRASHED)
    assert log.states.count(WorkerState.STARTING) == 3
    assert "could not start (3 tries)" in client.reason
    assert "code 3" in client.reason and "cannot start (crash_at_start)" in client.reason
    cell = await run(client, "anything")  # answered at once, never hangs
    assert cell.status == "crashed" and cell.reason == client.reason
    # restart() tries again from scratch
    await client.restart()
    await wait_state(client, WorkerState.CRASHED)
    assert log.states.count(WorkerState.STARTING) == 6


async def test_hang_interrupt_escalates_to_kill_and_restart(make_client):
    log = StateLog()
    client = await make_client(on_event=log, interrupt_grace=0.5, **fake("hang"))
    await client.ready.wait()
    before = family(client)
    task = asyncio.ensure_future(run(client, "spin"))
    await wait_state(client, WorkerState.RUNNING)
    await asyncio.sleep(0.2)
    await client.interrupt()
    started = time.monotonic()
    cell = await task
    assert 0.4 <= time.monotonic() - started < 5
    assert cell.status == "interrupted" and cell.finished.state_lost
    assert "Didn't stop after interrupt" in cell.reason and "variables lost" in cell.reason
    assert any("Still running after the interrupt" in (r or "") for r in log.reasons(WorkerState.INTERRUPTING))
    await wait_state(client, WorkerState.READY)  # a fresh worker, which hangs too
    assert not (family(client) & before)
    assert_gone(before)


async def test_second_interrupt_kills_at_once(make_client):
    client = await make_client(interrupt_grace=30.0, **fake("hang"))
    task = asyncio.ensure_future(run(client, "spin"))
    await wait_state(client, WorkerState.RUNNING)
    await asyncio.sleep(0.2)
    await client.interrupt()
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await client.interrupt()
    cell = await task
    assert time.monotonic() - started < 5  # not the 30 s grace
    assert cell.status == "interrupted" and cell.finished.state_lost


async def test_timeout_on_a_hang(make_client):
    client = await make_client(interrupt_grace=0.3, **fake("hang"))
    cell = await run(client, "spin", timeout=0.3)
    assert cell.status == "timeout" and cell.finished.state_lost
    assert cell.reason.startswith("Didn't stop at the time limit (0.3 s)")


async def test_garbage_frames_restart_the_worker(make_client):
    log = StateLog()
    client = await make_client(on_event=log, **fake("garbage"))
    cell = await run(client, "x")
    assert cell.status == "crashed" and cell.finished.state_lost
    assert "unreadable message" in cell.reason
    assert WorkerState.RESTARTING in log.states
    await wait_state(client, WorkerState.READY)


async def test_never_ready_hits_the_start_timeout(make_client):
    client = await make_client(start_timeout=0.5, **fake("never_ready"))
    await wait_state(client, WorkerState.CRASHED)
    assert "did not start within 0.5 s" in client.reason


async def test_protocol_mismatch_is_reported(make_client):
    client = await make_client(**fake("bad_protocol"))
    await wait_state(client, WorkerState.CRASHED)
    assert "protocol 999" in client.reason


async def test_idle_crash_loop_stops_restarts(make_client):
    log = StateLog()
    client = await make_client(on_event=log, **fake("die_idle", FAKE_WORKER_DELAY="0.1"))
    await wait_state(client, WorkerState.CRASHED, timeout=30)
    assert log.states.count(WorkerState.READY) == 3
    assert "code 7" in client.reason and "died 3 times in a row without a cell running" in client.reason


async def test_output_of_a_finished_request_is_dropped(make_client):
    client = await make_client(**fake("late_output"))
    first = await run(client, "one")
    await asyncio.sleep(0.02)
    second = await run(client, "two")
    await asyncio.sleep(0.1)
    assert first.stdout == "one\n"
    assert "LATE" not in second.stdout and second.stdout.startswith("two\n")


async def test_requests_queue_in_order(make_client):
    client = await make_client(**fake("ok"))
    order = []

    async def collect(code):
        async for event in client.execute(code):
            order.append((code, type(event).__name__))

    await asyncio.gather(collect("a"), collect("b"), collect("c"))
    codes = [code for code, _ in order]
    assert codes == sorted(codes)  # a's events, then b's, then c's
    assert [name for code, name in order if code == "b"] == ["CellStarted", "OutputStreamed", "CellFinished"]


async def test_abandoned_request_does_not_block_the_next(make_client):
    client = await make_client(**fake("ok"))
    events = client.execute("first")
    assert isinstance(await events.__anext__(), CellStarted)
    await events.aclose()  # the caller stops listening
    cell = await run(client, "second")
    assert cell.stdout == "second\n"
    assert all(isinstance(e, (CellStarted, OutputStreamed)) or e is cell.finished for e in cell.events)


async def test_an_interrupt_sent_as_a_cell_ends_never_stops_the_next(make_client):
    # The interrupt goes through the nanny, the next cell straight to the worker: the
    # client waits for the nanny to say the SIGINT went out before it sends that cell.
    client = await make_client(**fake("ok"))
    for n in range(20):
        events = client.execute(f"cell {n}")
        assert isinstance(await events.__anext__(), CellStarted)
        await client.interrupt()  # the cell may well be over already
        await events.aclose()
        cell = await run(client, f"next {n}")
        assert cell.status == "ok" and cell.stdout == f"next {n}\n", (n, cell.events)


async def test_restart_gives_a_new_worker_and_shutdown_stops(make_client):
    log = StateLog()
    client = await make_client(on_event=log, **fake("ok"))
    await client.ready.wait()
    first = family(client)
    await client.restart()
    assert client.state is WorkerState.STARTING
    await client.ready.wait()
    assert not (family(client) & first)
    await client.shutdown()
    assert client.state is WorkerState.STOPPED
    assert log.states[-1] is WorkerState.STOPPED
    # a stopped client starts again when asked to run something
    assert (await run(client, "back")).stdout == "back\n"


async def test_on_event_runs_on_the_loop_thread(make_client):
    import threading

    threads = set()
    client = await make_client(on_event=lambda e: threads.add(threading.get_ident()), **fake("ok"))
    await run(client, "x")
    assert threads == {threading.get_ident()}


async def test_a_failing_listener_does_not_break_the_client(make_client, capsys):
    def broken(event):
        raise RuntimeError("listener bug")

    client = await make_client(on_event=broken, **fake("ok"))
    assert (await run(client, "still works")).stdout == "still works\n"


# -- shutdown escalates: the request, then SIGTERM, then SIGKILL -------------------------------

async def test_shutdown_asks_first(make_client):
    client = await make_client(**fake("ok"))
    await client.ready.wait()
    tree = family(client)
    started = time.monotonic()
    assert await client.shutdown() == "shutdown"
    assert time.monotonic() - started < 1.0
    assert client.supervisor_pid is not None and client.state is WorkerState.STOPPED
    assert_gone(tree)


async def test_shutdown_sends_sigterm_to_a_worker_that_does_not_listen(make_client, tmp_path):
    mark = tmp_path / "mark"
    client = await make_client(shutdown_grace=0.3, **fake("ignore_shutdown", FAKE_WORKER_MARK=str(mark)))
    await client.ready.wait()
    tree = family(client)
    assert await client.shutdown() == "SIGTERM"
    assert mark.read_text() == "SIGTERM"
    assert_gone(tree)


async def test_shutdown_kills_a_worker_that_ignores_sigterm(make_client):
    client = await make_client(shutdown_grace=0.3, **fake("ignore_term"))
    await client.ready.wait()
    tree = family(client)
    started = time.monotonic()
    assert await client.shutdown() == "SIGKILL"
    assert 0.5 <= time.monotonic() - started < 5
    assert_gone(tree)


async def test_shutdown_of_a_busy_worker_skips_the_request(make_client):
    client = await make_client(shutdown_grace=0.3, **fake("hang"))
    task = asyncio.ensure_future(run(client, "spin"))
    await wait_state(client, WorkerState.RUNNING)
    await asyncio.sleep(0.2)
    tree = family(client)
    assert await client.shutdown() == "SIGTERM"  # the hang ignores SIGINT, not SIGTERM
    cell = await task
    assert cell.status == "killed" and cell.reason == "The worker was shut down: variables lost."
    assert_gone(tree)


async def test_shutdown_without_a_worker_says_so(make_client):
    client = await make_client(**fake("ok"))
    await client.shutdown()
    assert await client.shutdown() is None


async def test_the_real_worker_ends_on_the_request(make_client):
    client = await make_client()
    assert (await run(client, "x = 1")).status == "ok"
    assert await client.shutdown() == "shutdown"


# -- the restart policy, through the client ---------------------------------------------------

async def test_a_custom_restart_limit_is_used(make_client):
    from tutor.sandbox.restarts import RestartPolicy

    log = StateLog()
    client = await make_client(on_event=log, restarts=RestartPolicy(restart_limit=2),
                               **fake("die_idle", FAKE_WORKER_DELAY="0.1"))
    await wait_state(client, WorkerState.CRASHED, timeout=30)
    assert log.states.count(WorkerState.READY) == 2
    assert "died 2 times in a row" in client.reason


async def test_a_worker_that_was_up_long_enough_is_restarted_again(make_client):
    from tutor.sandbox.restarts import RestartPolicy

    log = StateLog()
    client = await make_client(on_event=log, restarts=RestartPolicy(restart_limit=2, stable_start_time=0.05),
                               **fake("die_idle", FAKE_WORKER_DELAY="0.3"))
    deadline = time.monotonic() + 20
    while log.states.count(WorkerState.READY) < 4 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert log.states.count(WorkerState.READY) >= 4  # each lived 0.3 s > 0.05 s: never counted twice
    assert WorkerState.CRASHED not in log.states


# -- the standby worker ---------------------------------------------------------------------

async def parked_spare(client, seconds: float = 20.0):
    """The client's spare worker once it has said "standby"."""
    deadline = time.monotonic() + seconds
    while not (client._standby.proc is not None and client._standby.parked):
        assert time.monotonic() < deadline, "no spare worker was made"
        await asyncio.sleep(0.02)
    return client._standby.proc


def tree_of(proc) -> set[int]:
    from tutor.sandbox import proctree

    root = proc.launched.process.pid
    return {root, *proctree.descendants(root)}


async def test_restart_takes_the_standby_and_a_new_one_is_made(make_client):
    client = await make_client(standby=True, **fake("ok"))
    await client.ready.wait()
    spare = await parked_spare(client)
    spare_supervisor = spare.launched.process.pid
    old = family(client)
    started = time.monotonic()
    await client.restart()
    await client.ready.wait()
    assert time.monotonic() - started < 0.5
    assert client.supervisor_pid == spare_supervisor  # the spare is the worker now
    assert_gone(old)
    assert (await run(client, "after")).stdout == "after\n"
    replacement = await parked_spare(client)
    assert replacement is not spare and replacement.launched.process.pid != spare_supervisor


async def test_a_crash_restart_takes_the_standby(make_client):
    client = await make_client(standby=True, **fake("ok"))
    await client.ready.wait()
    spare = await parked_spare(client)
    cell = await run(client, "exit")
    assert cell.status == "crashed" and cell.finished.state_lost
    await wait_state(client, WorkerState.READY)
    assert client.supervisor_pid == spare.launched.process.pid
    assert (await run(client, "again")).stdout == "again\n"


async def test_the_standby_is_not_leaked_at_exit(make_client):
    client = await make_client(standby=True, **fake("ok"))
    await client.ready.wait()
    spare_tree = tree_of(await parked_spare(client))
    assert len(spare_tree) >= 2  # its nanny and its worker
    await client.shutdown()
    assert_gone(spare_tree)


async def test_the_standby_is_not_counted_with_the_worker(make_client):
    """The spare holds 300 MB; the memory the client reports is the active worker's only."""
    from tutor.sandbox.events import ResourcesMeasured

    measured = []
    client = await make_client(standby=True, on_event=lambda e: isinstance(e, ResourcesMeasured) and measured.append(e),
                               **fake("ok", FAKE_WORKER_STANDBY_BYTES=str(300 * 2**20)))
    await client.ready.wait()
    await parked_spare(client)
    from tutor.sandbox import proctree

    spare_tree = tree_of(client._standby.proc)
    deadline = time.monotonic() + 10
    while sum(proctree.counted_rss(pid) for pid in spare_tree) < 250 * 2**20:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    measured.clear()
    await asyncio.sleep(2.5)  # two or three reports
    assert measured and all(e.rss < 100 * 2**20 for e in measured), measured


async def test_a_spare_that_dies_is_dropped_and_a_restart_starts_afresh(make_client):
    import os
    import signal

    client = await make_client(standby=True, **fake("ok"))
    await client.ready.wait()
    spare = await parked_spare(client)
    os.kill(spare.launched.process.pid, signal.SIGKILL)  # its nanny: the worker goes with it
    deadline = time.monotonic() + 10
    while client._standby.proc is not None:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert client.state is WorkerState.READY  # the active worker did not notice
    await client.restart()
    await client.ready.wait()
    assert client.supervisor_pid != spare.launched.process.pid
    assert (await run(client, "fresh")).stdout == "fresh\n"


async def test_warm_up_states_reach_the_client(make_client):
    from tutor.sandbox.events import WarmupChanged

    for outcome, detail in (("warm", "0.10"), ("failed", "RuntimeError: no")):
        log = StateLog()
        client = await make_client(on_event=log, **fake("ok", FAKE_WORKER_WARMUP=outcome))
        deadline = time.monotonic() + 10
        while client.warmup != outcome:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        changes = [(e.state, e.detail) for e in log.events if isinstance(e, WarmupChanged)]
        assert changes == [("warming", None), (outcome, detail)]
        assert (await run(client, "works")).stdout == "works\n"
