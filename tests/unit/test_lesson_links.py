"""The web links of lesson prose (tutor.lessons.links): what Ctrl+L lists."""

from __future__ import annotations

from pathlib import Path

from tutor.lessons import parse_text
from tutor.lessons.links import Link, links_in, step_links


def test_markdown_links_autolinks_and_bare_addresses_in_order():
    text = ("See [the *docs*](https://pytorch.org/docs) and <https://example.com/a>.\n"
            "Also https://en.wikipedia.org/wiki/Loss_(statistics). Or (https://x.org/y).\n\n"
            "| a | b |\n|---|---|\n| [in a table](http://table.example) | x |\n")
    assert links_in(text) == [
        Link("the docs", "https://pytorch.org/docs"),
        Link("https://example.com/a", "https://example.com/a"),
        Link("https://en.wikipedia.org/wiki/Loss_(statistics)", "https://en.wikipedia.org/wiki/Loss_(statistics)"),
        Link("https://x.org/y", "https://x.org/y"),
        Link("in a table", "http://table.example"),
    ]


def test_what_cannot_be_opened_is_left_out_and_each_address_counts_once():
    text = ("[a lesson](02-classification.md), [mail](mailto:a@b.c), `https://in.code/span`,\n\n"
            "```\nhttps://in.a.fence\n```\n\n[one](https://same.example) and [two](https://same.example)\n")
    assert links_in(text) == [Link("one", "https://same.example")]


def test_a_step_has_the_links_of_its_prose_and_the_first_step_those_of_the_intro():
    lesson = parse_text(
        "---\nid: t\ntitle: T\n---\n\nIntro with https://intro.example\n\n"
        "## One\n\nNothing here.\n\n```python\nprint('https://in.code.example')\n```\n\n"
        "## Two\n\nRead [this](https://two.example) and [that](https://intro.example).\n",
        Path("t.md")).lesson
    one, two = lesson.steps
    assert step_links(lesson, one) == [Link("https://intro.example", "https://intro.example")]
    assert step_links(lesson, two) == [Link("this", "https://two.example"), Link("that", "https://intro.example")]
