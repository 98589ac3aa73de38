"""The restart policy on its own (tutor.sandbox.restarts), with a fake clock."""

from __future__ import annotations

from tutor.sandbox.restarts import RestartPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_failed_starts_back_off_then_give_up():
    policy = RestartPolicy(restart_limit=3, clock=Clock())
    first, second, third = (policy.died(in_cell=False) for _ in range(3))
    assert (first.restart, first.delay) == (True, 0.5)
    assert (second.restart, second.delay) == (True, 1.0)
    assert not third.restart and third.reason == "The worker could not start (3 tries)"


def test_a_ready_worker_resets_the_failed_starts():
    policy = RestartPolicy(restart_limit=2, clock=Clock())
    assert policy.died(in_cell=False).restart
    policy.ready()
    assert policy.died(in_cell=True).restart
    assert policy.died(in_cell=False).delay == 0.5  # one failed start again, not two


def test_deaths_in_a_cell_are_never_counted():
    policy = RestartPolicy(restart_limit=2, clock=Clock())
    for _ in range(10):
        policy.ready()
        verdict = policy.died(in_cell=True)
        assert verdict.restart and verdict.delay == 0


def test_idle_deaths_in_a_row_give_up_unless_the_worker_was_stable():
    clock = Clock()
    policy = RestartPolicy(restart_limit=3, stable_start_time=60, clock=clock)
    for _ in range(2):
        policy.ready()
        clock.now += 10
        assert policy.died(in_cell=False).restart
    policy.ready()
    clock.now += 61  # up for longer than the stable start time: the count starts again
    assert policy.died(in_cell=False).restart and policy.idle_deaths == 1
    policy.ready()
    clock.now += 1
    assert policy.died(in_cell=False).restart
    policy.ready()
    verdict = policy.died(in_cell=False)
    assert not verdict.restart and verdict.reason.startswith("The worker died 3 times in a row")


def test_reset_starts_from_scratch():
    policy = RestartPolicy(restart_limit=2, clock=Clock())
    policy.died(in_cell=False)
    policy.reset()
    assert policy.died(in_cell=False).restart
