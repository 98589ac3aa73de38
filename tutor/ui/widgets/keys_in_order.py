"""Editing keys applied in the order they were typed.

Textual inserts a printable key as soon as the focused Input or TextArea receives it,
but runs the widget's own bindings (backspace, delete, arrows, home, ...) only after
the key event has bubbled back up to the App. When keys arrive in a burst (fast typing
over SSH, keys sent through tmux), the App has already passed on the later characters
by then, so "backspace, x" could end as "x" deleted. Measured with a burst of three
backspaces and "xy" into "abc": a plain Input ends empty and a plain TextArea ends "ab".
"""

from __future__ import annotations

from textual import events


class KeysInOrder:
    """Mix in before an Input or TextArea class: run its own bindings on arrival."""

    async def _on_key(self, event: events.Key) -> None:
        """Run the widget's own (not priority) binding for the key now; other keys go to the
        widget as usual."""
        for binding in self._bindings.key_to_bindings.get(event.key, ()):  # type: ignore[attr-defined]
            if binding.priority:
                continue  # the App already ran those before the key got here
            if await self.app.run_action(binding.action, self):  # type: ignore[attr-defined]
                event.prevent_default()
                event.stop()
                return
        await super()._on_key(event)  # type: ignore[misc]
