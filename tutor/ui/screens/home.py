"""The home screen: the lessons with progress, "continue where you left off", reviews.

On a first start it draws from the course's outline (ids, titles, steps), and the app
gives it the parsed course when that is done (``show_course``).
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tutor.lessons.catalog import Catalog
from tutor.lessons.model import Lesson
from tutor.ui import keys
from tutor.ui.widgets.status_line import StatusLine

CONTINUE = "continue"
SESSION = "session:"  # an option for a session that runs on: "session:<lesson id>"
BAR_WIDTH = 16


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> Text:
    """``██████░░░░`` for done/total: the done part green, what is left dim (all dim
    when there is nothing to do). Each part is a span: a style given to ``Text()``
    itself would colour the whole line, what is appended to it too."""
    filled = round(width * done / total) if total else 0
    bar = Text()
    bar.append("█" * filled, style="green")
    bar.append("░" * (width - filled), style="dim")
    return bar


def lesson_card(lesson: Lesson, progress, width: int) -> LessonCard:
    """The lesson's entry: number and title, minutes, summary, progress and scores. Steps
    count as done by the progress model's one rule (the contents' ✓ marks agree)."""
    score = progress.score(lesson)
    done, steps = score.steps_done, score.steps
    right, quizzes = score.quizzes_right, score.quizzes
    passed, exercises = score.exercises_passed, score.exercises
    rows = [(Text(lesson.number or "··", style="bold"), Text(lesson.title, style="bold"),
             Text(f"{lesson.minutes} min", style="dim") if lesson.minutes else Text(""))]
    if lesson.summary:
        rows.append((Text(""), Text(lesson.summary, style="dim", overflow="ellipsis", no_wrap=width < 60), Text("")))
    line = progress_bar(done, steps)
    line.append(f" {done}/{steps} steps")
    if quizzes:
        line.append(f" · quiz {right}/{quizzes}")
    if exercises:
        line.append(f" · exercises {passed}/{exercises}")
    if score.done:
        line.append("  done ✓", style="bold green")
    rows.append((Text(""), line, Text("")))
    return LessonCard(rows)


class LessonCard:
    """Rows of (number, text, minutes) in three columns that fill the width: the number
    in 3 cells, the text wrapped, the minutes on the right; a space between columns. Laid out here, not as a rich ``Table``: the home screen's first frame
    measured and drew seven tables some three times each (about 20 ms of a start)."""

    NUMBER = 3

    def __init__(self, rows: list[tuple[Text, Text, Text]]) -> None:
        self.rows = rows

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        """Always the full width: the minutes sit at the right edge."""
        return Measurement(options.max_width, options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Each row as three padded columns, line by line; a shorter column is filled with
        spaces."""
        right = max(1, *(minutes.cell_len for _, _, minutes in self.rows))  # (a table's column: 1 at least)
        middle = max(1, options.max_width - self.NUMBER - 1 - (right + 1))
        # Each cell as a table's: justified (a line padded in its text's style), long words cut with "…".
        cell = options.update(justify="left", overflow="ellipsis")
        gap = Segment(" ")
        for number, text, minutes in self.rows:
            columns = [console.render_lines(number, cell.update(width=self.NUMBER, no_wrap=True), pad=True),
                       console.render_lines(text, cell.update(width=middle), pad=True),
                       console.render_lines(minutes, cell.update(width=right, no_wrap=True, justify="right"), pad=True)]
            for n in range(max(len(column) for column in columns)):
                for index, (column, cells) in enumerate(zip(columns, (self.NUMBER, middle, right))):
                    if index:
                        yield gap
                    yield from column[n] if n < len(column) else [Segment(" " * cells)]
                yield Segment.line()


