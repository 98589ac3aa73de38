"""The tutor's training-loop advice under a cell (``tutor.diagnose``): a hint, never an
error. Each piece is folded to one line (what it saw, where); Enter, ``o`` or a click
unfolds why it matters and the fix. The run goes on meanwhile."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.binding import Binding
from textual.widget import Widget

from tutor.sandbox.events import AdviceGiven
from tutor.ui import keys


def with_code(text: str, code_style: str) -> Text:
    """Plain words with their `code` spans styled (the backticks dropped)."""
    out = Text()
    for n, part in enumerate(text.split("`")):
        out.append(part, code_style if n % 2 else "")
    return out


class AdviceView(Widget, can_focus=True):
    """Every piece of advice one run got, in the order it came."""

    DEFAULT_CSS = """
    AdviceView { height: auto; padding: 0 1 0 0; color: $text-muted; }
    AdviceView:focus { background: $boost; }
    AdviceView > .advice--mark { color: $warning; text-style: bold; }
    AdviceView > .advice--code { color: $text; text-style: bold; }
    AdviceView > .advice--label { color: $text; }
    """
    COMPONENT_CLASSES = {"advice--mark", "advice--code", "advice--label"}
    BINDINGS = [Binding(f"{keys.FOLD},enter", "toggle", "advice: why and fix")]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.items: list[AdviceGiven] = []
        self.unfolded = False

    def add(self, advice: AdviceGiven) -> None:
        """Show one more piece of advice (a run can give several)."""
        self.items.append(advice)
        self.refresh(layout=True)

    @property
    def headlines(self) -> list[str]:
        """One line per piece of advice (tests, captures)."""
        return [_headline(a) for a in self.items]

    def action_toggle(self) -> None:
        """Fold or unfold every piece: one line each, or with why and fix."""
        self.unfolded = not self.unfolded
        self.refresh(layout=True)

    def on_click(self) -> None:
        self.action_toggle()

    def render(self) -> Group:
        """A ``▶ tip`` line per piece, cut to one row when folded; unfolded, its why and fix
        below."""
        mark = self.get_component_rich_style("advice--mark", partial=True)
        code = self.get_component_rich_style("advice--code", partial=True)
        label = self.get_component_rich_style("advice--label", partial=True)
        lines = []
        for advice in self.items:
            line = Text(("▼ " if self.unfolded else "▶ ") + "tip ", mark)
            line.append(with_code(_headline(advice), code))
            if not self.unfolded:
                line.no_wrap, line.overflow = True, "ellipsis"
                lines.append(line)
                continue
            lines.append(line)
            lines.append(Text("    why: ", label) + with_code(advice.why, code))
            lines.append(Text("    fix: ", label) + with_code(advice.fix, code))
        return Group(*lines)  # each line keeps its own folding (one row, an ellipsis)


def _headline(advice: AdviceGiven) -> str:
    """``line N: what it saw``, or only what it saw when there is no line."""
    return f"line {advice.line}: {advice.saw}" if advice.line else advice.saw
