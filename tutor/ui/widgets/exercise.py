"""An exercise: the starter in an editor, Check (learner code, then the hidden check, in
the sandbox), feedback from the check's assertion, hints one at a time, the solution
after a pass or on request after a try, and reset to the starter. Keys and buttons
both work; the editor is read-only while a check runs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Markdown, Static

from tutor.lessons.model import Exercise
from tutor.ui import keys
from tutor.ui.widgets.cell import RunnableCell, editor_code, editor_language
from tutor.ui.widgets.editor import CodeEditor


class ExerciseView(RunnableCell):
    DEFAULT_CSS = """
    ExerciseView { border-left: tall $secondary 60%; }
    ExerciseView .exercise-buttons { height: auto; margin-top: 1; }
    ExerciseView .exercise-buttons Button { margin-right: 1; min-width: 0; height: 1; border: none; }
    ExerciseView .exercise-feedback { height: auto; margin-top: 1; }
    ExerciseView .exercise-feedback.-pass { color: $success; text-style: bold; }
    ExerciseView .exercise-feedback.-fail { color: $error; }
    ExerciseView .exercise-hints { height: auto; }
    ExerciseView .exercise-hints Markdown { margin: 0; padding: 0 1; background: $boost; }
    ExerciseView .exercise-solution { height: auto; display: none; }
    ExerciseView .exercise-solution Static { color: $success; }
    """
    BINDINGS = [
        Binding(keys.HINT, "hint", "Hint"),
        Binding(keys.SOLUTION, "solution", "Solution"),
    ]
    kind = "exercise"
    original_words = "the starter code"

    class SolutionRevealed(Message):
        """The learner asked for the solution before passing (recorded in their progress)."""

        def __init__(self, cell: "ExerciseView") -> None:
            super().__init__()
            self.cell = cell

    def __init__(self, block: Exercise, number: int, code: str, *, attempts: int = 0,
                 passed: bool = False, solution_revealed: bool = False, **kwargs):
        """``attempts``, ``passed`` and ``solution_revealed`` come from the learner's
        record; a pass reveals the solution."""
        super().__init__(block, number, code, **kwargs)
        self.attempts = attempts
        self.passed = passed
        self.solution_revealed = solution_revealed or passed
        self.hints_shown = 0
        self.checking = False
        self._feedback_shown = (self._status_words(), "")  # (text, tone), kept while unmounted

    @property
    def original_code(self) -> str:
        """The starter code: what a reset goes back to."""
        return editor_code(self.block.starter)

    def compose_below_editor(self) -> ComposeResult:
        """The buttons, the feedback (kept while unmounted), room for hints and the solution."""
        with Horizontal(classes="exercise-buttons"):
            yield Button("Check F5", id="check", variant="primary", compact=True, disabled=self.checking)
            if self.block.hints:
                yield Button(f"Hint F3 (0/{len(self.block.hints)})", id="hint", compact=True,
                             disabled=self.checking)
            yield Button("Solution F10", id="solution", compact=True, disabled=self.checking)
            yield Button("Reset F9", id="reset", compact=True, disabled=self.checking)
        text, tone = self._feedback_shown
        yield Static(text, classes=f"exercise-feedback {'-' + tone if tone else ''}".strip(),
                     markup=False)  # the check's words, or the learner's error
        yield Vertical(classes="exercise-hints")
        yield Vertical(classes="exercise-solution")

    def on_mount(self) -> None:
        """A passed exercise shows its border and solution from the start."""
        if self.passed:
            self.apply_border()
        if self.solution_revealed:
            self._show_solution(scroll=False)

    def header_text(self, state: str = ""):
        """The cell's header, with ``passed ✓`` while nothing else is said."""
        text = super().header_text(state)
        if self.passed and not state:
            text.append(" · passed ✓", "bold")
        return text

    def _status_words(self) -> str:
        """What the feedback says before a check: passed, the tries so far, or what to do."""
        if self.passed:
            return "✓ Passed."
        if self.attempts:
            return f"Not passed yet ({self.attempts} tr{'y' if self.attempts == 1 else 'ies'})."
        return "Complete the code, then Check (F5)."

    # -- buttons and keys ---------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """The buttons do what their keys do."""
        event.stop()
        action = {"check": self.request_check, "hint": self.action_hint,
                  "solution": self.action_solution, "reset": self.request_reset}.get(event.button.id or "")
        if action:
            action()

    def request_check(self) -> None:
        """The Check button: ask the lesson screen to check (ignored while a check is under way)."""
        if not self.checking:
            self.post_message(RunnableCell.RunRequested(self))

    def request_reset(self) -> None:
        """The Reset button: ask to reset to the starter (not while a check is under way)."""
        if not self.checking:
            self.ask_reset()

    def action_hint(self) -> None:
        """F3: show the next hint, or say there is none left."""
        hints = self.block.hints
        if not hints:
            self.app.notify("This exercise has no hints.", timeout=3)
            return
        if self.hints_shown >= len(hints):
            self.app.notify("That was the last hint.", timeout=3)
            return
        hint = hints[self.hints_shown]
        self.hints_shown += 1
        self.query_one(".exercise-hints").mount(Markdown(f"**Hint {self.hints_shown}/{len(hints)}.** {hint.text}"))
        button = self.query_one("#hint", Button)
        button.label = f"Hint F3 ({self.hints_shown}/{len(hints)})"

    def action_solution(self) -> None:
        """F10: show the solution; before a pass, only after a try and a confirmation (posts
        SolutionRevealed)."""
        if self.solution_revealed:
            self._show_solution()
            return
        if not self.attempts:
            self.app.notify("Try a Check (F5) first: the solution opens after one try.", timeout=4)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.solution_revealed = True
                self._show_solution()
                self.post_message(self.SolutionRevealed(self))

        from tutor.ui.screens.confirm import ConfirmScreen

        self.app.push_screen(ConfirmScreen("Show the solution? Trying a little longer teaches more.",
                                           yes="Show it"), answered)

    def _show_solution(self, scroll: bool = True) -> None:
        """Show the solution in a read-only editor, made the first time; scroll it into view
        if ``scroll``."""
        solution = self.query_one(".exercise-solution")
        if not solution.children:  # made when first shown: most learners never ask
            solution.mount(Static("Solution:"),
                           CodeEditor(editor_code(self.block.solution), read_only=True, id=f"solution-{self.cell_id}",
                                      language=editor_language(self.block)))
        solution.display = True
        if scroll:
            self.call_after_refresh(solution.scroll_visible)

    def border_tone(self) -> str:
        """Passed (green) once passed, unless it is the current cell."""
        tone = super().border_tone()
        return "passed" if self.passed and tone != "current" else tone

    def last_part(self):
        """The feedback, once there is a check to speak of: what a run should bring into view."""
        if self.checking or self.attempts:
            return self.query_one(".exercise-feedback")
        return super().last_part()

    # -- a check (called by the lesson screen) ---------------------------------------------

    def accepts_run(self) -> bool:
        """Not while a check waits or runs: a second Check changes nothing."""
        return not self.checking  # a second Check while one waits or runs changes nothing

    def show_queued(self, job, waiting: bool) -> None:
        """A queued check also makes the cell read-only until it ends."""
        super().show_queued(job, waiting)
        if job.is_check:
            self.begin_check()

    def begin_check(self) -> None:
        """A check is queued: input is ignored until it ends (the editor is read-only)."""
        self._set_checking(True)
        self._feedback("Checking…", "")

    def _set_checking(self, checking: bool) -> None:
        """Lock (or unlock) the editor and the buttons while a check waits or runs."""
        self.checking = checking
        self.editor.read_only = checking
        for button in self.query(".exercise-buttons Button").results(Button):
            button.disabled = checking

    def cancel_check(self, why: str) -> None:
        """The queued check will not run (no try is counted)."""
        self._set_checking(False)
        self._feedback(why, "fail")

    def show_run_started(self, job) -> None:
        """A check says ``checking…`` in the header."""
        super().show_run_started(job)
        if job.is_check:
            self.set_header("checking…")

    def show_run_ended(self, job, outcome) -> None:
        """A check ends in a pass or a fail with the check's feedback and advice; a plain
        run as any cell's."""
        if not job.is_check:
            return super().show_run_ended(job, outcome)
        self._show_ending(outcome)
        self.end_check(bool(outcome.passed), "\n".join([outcome.feedback, *outcome.advice]))

    def show_run_dropped(self, job, why: str) -> None:
        """A dropped check is cancelled without counting a try."""
        if job.is_check:
            self.cancel_check("Not checked: " + why.removeprefix("not run: ") + ".")
        super().show_run_dropped(job, why)

    def end_check(self, passed: bool, feedback: str) -> None:
        """A try ended: ``passed``, with the check's feedback."""
        self._set_checking(False)
        self.attempts += 1
        if passed:
            self.passed = True
            self.apply_border()
            self.solution_revealed = True
            self._show_solution()
        self._feedback(feedback, "pass" if passed else "fail")
        self.set_header("passed ✓" if passed else "not passed")

    def _feedback(self, text: str, tone: str) -> None:
        """Show the feedback in ``tone`` (pass, fail or none); kept for ``compose`` if the
        cell is not built yet."""
        self._feedback_shown = (text, tone)
        if not self.is_composed:
            return  # compose shows it
        feedback = self.query_one(".exercise-feedback", Static)
        feedback.set_classes(f"exercise-feedback {'-' + tone if tone else ''}".strip())
        feedback.update(text)
