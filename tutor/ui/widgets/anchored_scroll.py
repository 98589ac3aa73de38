"""A vertical scroll that can hold one child at a fixed row of its view.

While held, the child stays where it is on screen whatever happens above it (a lesson
step filled above the view grows from its estimated height to its real one), and a
child held at row 0 is at the top of the view on the very frame whose layout first
places it (a lesson opened at a late step draws that step first, not the page's top).

    scroll.hold(widget)          # keep it where it is now
    scroll.hold(widget, row=0)   # bring it to the top, and keep it there
    scroll.release()             # scroll freely again (any scroll by the learner releases)

The hold is applied where Textual places the children (:meth:`arrange`), before the
compositor reads the scroll offset, the way Textual's own bottom anchor is applied:
so no frame is drawn with the content shifted.
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widget import Widget


class AnchoredScroll(VerticalScroll):
    def __init__(self, *children: Widget, **kwargs) -> None:
        super().__init__(*children, **kwargs)
        self._held: tuple[Widget, int] | None = None  # (child, its row in the view)

    @property
    def held(self) -> Widget | None:
        """The child held in place, if any."""
        return self._held[0] if self._held else None

    def hold(self, widget: Widget, row: int | None = None) -> None:
        """Keep ``widget`` (a child) ``row`` rows below the top of the view; by default
        the row it is on now."""
        if row is None:
            row = widget.virtual_region.y - round(self.scroll_y)
        self._held = (widget, row)
        self.refresh(layout=True)

    def release(self) -> None:
        """Let the view scroll freely again."""
        self._held = None

    def arrange(self, size, optimal: bool = False):
        """Textual's arrangement, with the scroll offset set so that the held child is at
        its row."""
        arrangement = super().arrange(size, optimal)
        if self._held is not None and not optimal:
            widget, row = self._held
            for placement in arrangement.placements:
                if placement.widget is widget:
                    bottom = arrangement.total_region.bottom
                    top = min(max(0, placement.region.y - row), max(0, bottom - size.height))
                    if top != round(self.scroll_y):
                        # As Textual anchors to the bottom: set without a watcher (which
                        # would count as the learner scrolling, and release the hold).
                        self.set_reactive(VerticalScroll.scroll_y, top)
                        self.set_reactive(VerticalScroll.scroll_target_y, top)
                        self.vertical_scrollbar.position = top
                    break
        return arrangement

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Any scroll that moves the view releases the hold."""
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.release()  # the learner (or a scroll to a widget) moved the view
