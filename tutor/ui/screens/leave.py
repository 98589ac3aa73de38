"""The question when the app closes while cells run: keep them running in the
background (their sessions outlive the app), or stop them."""

from __future__ import annotations

from tutor.ui.screens.confirm import Choice, ChoiceScreen

KEEP, STOP, STAY = "keep", "stop", "stay"


class LeaveScreen(ChoiceScreen):
    """Dismissed with KEEP (``k``, focused), STOP (``s``) or STAY (escape: do not quit)."""

    def __init__(self, running: list[str]):
        """``running`` names what still runs, for the question."""
        self.running = running
        super().__init__(
            f"Still running: {', '.join(running)}.\n\nKeep it running in the background? Start tutor "
            "again to come back to it (its output is kept). Or stop it now (its variables are lost).",
            [Choice("Cancel", "esc", STAY), Choice("Stop it", "s", STOP, "error"),
             Choice("Keep running", "k", KEEP, "primary")],
            cancel=STAY, focus=KEEP)
