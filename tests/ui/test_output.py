"""The output of a cell: the line buffer (pure) and the virtualised, folding view."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from tutor.ui.output_buffer import OutputBuffer, StyledLine, plain
from tutor.ui.widgets.output_rows import MARK, continuation_prefix, row_starts
from tutor.ui.widgets.output_view import OutputView


def lines(buffer: OutputBuffer) -> list[str]:
    return [plain(buffer.line(i)) for i in range(len(buffer))]


def test_lines_and_the_open_line():
    buffer = OutputBuffer()
    buffer.write("a\nb\nhalf")
    assert lines(buffer) == ["a", "b", "half"]
    buffer.write(" done\n")
    assert lines(buffer) == ["a", "b", "half done"]


def test_carriage_return_rewrites_the_line_like_a_terminal():
    buffer = OutputBuffer()
    buffer.write("progress 10%\r")
    buffer.write("progress 50%\r")
    assert lines(buffer) == ["progress 50%"]
    buffer.write("progress 100%\rdone\n")
    assert lines(buffer) == ["doneress 100%"]
    buffer.write("x\r\n")
    assert lines(buffer)[-1] == "x"


def test_ansi_colours_become_spans_and_carry_to_the_next_line():
    buffer = OutputBuffer()
    buffer.write("\x1b[1;31mred\nstill red\x1b[0m plain\nplain\n")
    first, second, third = (buffer.line(i) for i in range(3))
    assert isinstance(first, StyledLine) and first.text == "red" and first.spans[0].sgr == "1;31"
    assert second.text == "still red plain" and second.spans == ((0, 9, "1;31"),)
    assert third == "plain"


def test_other_escape_sequences_are_not_shown():
    buffer = OutputBuffer()
    buffer.write("a\x1b[2Kb\n")
    assert "\x1b" not in plain(buffer.line(0))


def test_stderr_lines_keep_their_kind():
    buffer = OutputBuffer()
    buffer.write("out\n")
    buffer.write("warning!\n", "stderr")
    assert buffer.line(0) == "out"
    assert buffer.line(1).kind == "stderr"


def test_head_and_tail_are_kept_and_the_middle_counted():
    buffer = OutputBuffer(head=3, tail=4)
    buffer.write("".join(f"{i}\n" for i in range(100)))
    shown = lines(buffer)
    assert shown[:3] == ["0", "1", "2"]
    assert shown[-4:] == ["96", "97", "98", "99"]
    assert buffer.total_lines == 100
    assert "93 lines not kept" in shown[3]


def test_a_flood_keeps_bounded_memory():
    buffer = OutputBuffer(head=10, tail=1000)
    for _ in range(100):
        buffer.write("".join(f"{i}\n" for i in range(1000)))
    assert len(buffer) <= 10 + 1 + 1250
    assert buffer.total_lines == 100_000


def test_the_sandbox_cap_is_counted():
    buffer = OutputBuffer()
    buffer.write("head\n")
    buffer.note_dropped(5000)
    buffer.write("tail\n")
    assert lines(buffer) == ["head", "⋯ 5,000 lines not kept ⋯", "tail"]


def test_one_huge_line_cut_by_the_sandbox_stays_one_line_with_its_whole_count():
    """print("x" * 10**7): the sandbox sends 1 MiB, drops the middle of the same line
    (no line dropped), then the tail: one line, with every character not shown counted."""
    buffer = OutputBuffer()
    buffer.write("before\n" + "x" * (1 << 20))
    buffer.note_dropped(0, 8_820_353)
    buffer.write("x" * 131_071 + "\n")
    buffer.write("after\n")
    shown = lines(buffer)
    assert len(shown) == 3 and shown[0] == "before" and shown[2] == "after"
    assert shown[1].endswith(f"… ({10**7 - 4000:,} more characters)")


def test_huge_lines_are_clipped():
    buffer = OutputBuffer()
    buffer.write("x" * 100_000 + "\n")
    assert len(plain(buffer.line(0))) < 5000
    assert "more characters" in plain(buffer.line(0))


async def written(pilot, view: OutputView, text: str) -> None:
    """``text`` written to the view's buffer, the view told, and the screen updated."""
    view.buffer.write(text)
    view.buffer_changed()
    await pilot.pause()


