"""Stop and restart (tutor/ui/worker_controls.py): F7 with nothing running says so, and
a restart drops the runs waiting and says why in their cells (a request to the worker
that fails: tests/ui/test_worker_failures.py)."""

from __future__ import annotations


def told(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_stop_with_nothing_running_says_so(make_app, settle):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot, app)
        await pilot.press("f7")
        await pilot.pause()
        assert "Nothing is running." in told(app) and clients[0].interrupts == 0


async def test_a_restart_drops_the_runs_waiting(make_app, settle, cells):
    app, clients = make_app("charts")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        blocker, = [c for c in cells(app) if "block()" in c.code]
        waiting = cells(app)[0]
        app.screen.enqueue(blocker)
        app.screen.enqueue(waiting)  # behind the blocked cell
        await pilot.pause()
        assert blocker.running
        app.screen.restart_worker()  # the palette's "Restart worker": no question
        await settle(pilot, app)
        assert clients[0].restarts == 1
        assert "not run" in waiting.header
        assert str(waiting.query_one(".cell-result").render()) == "not run: the worker restarted"

