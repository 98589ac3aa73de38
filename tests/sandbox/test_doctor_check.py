"""``tutor doctor`` says whether the sandbox starts (a real worker with torch)."""

from __future__ import annotations

import re

import pytest

from tutor.commands import doctor_checks


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_sandbox_check_starts_a_worker_and_runs_a_cell():
    (name, finding, ok), = doctor_checks.sandbox_check()
    assert name == "sandbox" and ok, finding
    assert re.match(r"starts in \d+\.\d s on (cpu|cuda:\d|mps) \(.+\), torch \S+; "
                    r"warm-up \d+\.\d s more, in the background; a trivial cell takes "
                    r"\d+\.\d ms once warm; isolation: (user\+PID namespace|own session, nanny subreaper)", finding), finding


def test_sandbox_check_reports_a_worker_that_cannot_start(monkeypatch):
    from tutor.sandbox import client as client_module

    monkeypatch.setattr(client_module, "DEFAULT_WORKER", ["/nonexistent/python", "-m", "nothing"])
    (name, finding, ok), = doctor_checks.sandbox_check()
    assert name == "sandbox" and not ok
    assert finding.startswith("does not start: The worker could not start (3 tries)")
