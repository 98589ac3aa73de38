"""The web links a lesson's prose holds, so that a keyboard can reach them.

Markdown links (``[text](https://...)``), autolinks (``<https://...>``) and bare
``http(s)://`` addresses in the text count; relative links and other schemes do not
(nothing could open them). Parsed as CommonMark, like the lesson itself; pure.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from markdown_it import MarkdownIt

from tutor.lessons.model import Lesson, Prose, Step

_BARE_URL = re.compile(r"https?://[^\s<>\[\]`]+")
_MARKDOWN = MarkdownIt("commonmark").enable("table")


class Link(NamedTuple):
    text: str
    url: str


def _is_web(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _trim(url: str) -> str:
    """A bare address without the punctuation of the sentence around it."""
    while url:
        if url[-1] in ".,;:!?'\"":
            url = url[:-1]
        elif url[-1] == ")" and url.count(")") > url.count("("):
            url = url[:-1]
        else:
            break
    return url


def links_in(markdown: str) -> list[Link]:
    """The web links of ``markdown``, in order, each address once."""
    found: dict[str, Link] = {}
    for token in _MARKDOWN.parse(markdown):
        if token.type != "inline" or not token.children:
            continue
        href: str | None = None
        words: list[str] = []
        for child in token.children:
            if child.type == "link_open":
                href, words = str(child.attrs.get("href", "")), []
            elif child.type == "link_close":
                if href and _is_web(href):
                    found.setdefault(href, Link(" ".join("".join(words).split()) or href, href))
                href = None
            elif href is not None:
                words.append(child.content if child.type in ("text", "code_inline") else " ")
            elif child.type == "text":
                for url in map(_trim, _BARE_URL.findall(child.content)):
                    found.setdefault(url, Link(url, url))
    return list(found.values())


def step_links(lesson: Lesson, step: Step) -> list[Link]:
    """The links of a step's prose (the first step also has the lesson's introduction)."""
    texts = [lesson.intro] if lesson.steps and step is lesson.steps[0] and lesson.intro else []
    texts += [block.text for block in step.blocks if isinstance(block, Prose)]
    found: dict[str, Link] = {}
    for text in texts:
        for link in links_in(text):
            found.setdefault(link.url, link)
    return list(found.values())


class LessonLinks:
    """The links of each step of a lesson, found when first asked for."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self._by_step: dict[str, list[Link]] = {}

    def of(self, step_id: str | None) -> list[Link]:
        if step_id not in self._by_step:
            step = next((s for s in self.lesson.steps if s.id == step_id), None)
            self._by_step[step_id or ""] = step_links(self.lesson, step) if step else []
        return self._by_step[step_id or ""]
