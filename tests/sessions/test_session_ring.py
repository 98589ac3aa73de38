"""The host's memory: a bounded ring of numbered frames, and each cell's state with
an exact account of what an app that comes back lacks."""

from __future__ import annotations

from tutor.sandbox.events import (
    AdviceGiven, CellFailed, CellFinished, CellStarted, ImagesShown, MetricsLogged, OutputCapped, OutputStreamed, PlotUpdated,
)
from tutor.sessions.ring import CellBook, CellOutput, CellRecord, Dropped, Ring, Seen


def test_ring_keeps_the_newest_within_its_bytes():
    ring = Ring(max_bytes=100)
    for seq in range(1, 21):
        ring.append(seq, b"x" * 10)
    assert ring.size <= 100 and len(ring) == 10
    assert ring.first_seq == 11 and ring.last_seq == 20
    assert ring.holds_after(10) and not ring.holds_after(9)
    assert [seq for seq, _, _ in ring.after(15)] == [16, 17, 18, 19, 20]
    assert [seq for seq, _, _ in ring.after(10, limit_bytes=25)] == [11, 12, 13]
    assert ring.after(20) == []


def test_ring_always_keeps_the_last_frame_even_when_huge():
    ring = Ring(max_bytes=10)
    ring.append(1, b"a" * 5)
    ring.append(2, b"b" * 50, "state")
    assert [(seq, kind) for seq, _, kind in ring.after(0)] == [(2, "state")] and ring.dropped_frames == 1


def test_ring_refuses_numbers_out_of_order():
    ring = Ring()
    ring.append(1, b"")
    try:
        ring.append(3, b"")
    except ValueError:
        pass
    else:
        raise AssertionError("a gap in the numbers was accepted")


def lines(n: int, start: int = 0) -> str:
    return "".join(f"line {i}\n" for i in range(start, start + n))


def test_cell_output_keeps_head_and_tail_and_counts_the_middle():
    out = CellOutput(head_chars=100, tail_chars=100)
    text = lines(1000)
    for i in range(0, len(text), 37):
        out.add("stdout", text[i:i + 37])
    before, dropped_lines, dropped_chars, after = out.since(0, 0)
    head = "".join(t for _, t in before)
    tail = "".join(t for _, t in after)
    assert text.startswith(head) and len(head) == 100
    assert text.endswith(tail) and len(tail) == 100
    assert dropped_chars == len(text) - len(head) - len(tail)
    assert dropped_lines == text.count("\n") - head.count("\n") - tail.count("\n")


def test_one_huge_chunk_is_cut_to_the_tail():
    out = CellOutput(head_chars=10, tail_chars=20)
    text = lines(1000)
    out.add("stdout", text)
    before, dropped_lines, dropped_chars, after = out.since(0, 0)
    assert "".join(t for _, t in before) == text[:10] and "".join(t for _, t in after) == text[-20:]
    assert dropped_chars == len(text) - 30
    assert dropped_lines == text.count("\n") - text[:10].count("\n") - text[-20:].count("\n")


def test_cell_output_gives_only_what_an_app_lacks():
    out = CellOutput(head_chars=1000, tail_chars=1000)
    text = lines(50)
    out.add("stdout", text[:200])
    out.add("stderr", text[200:])
    seen = 150
    before, dropped_lines, dropped_chars, after = out.since(seen, text[:seen].count("\n"))
    assert (dropped_lines, dropped_chars) == (0, 0)
    assert "".join(t for _, t in before + after) == text[seen:]
    assert [name for name, _ in before + after] == ["stdout", "stderr"]


def test_an_app_that_saw_part_of_the_middle_is_told_only_the_rest_is_gone():
    out = CellOutput(head_chars=50, tail_chars=50)
    text = lines(100)
    for i in range(0, len(text), 10):
        out.add("stdout", text[i:i + 10])
    seen_chars = 300  # past the head, inside what was dropped
    seen_lines = text[:seen_chars].count("\n")
    before, dropped_lines, dropped_chars, after = out.since(seen_chars, seen_lines)
    tail = "".join(t for _, t in after)
    assert before == []
    assert dropped_chars == len(text) - len(tail) - seen_chars
    assert dropped_lines == text.count("\n") - tail.count("\n") - seen_lines


def record_with_everything() -> tuple[CellRecord, list]:
    record = CellRecord("app-1", "cell 3", {"cell": "c3"}, 0.0)
    record.output = CellOutput(head_chars=40, tail_chars=40)
    stream = [CellStarted(5)]
    stream += [OutputStreamed(5, "stdout", f"epoch {i}\n") for i in range(30)]
    stream += [MetricsLogged(5, ((float(i), {"loss": 1.0 / (i + 1)}),)) for i in range(5)]
    stream += [AdviceGiven(5, "zero-grad", 4, "no zero_grad", "gradients add up", "call zero_grad")]
    stream += [PlotUpdated(5, "line", "fit", ()), PlotUpdated(5, "line", "fit", ()),
               ImagesShown(5, "samples", (), 8), OutputCapped(5, 3, 30),
               CellFailed(5, "ValueError", "bad", (), None, 2), CellFinished(5, "error", 1.0, None, False, ())]
    for seq, event in enumerate(stream, 1):
        record.take(event, seq)
    return record, stream


def test_catch_up_from_nothing_rebuilds_the_cell_with_an_honest_gap():
    record, stream = record_with_everything()
    events = record.catch_up(Seen())
    assert events[0] == CellStarted(5)
    gap = [e for e in events if isinstance(e, Dropped)]
    shown = "".join(e.text for e in events if isinstance(e, OutputStreamed))
    everything = "".join(e.text for e in stream if isinstance(e, OutputStreamed))
    assert len(gap) == 1 and gap[0].lines == everything.count("\n") - shown.count("\n")
    assert sum(isinstance(e, MetricsLogged) for e in events) == 5
    assert [e.kind for e in events if isinstance(e, AdviceGiven)] == ["zero-grad"]
    assert [e for e in events if isinstance(e, PlotUpdated)] == [PlotUpdated(5, "line", "fit", ())]
    assert isinstance(events[-1], CellFinished) and isinstance(events[-2], CellFailed)


def test_catch_up_of_a_cell_seen_whole_repeats_nothing_but_full_state_charts():
    record, stream = record_with_everything()
    seen = Seen()
    for event in stream:
        seen.take(event)
    events = record.catch_up(seen)
    assert all(isinstance(e, (PlotUpdated, ImagesShown)) for e in events)  # idempotent replacements


def test_seen_from_a_malformed_list_is_nothing():
    assert Seen.from_list("junk") == Seen() and Seen.from_list([1, 2, 3, 0, True, True, True, "x"]) == Seen()
    seen = Seen(5, 1, 2, 1, True, False, True, False)
    assert Seen.from_list(seen.as_list()) == seen


def test_cell_book_is_bounded_and_finds_what_changed():
    book = CellBook(limit=3)
    for n in range(5):
        record = book.open(CellRecord(f"r{n}", "c", {}, 0.0))
        record.take(CellStarted(n), seq=n + 1)
    assert [r.ref for r in book] == ["r2", "r3", "r4"]
    assert [r.ref for r in book.changed_after(4)] == ["r4"]
    assert book.get("r0") is None
