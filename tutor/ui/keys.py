"""Every key of the app in one place: the bindings use these, the help screen lists them.

Each action has a key that survives tmux and SSH: function keys and plain ctrl+letter
combinations, never ctrl+enter or shift+enter alone.
"""

from __future__ import annotations

RUN = "f5,ctrl+r"
RUN_NEXT = "f6,ctrl+n"
INTERRUPT = "f7"
INTERRUPT_CTRL_C = "ctrl+c"  # only while a cell runs; otherwise it copies, as usual
RESTART = "f8"
RESET = "f9"
RUN_ABOVE = "f4,ctrl+o"
CONTENTS = "f2"
NEXT_STEP = "ctrl+down"
PREV_STEP = "ctrl+up"
HELP = "question_mark,f1"
BACK = "escape"
HINT = "f3,ctrl+t"
SOLUTION = "f10,ctrl+s"
FOLD = "o"
WRAP = "w"
LINKS = "ctrl+l"
PALETTE = "ctrl+p"
QUIT = "ctrl+q"

# The lesson footer's order (actions): these first, then the keys of what has focus,
# then the last ones, as far as they fit whole; the help screen lists them all.
FOOTER_FIRST = ("run", "run_next", "interrupt", "step(1)", "app.help")
FOOTER_LAST = ("toggle_toc", "restart", "reset", "command_palette")

HELP_SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Cells", (
        ("F5  or  Ctrl+R", "run the cell (an exercise: check it)"),
        ("F6  or  Ctrl+N", "run the cell and go to the next one"),
        ("F4  or  Ctrl+O", "run every cell above this one (it stops at the first that fails, and says where)"),
        ("F7  or  Ctrl+C", "interrupt the running cell; again: stop the worker at once (Ctrl+C copies when nothing runs)"),
        ("F8", "restart the worker (variables are lost)"),
        ("F9", "reset the cell to the lesson's code"),
        ("Esc", "leave the editor (then arrows scroll the page)"),
        ("PgDn / PgUp", "in the editor: a page down / up in the code; from its last / first line, the lesson's page"),
        ("Ctrl+Home / Ctrl+End", "in the editor: the start / end of the code (with Shift: select to there)"),
        ("Tab / Shift+Tab", "next / previous cell, output, button"),
    )),
    ("Output", (
        ("Tab", "focus the output of a cell (when it is long or has wide lines)"),
        ("o", "fold or unfold long output"),
        ("↑ ↓ PgUp PgDn Home End", "scroll folded output"),
        ("w", "wrap long lines (↪ marks a continuation), or pan them: for wide tables"),
        ("← →", "pan (when lines pan); errors and warnings always wrap"),
        ("o  or  Enter", "on a tip under a cell (the tutor's advice): why it matters, and the fix"),
    )),
    ("Exercises and quizzes", (
        ("F5", "check the exercise; in a quiz, answer it (as Enter)"),
        ("F3  or  Ctrl+T", "next hint"),
        ("F10 or  Ctrl+S", "show the solution (after one try)"),
        ("1-9, ↑ ↓ Enter", "pick a quiz answer"),
    )),
    ("Moving around", (
        ("F2", "table of contents"),
        ("Ctrl+↓ / Ctrl+↑", "next / previous step"),
        ("Ctrl+P", "command palette: any lesson or step, restart, theme"),
        ("Ctrl+L", "links of this step: open one in your browser, or copy it"),
        ("Esc", "back to the lessons (from the page)"),
        ("? or F1", "this help"),
        ("Ctrl+Q", "quit (your code and progress are saved)"),
    )),
)