class HomeScreen(Screen):
    DEFAULT_CSS = """
    HomeScreen { layout: vertical; }
    HomeScreen > .home-title {
        height: auto;
        padding: 1 2 0 2;
        text-style: bold;
        color: $accent;
    }
    HomeScreen > .home-note { height: auto; padding: 0 2; color: $text-muted; }
    HomeScreen > .home-note.-warning { color: $warning; }
    HomeScreen > OptionList, HomeScreen > OptionList:focus {
        height: 1fr;
        margin: 1 1 0 1;
        border: none;
        background: transparent;
    }
    HomeScreen > OptionList > .option-list--option { padding: 0 1; }
    """

    BINDINGS = [
        Binding("enter", "open", "Open", show=True),
        Binding("c", "continue", "Continue"),
        Binding("r", "review", "Review"),
        Binding(keys.HELP, "app.help", "Help"),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    def __init__(self, catalog: Catalog, store, problem: str | None = None):
        """``problem`` is the progress store's (its file could not be read or saved), shown
        above the list."""
        super().__init__()
        self.catalog = catalog
        self.store = store
        self.problem = problem
        self._filled_width: int | None = None  # the width the lesson cards were last laid out for

    def compose(self) -> ComposeResult:
        yield Static("tutor · deep learning with PyTorch, in your terminal", classes="home-title")
        yield Static("", id="home-note", classes="home-note", markup=False)  # it may quote a path
        yield OptionList(id="lessons", markup=False)  # titles and paths are text
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        # Not filled here: the screen is filled when it is shown (ScreenResume), which is
        # at once, or when the learner comes back from a lesson opened at launch.
        self.query_one(StatusLine).show(getattr(self.app, "prewarm_session", None))
        self.query_one(OptionList).focus()

    def show_course(self, catalog: Catalog) -> None:
        """The parsed course replaces the outline the screen was drawn from."""
        self.catalog = catalog
        if self.is_current:
            self.fill()

    def on_screen_resume(self) -> None:
        """Shown (at start or back from a lesson): refill the list and ask which sessions run on."""
        self.fill()  # progress may have changed in a lesson
        refresh = getattr(self.app, "list_background_sessions", None)
        if refresh is not None:
            refresh()  # a lesson left behind may run on now

    def on_resize(self) -> None:
        """Lay the cards out again only when their width changed."""
        if self.is_current and self._card_width() != self._filled_width:  # (at start-up: the same)
            self.fill()

    def _card_width(self) -> int:
        """The width the lesson cards are laid out at: the screen's, less the list's
        margins, padding and scrollbar."""
        return max(20, self.size.width - 6)

    def continue_target(self) -> tuple[Lesson, str] | None:
        """The lesson and step the learner was last at, if that lesson is still in the course."""
        position = self.store.last_position()
        if position is None:
            return None
        lesson_id, step_id = position
        for lesson in self.catalog.lessons:
            if lesson.id == lesson_id:
                return lesson, step_id
        return None

    def fill(self) -> None:
        """(Re)build the list with the latest progress, keeping the highlight."""
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        width = self._filled_width = self._card_width()
        options.clear_options()
        for listed in getattr(self.app, "background", ()):
            option = self._background_option(listed)
            if option is not None:
                options.add_option(option)
        target = self.continue_target()
        if target is not None:
            lesson, step_id = target
            step = next((s for s in lesson.steps if s.id == step_id), None)
            words = Text("▶ Continue: ", style="bold")
            words.append(f"{lesson.number + ' ' if lesson.number else ''}{lesson.title}")
            if step is not None:
                words.append(f" › {step.title}", style="dim")
            options.add_option(Option(words, id=CONTINUE))
        progress = self.store.lessons()  # one read of the file for every lesson
        for lesson in self.catalog.lessons:
            snapshot = progress.get(lesson.id) or self.store.lesson(lesson.id)
            options.add_option(Option(lesson_card(lesson, snapshot, width), id=lesson.id))
        for broken in self.catalog.broken:
            first = broken.errors[0] if broken.errors else "unreadable"
            options.add_option(Option(Text(f"!! {broken.path.name} cannot be opened: {first}", style="red"),
                                      disabled=True))
        if not self.catalog.lessons:
            options.add_option(Option(f"No lessons in {self.catalog.root}.", disabled=True))
        if highlighted is not None and highlighted < options.option_count:
            options.highlighted = highlighted
        elif options.option_count:
            options.highlighted = 0
        self._note()

    def _background_option(self, listed: dict) -> Option | None:
        """``⟳ 03 Training · training, 2 min ago`` for a session that runs on: Enter opens
        its lesson, which attaches to it."""
        from tutor.sessions.places import ago

        lesson = self.catalog.by_id(listed.get("lesson"))
        if lesson is None:
            return None  # another course's session: tutor sessions lists it
        crashed = listed.get("state") == "crashed"
        words = Text("⚠ " if crashed else "⟳ ", style="bold yellow" if crashed else "bold green")
        words.append(f"{lesson.number + ' ' if lesson.number else ''}{lesson.title}", style="bold")
        what = "its worker stopped while you were away" if crashed else str(listed.get("running") or "running")
        since = listed.get("since")
        words.append(f" · {what}" + (f", {ago(since)}" if isinstance(since, (int, float)) and not crashed else ""))
        where = getattr(self.app, "remote", None)
        words.append(f"  (on {where}; Enter shows it)" if where else "  (Enter shows it)", style="dim")
        return Option(words, id=f"{SESSION}{lesson.id}")

    def _note(self) -> None:
        """The line under the title: the problem, the reviews due, or a hint of the keys."""
        note = self.query_one("#home-note", Static)
        parts = []
        if self.problem:
            parts.append(f"⚠ {self.problem}")
        due = len(self.store.due_reviews())
        if due:
            parts.append(f"{due} to review · press r")
        note.update("\n".join(parts) or "Enter opens a lesson · c continues · ? shows every key")
        note.set_class(bool(self.problem), "-warning")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._open(event.option.id)

    def action_open(self) -> None:
        """Enter: open what is highlighted."""
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self._open(options.get_option_at_index(options.highlighted).id)

    def _open(self, option_id: str | None) -> None:
        """Open what an option stands for: continue, a session's lesson, or a lesson."""
        if option_id == CONTINUE:
            self.action_continue()
        elif option_id and option_id.startswith(SESSION):
            lesson = self.catalog.by_id(option_id[len(SESSION):])
            if lesson is not None:
                self.app.open_lesson(lesson)
        elif option_id:
            lesson = self.catalog.by_id(option_id)
            if lesson is not None:
                self.app.open_lesson(lesson)

    def action_continue(self) -> None:
        """Open the lesson at the step last seen, or the first lesson when none was."""
        target = self.continue_target()
        if target is None:
            if self.catalog.lessons:
                self.app.open_lesson(self.catalog.lessons[0])
            return
        self.app.open_lesson(target[0], target[1])

    def action_review(self) -> None:
        """Push the review screen, or say nothing is due."""
        self.app.parsed_catalog()  # the review shows the lessons' questions: parsed ones
        if not self.store.due_reviews():
            self.app.notify("Nothing to review now. Wrong answers come back a day later.", timeout=4)
            return
        from tutor.ui.screens.review import ReviewScreen  # imported when used: start-up stays fast

        self.app.push_screen(ReviewScreen())
