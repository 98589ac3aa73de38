"""Asking for runs (tutor/ui/run_requests.py): a run asked for while nothing runs is
sent and shows its start in the key's own handler (no RunStarted message comes for
it); a run behind another shows "queued" until the queue gets to it, and its start
then comes as RunStarted; the cell shows running before its output either way."""

from __future__ import annotations

from textual import on

from tutor.sandbox.events import WorkerState
from tutor.ui.messages import RunReported, RunStarted
from tutor.ui.screens import lesson as lesson_module


def watching(heard: list[str]):
    class Watching(lesson_module.LessonScreen):
        @on(RunStarted)
        def a_run_started(self, message: RunStarted) -> None:
            heard.append(f"RunStarted {message.cell.cell_id}")

        @on(RunReported)
        def a_run_reported(self, message: RunReported) -> None:
            heard.append(f"RunReported {message.cell.cell_id} running={message.cell.running}")

    return Watching


async def test_a_run_asked_for_while_nothing_runs_is_sent_and_shows_its_start_at_once(make_app, monkeypatch, settle, cells):
    heard: list[str] = []
    monkeypatch.setattr(lesson_module, "LessonScreen", watching(heard))
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        first, second = cells(app)[:2]
        app.screen.enqueue(first)
        assert [label for label, *_ in clients[0].executed] == [first.label]  # sent in the key's own turn...
        assert first.running and app.screen.session.running_label == first.label  # ...and its start shown
        app.screen.enqueue(second)  # behind the first
        assert len(clients[0].executed) == 1  # it waits its turn
        assert not second.running and "queued" in second.header
        await settle(pilot, app)
        assert [label for label, *_ in clients[0].executed] == [first.label, second.label]
    assert not [h for h in heard if "printing-cell1" in h]  # its start shown at once, its output handed over
    assert heard.index("RunStarted printing-cell2") < heard.index("RunReported printing-cell2 running=True")
    assert first.output.buffer.text() and second.output.buffer.text()
    assert first.last_status == "ok" and second.last_status == "ok" and "queued" not in second.header


async def test_a_run_dropped_before_it_went_to_the_worker_says_not_run(make_app, settle, cells):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        first, second = cells(app)[:2]
        first.replace_code("block()")  # runs until interrupted
        app.screen.enqueue(first)  # sent at once...
        app.screen.enqueue(second)  # ...this one waits behind it...
        app.screen.action_interrupt()  # ...and is dropped before the queue sent it
        await settle(pilot, app)
        assert not second.running and "not run" in second.header
        assert first.last_status == "interrupted"
        assert [label for label, *_ in clients[0].executed] == [first.label]


async def test_a_run_asked_for_while_the_worker_starts_waits_for_it(make_app, settle, cells):
    app, clients = make_app("basics", start_delay=1.0)
    async with app.run_test(size=(100, 30)) as pilot:
        while not (isinstance(app.screen, lesson_module.LessonScreen) and app.screen.settled):
            await pilot.pause(0.02)
        first = cells(app)[0]
        assert clients[0].state is not WorkerState.READY
        app.screen.enqueue(first)  # nothing can be sent yet: it waits for the worker
        assert clients[0].executed == []
        await settle(pilot, app)
        assert [label for label, *_ in clients[0].executed] == [first.label]
        assert first.last_status == "ok"