class OutputApp(App):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield OutputView()


async def test_long_output_is_folded_with_a_count_and_unfolds(screen_text):
    app = OutputApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(OutputView)
        await written(pilot, view, "".join(f"line {i}\n" for i in range(1000)))
        assert view.size.height == OutputView.FOLD_ROWS
        text = screen_text(app)
        assert "989 lines above · o unfolds" in text
        assert "line 999" in text and "line 500" not in text
        view.focus()
        await pilot.press("up", "up")
        await pilot.pause()
        assert "line 997" in screen_text(app) and "line 999" not in screen_text(app)
        assert "2 below" in screen_text(app)
        await pilot.press("o")
        await pilot.pause()
        assert view.size.height == 1000


async def rows_rendered_on_refresh(pilot, view: OutputView) -> int:
    calls = []
    original = view.render_line
    view.render_line = lambda y: calls.append(y) or original(y)  # type: ignore[method-assign]
    view.refresh()
    await pilot.pause()
    return len(calls)


async def test_only_visible_lines_are_rendered():
    app = OutputApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(OutputView)
        view.buffer.write("".join(f"line {i}\n" for i in range(100_000)))
        view.folded = False
        view.buffer_changed()
        await pilot.pause()
        assert 0 < await rows_rendered_on_refresh(pilot, view) <= 24


# -- soft wrap -------------------------------------------------------------------------

LONG_ERROR = ("ValueError: Target size (torch.Size([800])) must be the same as input size "
              "(torch.Size([800, 1]))")


def rows_of(text: str, width: int) -> list[str]:
    starts = row_starts(text, width)
    return [text[a:b] for a, b in zip(starts, starts[1:] + (len(text),))]


def test_rows_break_after_a_space_and_lose_no_character():
    rows = rows_of(LONG_ERROR, 40)
    assert "".join(rows) == LONG_ERROR
    assert rows == ["ValueError: Target size ", "(torch.Size([800])) must be the same ",
                    "as input size (torch.Size([800, 1]))"]
    assert len(rows[0].rstrip()) <= 40 and all(len(r.rstrip()) <= 40 - len(MARK) for r in rows[1:])


def test_a_word_longer_than_the_row_breaks_where_the_row_ends():
    assert rows_of("x" * 25, 10) == ["x" * 10, "x" * 8, "x" * 7]  # continuation rows leave room for the mark
    # A space early in the row would waste most of it: break mid-word instead.
    assert rows_of("a " + "b" * 20, 10) == ["a " + "b" * 8, "b" * 8, "b" * 4]


def test_rows_fit_and_nothing_is_left_over():
    assert row_starts("fits exactly", 12) == (0,)
    assert row_starts("x" * 10 + " ", 10) == (0,)  # only an invisible space beyond the edge
    assert row_starts("", 10) == (0,)


def test_wide_characters_count_two_cells():
    text = "日本語" * 10  # 60 cells
    rows = rows_of(text, 20)
    assert "".join(rows) == text
    assert [len(r) for r in rows] == [10, 9, 9, 2]


