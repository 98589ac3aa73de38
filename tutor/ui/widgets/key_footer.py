"""The footer: the most important keys first, and only keys that fit whole.

Textual's Footer (8.2.8) lists the keys of the focused widget first, then those of
its containers, the screen and the app, one per action, and lets the row run off the
right edge: at 80 columns the last labels were cut mid-word. This footer puts the
actions it is given as ``first`` first, then the keys of whatever has focus (a hint
on an exercise, fold and wrap on an output), then those given as ``last``; a key
that does not fit whole is left out. The help screen (? or F1) lists every key.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# A FooterKey is " key description " in the default (not compact) style: one cell of
# padding each side of the key, one after the description (FooterKey.DEFAULT_CSS).
KEY_PADDING = 3


class KeyFooter(Footer):
    """A footer that orders keys by importance and never shows a cut label.

    ``first`` and ``last`` are actions (``"run"``, ``"app.help"``, ``"command_palette"``).
    """

    def __init__(self, *, first: tuple[str, ...] = (), last: tuple[str, ...] = (), **kwargs) -> None:
        """The footer's own palette key is off: Ctrl+P is ranked like any action (``last``)."""
        super().__init__(show_command_palette=False, **kwargs)
        self.first = first
        self.last = last
        self._laid_out_width = 0
        self._shown: tuple = ()  # what the keys now on screen say

    def _rank(self, action: str) -> int:
        """Where ``action`` goes: ``first`` in their order, then what has focus, then ``last``."""
        if action in self.first:
            return self.first.index(action)
        if action in self.last:
            return len(self.first) + 1 + self.last.index(action)
        return len(self.first)  # what has focus: after the first, in Textual's order

    def footer_keys(self, width: int) -> list[tuple]:
        """(binding, enabled, tooltip, label) of the keys shown at ``width``, in order. The
        label is the screen's word for the action now (``key_label``: F5 says Check on
        an exercise), else the binding's description."""
        first_of_action: dict[str, tuple] = {}
        active = self.screen.active_bindings
        for _node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in first_of_action:
                first_of_action[binding.action] = (binding, enabled, tooltip)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        if palette is not None and self.app.ENABLE_COMMAND_PALETTE:
            first_of_action.setdefault(palette.binding.action, (palette.binding, palette.enabled, palette.tooltip))
        label = getattr(self.screen, "key_label", None)
        shown, room = [], width
        for binding, enabled, tooltip in sorted(first_of_action.values(), key=lambda entry: self._rank(entry[0].action)):
            description = (label(binding.action) if label else None) or binding.description
            needed = cell_len(self.app.get_key_display(binding)) + cell_len(description) + KEY_PADDING
            if needed > room:
                break  # the rest are less important: the help screen has them
            room -= needed
            shown.append((binding, enabled, tooltip, description))
        return shown

    def compose(self):
        """A ``FooterKey`` for each key that fits the width; what they say is kept to
        compare later."""
        if not self._bindings_ready:
            return
        width = self.size.width or self.app.size.width
        self._laid_out_width = width
        keys = self.footer_keys(width)
        self._shown = self._words(keys)
        for binding, enabled, tooltip, description in keys:
            yield FooterKey(binding.key, self.app.get_key_display(binding), description,
                            binding.action, disabled=not enabled,
                            tooltip=tooltip or binding.tooltip).data_bind(compact=Footer.compact)

    @staticmethod
    def _words(keys: list[tuple]) -> tuple:
        """What the keys say (key, label, enabled): two footers that say the same look the same."""
        return tuple((binding.key, description, enabled) for binding, enabled, _tooltip, description in keys)

    def bindings_changed(self, screen) -> None:
        """Textual calls it when the screen's bindings change (focus moved, a screen came)."""
        # Textual's Footer rebuilds every key whenever focus moves (each Run+next, each
        # Tab): about a millisecond of mounting. Rebuild only when the keys differ.
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        """Recompose when the width or the keys to show changed."""
        if not self.is_attached:
            return
        width = self.size.width or self.app.size.width
        if width != self._laid_out_width or self._words(self.footer_keys(width)) != self._shown:
            await self.recompose()

    def on_resize(self) -> None:
        """A new width may fit more or fewer keys."""
        if self.size.width != self._laid_out_width and self._bindings_ready:
            self.call_after_refresh(self._recompose_if_changed)
