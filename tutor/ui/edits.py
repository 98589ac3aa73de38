"""The learner's edits of a lesson's code, saved to the progress store a moment after
the last keystroke, and at once when the lesson closes or the app quits. No Textual
here: the lesson screen lends its timer."""

from __future__ import annotations

from collections.abc import Callable

SAVE_DELAY = 0.8  # seconds after the last keystroke before edited code is saved


class EditSaver:
    """One lesson's edits waiting to be saved (``set_timer`` is the screen's)."""

    def __init__(self, store, lesson_id: str, set_timer: Callable) -> None:
        self.store = store
        self.lesson_id = lesson_id
        self._set_timer = set_timer  # (seconds, callback) -> a timer with stop()
        self._unsaved: dict[str, tuple[str, str]] = {}  # cell id -> (code, the lesson's code)
        self._timer = None

    def changed(self, cell_id: str, code: str, original: str) -> None:
        """A cell's code changed: save it soon (unedited code is stored as None)."""
        self._unsaved[cell_id] = (code, original)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self._set_timer(SAVE_DELAY, self.save)

    def reverted(self, cell_id: str) -> None:
        """The cell has the lesson's code again: forget its edit now."""
        self._unsaved.pop(cell_id, None)
        self.store.save_code(self.lesson_id, cell_id, None)

    def save(self) -> None:
        """Write every pending edit now."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        for cell_id, (code, original) in self._unsaved.items():
            self.store.save_code(self.lesson_id, cell_id, None if code == original else code)
        self._unsaved.clear()
