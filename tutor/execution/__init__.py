"""Running a lesson's blocks in the sandbox: one core for the app and ``tutor run``.

- :mod:`~tutor.execution.jobs`: what a block sends to the worker (a ``Job`` of parts),
  with the time limits, and the one place a new kind of block plugs in;
- :mod:`~tutor.execution.executor`: the routine that runs a job (setup once per
  worker, the code, the check);
- :mod:`~tutor.execution.outcome`: how it went, and the words for it.

No UI here (docs/architecture.md shows the layers).
"""

from tutor.execution.executor import Executor, Report, WorkerMemory
from tutor.execution.jobs import CHECK, CODE, INTERACTIVE, SETUP, Job, Limits, Part, block_label, job_for, runs
from tutor.execution.outcome import Outcome, PartRun, error_text, sandbox_failed

__all__ = [
    "CHECK", "CODE", "INTERACTIVE", "SETUP", "Executor", "Job", "Limits", "Outcome", "Part", "PartRun", "Report",
    "WorkerMemory", "block_label", "error_text", "job_for", "runs", "sandbox_failed",
]
