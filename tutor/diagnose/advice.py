"""What the diagnosis tells the learner: one piece of advice about a cell.

Advice is a hint, never an error: it says what the tutor saw (with the cell's line
when it knows it), why that matters, and the fix. It travels from the worker to the
client as a plain dict (``to_wire``/``from_wire``), so both sides need only this file.
"""

from __future__ import annotations

from dataclasses import dataclass

# The twelve mistakes, by stable name (tests, ``diagnose=`` and the wire use these).
KINDS = (
    "zero-grad",          # 1. backward() and step() in a loop that never zeroes the gradients
    "forward-call",       # 2. model.forward(x) instead of model(x)
    "squashed-logits",    # 3. softmax/sigmoid before CrossEntropyLoss/BCEWithLogitsLoss
    "eval-mode",          # 4. evaluating a model with dropout/batch norm in training mode
    "backward-no-grad",   # 5. backward() inside no_grad()/inference_mode()
    "loss-history",       # 6. a running total of loss tensors keeps every graph alive
    "optimizer-model",    # 7. the optimizer holds none of the trained model's parameters
    "no-gradients",       # 8. every gradient is None after backward()
    "loss-not-finite",    # 9. the loss became NaN or inf
    "loss-flat",          # 10. the loss has not moved in 100 steps
    "device-mismatch",    # 11. a model and its inputs on different devices
    "label-dtype",        # 12. classification labels of the wrong dtype or shape
)


@dataclass(frozen=True)
class Advice:
    """One thing the tutor noticed. ``line`` is 1-based in the cell's code, or None."""

    kind: str
    line: int | None
    saw: str
    why: str
    fix: str

    @property
    def headline(self) -> str:
        """The folded, one-line form: where and what."""
        return f"line {self.line}: {self.saw}" if self.line else self.saw

    def text(self) -> str:
        """Everything, as one paragraph."""
        return f"{self.headline} {self.why} Fix: {self.fix}"

    def to_wire(self) -> dict:
        return {"kind": self.kind, "line": self.line, "saw": self.saw, "why": self.why, "fix": self.fix}

    @classmethod
    def from_wire(cls, data: dict) -> "Advice":
        line = data.get("line")
        return cls(kind=str(data.get("kind", "")), line=line if isinstance(line, int) and line > 0 else None,
                   saw=str(data.get("saw", "")), why=str(data.get("why", "")), fix=str(data.get("fix", "")))