class NarrowApp(App):
    """An output 40 cells wide (38 for text, after its padding)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield OutputView()


def shown_rows(screen_text, app) -> list[str]:
    return [row.strip() for row in screen_text(app).splitlines() if row.strip()]


async def test_long_lines_wrap_with_a_mark_and_rewrap_on_resize(screen_text):
    app = NarrowApp()
    async with app.run_test(size=(40, 16)) as pilot:
        view = app.query_one(OutputView)
        view.buffer.write("short\n" + "word " * 20 + "\n")
        view.buffer.add_lines([LONG_ERROR], "error")
        view.buffer_changed()
        await pilot.pause()
        rows = shown_rows(screen_text, app)
        assert rows[0] == "short"
        assert rows[1] == "word word word word word word word"
        assert rows[2].startswith(MARK + "word")
        assert rows[4:] == ["ValueError: Target size", MARK + "(torch.Size([800])) must be the same",
                            MARK + "as input size (torch.Size([800, 1]))"]
        assert view.size.height == 7
        await pilot.resize_terminal(120, 16)
        await pilot.pause()
        assert shown_rows(screen_text, app) == ["short", ("word " * 20).strip(), LONG_ERROR]
        assert view.size.height == 3


async def test_w_pans_printed_lines_while_errors_keep_wrapping(screen_text):
    app = NarrowApp()
    async with app.run_test(size=(40, 16)) as pilot:
        view = app.query_one(OutputView)
        table = "| a | b | c |" + "-" * 50 + "| z |"
        view.buffer.write(table + "\n")
        view.buffer.write("a warning from a library, printed on stderr: long too\n", "stderr")
        view.buffer.add_lines([LONG_ERROR], "error")
        view.buffer_changed()
        await pilot.pause()
        assert view.can_focus  # a wide line: there is a choice to make
        view.focus()
        await pilot.pause()
        assert [b.binding.description for b in app.screen.active_bindings.values()
                if b.binding.key == "w"] == ["Pan"]
        await pilot.press("w")
        await pilot.pause()
        assert not view.wrap
        rows = shown_rows(screen_text, app)
        assert rows[0] == table[:37] + "›"  # cut at the edge (more to the right), not wrapped
        assert rows[1].startswith("a warning") and rows[2].startswith(MARK)  # stderr still wraps
        assert MARK + "as input size (torch.Size([800, 1]))" in rows  # the error too
        await pilot.press("right", "right")
        await pilot.pause()
        assert shown_rows(screen_text, app)[0] == "‹" + table[17:16 + 37] + "›"
        await pilot.press(*["right"] * 4)
        await pilot.pause()
        assert shown_rows(screen_text, app)[0] == "‹" + table[49:]  # the end of the line
        await pilot.press("w")
        await pilot.pause()
        assert view.wrap and shown_rows(screen_text, app)[1].startswith(MARK)


async def test_w_is_not_offered_when_no_printed_line_is_wider_than_the_view():
    app = NarrowApp()
    async with app.run_test(size=(40, 16)) as pilot:
        view = app.query_one(OutputView)
        view.buffer.write("".join(f"line {i}\n" for i in range(30)))
        view.buffer.add_lines([LONG_ERROR], "error")  # wraps whatever w says
        view.buffer_changed()
        view.focus()
        await pilot.pause()
        keys = {b.binding.key for b in app.screen.active_bindings.values()}
        assert "o" in keys and "w" not in keys


async def test_the_folded_window_counts_rows_and_shows_the_end_of_a_wrapped_line(screen_text):
    app = NarrowApp()
    async with app.run_test(size=(40, 24)) as pilot:
        view = app.query_one(OutputView)
        view.buffer.write("".join(f"line {i}\n" for i in range(20)))
        view.buffer.add_lines([LONG_ERROR], "error")
        view.buffer_changed()
        await pilot.pause()
        assert view.size.height == OutputView.FOLD_ROWS
        rows = shown_rows(screen_text, app)
        assert rows[-1] == MARK + "as input size (torch.Size([800, 1]))"  # the last row, in full
        assert rows[1:9] == [f"line {i}" for i in range(12, 20)]
        assert rows[0].startswith("⋯ 12 lines above")
        view.focus()
        await pilot.press("up", "up")  # two rows up: the error's last two rows go below
        await pilot.pause()
        rows = shown_rows(screen_text, app)
        assert rows[1] == "line 10" and rows[-1] == "ValueError: Target size"
        await pilot.press("end")
        await pilot.pause()
        assert shown_rows(screen_text, app)[-1] == MARK + "as input size (torch.Size([800, 1]))"


async def test_one_huge_line_folds_by_rows(screen_text):
    app = NarrowApp()
    async with app.run_test(size=(40, 24)) as pilot:
        view = app.query_one(OutputView)
        await written(pilot, view, "y" * 1000 + "\n")
        assert view.size.height == OutputView.FOLD_ROWS and view.can_focus
        rows = shown_rows(screen_text, app)
        assert "wrapped rows" in rows[0]
        assert rows[-1] == MARK + "y" * (1000 - 38 - 26 * 36)  # the end of the line
        view.focus()
        await pilot.press("o")
        await pilot.pause()
        # Taller than the screen: a scrollbar takes two columns, and the line wraps again.
        assert view.size.width == 36 and view.size.height == len(row_starts("y" * 1000, 36))
        rows = [view.render_line(y).text.strip() for y in range(view.size.height)]
        assert "".join(r.removeprefix(MARK) for r in rows) == "y" * 1000


async def test_only_visible_rows_are_rendered_when_lines_wrap():
    app = OutputApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(OutputView)
        view.buffer.write("".join(f"{i} " + "z" * 100 + "\n" for i in range(100_000)))
        view.folded = False
        view.buffer_changed()
        await pilot.pause()
        kept = len(view.buffer)
        assert view.size.height == 2 * (kept - 1) + 1  # two rows a line; one says what was not kept
        assert 0 < await rows_rendered_on_refresh(pilot, view) <= 24


def test_widest_is_at_least_every_kept_line():
    buffer = OutputBuffer(head=3, tail=4)
    buffer.write("ab\n" + "x" * 30 + "\n")
    assert buffer.widest >= 30 and buffer.widest_stdout >= 30
    buffer.write("日本" * 20 + "\n", "stderr")  # 40 characters, 80 cells
    buffer.add_lines(["e" * 60], "error")
    assert buffer.widest >= 80 and buffer.widest_stdout < 60  # errors and stderr never pan
    buffer.write("open line" + "q" * 80)
    assert buffer.widest_stdout >= 89
    buffer.clear()
    assert buffer.widest == buffer.widest_stdout == 0


def test_an_indented_line_keeps_its_indent_on_continuation_rows():
    frame = "    setup, line 2, in loss_fn: raise ValueError(f'Target size ({labels}) must match')"
    assert continuation_prefix(frame, 40) == "    " + MARK
    rows = rows_of(frame, 40)
    assert "".join(rows) == frame
    assert all(len(row.rstrip()) <= 40 - 6 for row in rows[1:])
    assert continuation_prefix(" " * 30 + "x", 30) == " " * 10 + MARK  # at most a third of the row
    assert continuation_prefix("anything", 7) == ""  # too narrow for a mark


async def test_a_focused_output_is_drawn_on_its_focus_background():
    app = NarrowApp()
    async with app.run_test(size=(40, 16)) as pilot:
        view = app.query_one(OutputView)
        await written(pilot, view, "".join(f"line {i}\n" for i in range(30)))
        unfocused = list(view.render_line(1))[0].style.bgcolor
        view.focus()
        await pilot.pause()
        assert list(view.render_line(1))[0].style.bgcolor != unfocused


def test_the_row_index_follows_every_change_of_the_buffer():
    """Updated with only what is new, the index agrees with one counted from scratch
    after every kind of change: appends that trim the tail, a wholesale new tail, the
    sandbox's cap, the open line, a clear, another width."""
    import random

    from tutor.ui.widgets.output_rows import RowIndex

    def rows_of(width):
        return lambda line: len(row_starts(plain(line), width))

    def from_scratch(buffer, width):
        lines = [buffer.line(i) for i in range(len(buffer))]
        counts = [len(row_starts(plain(line), width)) for line in lines]
        places = [(i, part) for i, count in enumerate(counts) for part in range(count)]
        return sum(counts), places

    rng = random.Random(16)
    buffer = OutputBuffer(head=7, tail=20)
    width = 12
    index = RowIndex(rows_of(width))
    for step in range(400):
        action = rng.random()
        if action < 0.6:
            buffer.write("".join("w" * rng.randrange(0, 40) + ("\n" if rng.random() < 0.8 else "")
                                 for _ in range(rng.randrange(1, 30))))
        elif action < 0.7:
            buffer.write("x" * rng.randrange(1, 30))  # an open line
        elif action < 0.8:
            buffer.add_lines(["e " * rng.randrange(1, 20)], "error")
        elif action < 0.85:
            buffer.note_dropped(rng.randrange(1, 100))
        elif action < 0.9:
            buffer.clear()
        elif action < 0.95:
            width = rng.choice([8, 12, 25])
            index.rows_of = rows_of(width)
        index.update(buffer, width)
        total, places = from_scratch(buffer, width)
        assert index.total == total, step
        assert [index.locate(row) for row in range(total)] == places, step


