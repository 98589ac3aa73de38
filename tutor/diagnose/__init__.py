"""The tutor that watches you train: it notices common training-loop mistakes and
explains each as advice under the cell (what it saw, why it matters, the fix).

- ``advice``: the ``Advice`` a cell gets (and its wire form).
- ``facts`` + ``static``: mistakes 1-6, read from the cell's code before it runs (pure).
- ``runtime``: mistakes 4 and 7-12, watched in the worker while the cell runs.

Pure apart from ``runtime`` (which the worker imports, with torch already loaded):
nothing here imports textual, rich or the UI.
"""

from tutor.diagnose.advice import KINDS, Advice
from tutor.diagnose.static import EvalRegion, Report, diagnose_code, diagnose_tree

__all__ = ["KINDS", "Advice", "EvalRegion", "Report", "diagnose_code", "diagnose_tree"]
