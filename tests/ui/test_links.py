"""Links in prose, followed from the keyboard: Ctrl+L lists the step's links; Enter
opens one in a browser when one would show on the learner's screen, else copies it."""

from __future__ import annotations

import webbrowser

import pytest
from textual.widgets import OptionList

from tutor.ui.screens import links as links_module
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.screens.links import LinksScreen, browser_here



class Recorder:
    def __init__(self, app, monkeypatch):
        self.opened, self.copied = [], []
        monkeypatch.setattr(app, "open_url", lambda url, **_: self.opened.append(url))
        monkeypatch.setattr(app, "copy_to_clipboard", self.copied.append)


@pytest.fixture
def to_further_reading(settle, footer_labels):
    async def go(pilot, app) -> None:
        await settle(pilot, app)
        assert "^l Links" not in footer_labels(app)  # the first step has no links
        app.screen.go_to_step("further-reading")
        await settle(pilot, app)
        assert app.screen.current_step == "further-reading"
    return go


@pytest.mark.parametrize("here", [True, False])
async def test_ctrl_l_lists_the_links_and_enter_follows_one(make_app, monkeypatch, here, screen_text, footer_labels,
                                                           to_further_reading):
    monkeypatch.setattr(links_module, "browser_here", lambda: here)
    app, _ = make_app("errors")
    record = Recorder(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_further_reading(pilot, app)
        assert "^l Links" in footer_labels(app)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LinksScreen)
        text = screen_text(app)
        assert "1. PyTorch documentation" in text and "3. https://pytorch.org/docs/stable/tensors.html" in text
        await pilot.press("down", "enter")
        await pilot.pause()
        url = "https://pytorch.org/docs/stable/nn.html#loss-functions"
        assert (record.opened, record.copied) == (([url], []) if here else ([], [url]))
        await pilot.press("3")  # a number follows that link at once
        await pilot.pause()
        assert (record.opened + record.copied)[-1] == "https://pytorch.org/docs/stable/tensors.html"
        await pilot.press("c")  # c copies, even where a browser would open
        await pilot.pause()
        assert record.copied[-1] == "https://pytorch.org/docs/stable/tensors.html"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)


async def test_ctrl_l_does_nothing_where_a_step_has_no_links(make_app, settle):
    app, _ = make_app("errors")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)


def test_a_browser_is_used_only_where_it_shows_on_the_learners_screen(monkeypatch):
    graphical = type("Browser", (), {"name": "xdg-open"})()
    text_only = type("Browser", (), {"name": "lynx"})()
    monkeypatch.setattr(webbrowser, "get", lambda: graphical)
    assert browser_here({"DISPLAY": ":0"}, "linux")
    assert not browser_here({"DISPLAY": ":0", "SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}, "linux")
    assert not browser_here({}, "linux")  # no display: nothing would show
    assert browser_here({}, "darwin")
    monkeypatch.setattr(webbrowser, "get", lambda: text_only)  # it would take over this terminal
    assert not browser_here({"DISPLAY": ":0"}, "linux")

    def none():
        raise webbrowser.Error("no browser")

    monkeypatch.setattr(webbrowser, "get", none)
    assert not browser_here({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