async def test_a_new_run_keeps_the_height_until_it_ends(screen_text):
    """While a run streams, the view does not shrink (the page is not laid out again as
    the last output goes and the new one grows); it takes its new height at the end."""
    app = NarrowApp()
    async with app.run_test(size=(40, 24)) as pilot:
        view = app.query_one(OutputView)
        await written(pilot, view, "".join(f"old {i}\n" for i in range(5)))
        assert view.size.height == 5
        view.hold_height()
        view.reset(redraw=False)
        await written(pilot, view, "new\n")
        assert view.size.height == 5 and shown_rows(screen_text, app) == ["new"]
        view.buffer.write("".join(f"more {i}\n" for i in range(30)))  # it grows past the height held
        view.buffer_changed()
        await pilot.pause()
        assert view.size.height == OutputView.FOLD_ROWS
        view.reset(redraw=False)
        view.buffer.write("last\n")
        view.buffer_changed()
        view.release_height()
        await pilot.pause()
        assert view.size.height == 1 and shown_rows(screen_text, app) == ["last"]


def wrapped(line: str, width: int) -> list[str]:
    """The rows ``line`` is drawn in at ``width``, as the view draws them."""
    starts = row_starts(line, width) + (len(line),)
    return [(MARK if k else "") + line[a:b].rstrip() for k, (a, b) in enumerate(zip(starts, starts[1:]))]


def epoch_line(i: int) -> str:
    return f"epoch {i:2d} " + " ".join(f"loss{k}=0.{i:03d}" for k in range(8))


class SizedApp(App):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield OutputView()

    def on_mount(self) -> None:
        self.query_one(OutputView).styles.width = self.width


@pytest.mark.parametrize("width", [30, 40, 47, 61, 75])
async def test_the_folded_window_starts_at_the_start_of_a_line(width):
    """Lines that wrap to two, three or more rows: the window shows whole lines (the
    rows a partial line would take stay blank above them), never a bare ``↪`` first."""
    app = SizedApp(width)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(OutputView)
        for count in (30, 31, 32):  # new lines stream in: the window stays on line starts
            view.buffer.clear()
            await written(pilot, view, "".join(epoch_line(i) + "\n" for i in range(count)))
            assert view.size.height == OutputView.FOLD_ROWS
            rows = [view.render_line(y).text.rstrip() for y in range(view.size.height)]
            shown = [row for row in rows[1:] if row]
            assert shown[0].startswith("epoch") and not shown[0].lstrip().startswith(MARK.strip())
            assert all(not row for row in rows[1:len(rows) - len(shown)])  # the blank rows are above
            per_line = len(row_starts(epoch_line(0), view.wrap_width))
            assert per_line > 1
            whole = (OutputView.FOLD_ROWS - 1) // per_line  # the lines that fit, in full
            assert shown == [row for i in range(count - whole, count) for row in wrapped(epoch_line(i), view.wrap_width)]
            assert rows[0].startswith(f"⋯ {count - whole} lines above")
        view.focus()
        await pilot.press("up")  # scrolled by a row: the line above shows its last row
        await pilot.pause()
        await pilot.press("end")
        await pilot.pause()
        rows = [view.render_line(y).text.rstrip() for y in range(view.size.height)]
        assert [row for row in rows[1:] if row][0].startswith("epoch")
