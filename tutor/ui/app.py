"""The app: owns the progress store and the lesson workers, and switches screens.

Workers: one per open lesson. The one for the lesson the learner is most likely to
open starts at launch, in the background, so start-up never waits for torch.

On a first start the app gets the course's outline (``tutor.lessons.outline``): the
home screen draws from it, and the full parse runs on a thread after the first frame;
a lesson is only ever opened from the parsed course.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.markup import escape
from textual.screen import Screen
from textual.signal import Signal

from tutor.execution.session import SandboxSession
from tutor.lessons.catalog import Catalog, LessonNotFound
from tutor.lessons.model import Lesson
from tutor.lessons.outline import CourseOutline
from tutor.progress.background import BackgroundStore
from tutor.ui import keys
from tutor.ui.messages import CourseParsed, ProgressNotSaved, SessionReported
from tutor.ui.worker_failures import ShowsWorkerFailures

SESSION_EVENTS = "tutor.sessions.events"  # news of a session, beside the worker's own
ClientFactory = Callable[..., object]  # (lesson_id, on_event) -> SandboxClient-like


def default_client_factory(*, device: str = "auto", memory_limit: int | None = None,
                           prewarm: bool = True) -> ClientFactory:
    """Makes a plain ``SandboxClient`` per lesson, in its workspace (no session outlives the
    app): the default."""
    def make(lesson_id: str, on_event):
        from tutor import config
        from tutor.sandbox.client import SandboxClient

        workdir = config.workspace_dir(lesson_id)
        workdir.mkdir(parents=True, exist_ok=True)
        # standby: a spare worker with torch imported makes F8 and crash restarts instant
        return SandboxClient(workdir=workdir, device=device, memory_limit=memory_limit,
                             prewarm=prewarm, on_event=on_event, standby=prewarm)

    return make


class TutorApp(ShowsWorkerFailures, App):
    TITLE = "tutor"
    BINDINGS = [Binding(keys.QUIT, "quit", "Quit", priority=True, show=False)]
    COMMAND_PALETTE_BINDING = keys.PALETTE

    def __init__(self, catalog: Catalog, store, *, lesson: Lesson | None = None, step_id: str | None = None,
                 client_factory: ClientFactory | None = None, remote: str | None = None,
                 parse_course: Callable[[], Catalog] | None = None):
        """``catalog`` may be an outline (``CourseOutline``): then ``parse_course`` gives
        the parsed course (``course_cache.Course.parsed``, safe to call from a thread)."""
        super().__init__()
        self.remote = remote  # where the workers run (sessions through ssh), or None: here
        self.catalog = catalog
        self.parse_course = parse_course
        if isinstance(catalog, CourseOutline) and parse_course is None:
            raise ValueError("an outline of the course needs parse_course")
        self.store = store
        if isinstance(store, BackgroundStore):  # its writes fail on another thread: tell us here
            store.on_failure = lambda problem: self.post_message(ProgressNotSaved(problem))
        self.start_lesson = lesson
        self.start_step = step_id
        self.client_factory = client_factory or default_client_factory()
        self.sessions: dict[str, SandboxSession] = {}
        self.prewarm_session: SandboxSession | None = None
        # A worker reported its state or resource use: the session, its facts up to date.
        self.worker_signal: Signal[SandboxSession] = Signal(self, "worker-reported")
        self.background: list[dict] = []  # sessions that run on without an app (tutor.sessions)

    # -- screens ------------------------------------------------------------------------

    def on_mount(self) -> None:
        """The home screen first, then the lesson asked for on the command line, or the
        worker and the parse after the first frame."""
        from tutor.ui.screens.home import HomeScreen

        self.push_screen(HomeScreen(self.catalog, self.store, self.store.problem))
        if self.start_lesson is not None:
            self.open_lesson(self.start_lesson, self.start_step)
        else:
            # After the first frame: the home screen shows at once, the worker starts
            # next, and on a first start the course is parsed.
            self.call_after_refresh(self._after_first_frame)
        if self.store.problem:
            self.notify(self.store.problem, title="Progress file", severity="warning", timeout=15, markup=False)
        self.list_background_sessions()

    # -- sessions that run on without an app ----------------------------------------------

    def list_background_sessions(self) -> None:
        """Find the sessions that run on (here, or on the remote machine) for the home
        screen; a thread, since asking a remote machine takes a moment."""
        if not getattr(self.client_factory, "sessions", False):
            return
        self.run_worker(self._list_background, thread=True, group="sessions", exclusive=True,
                        name="listing the sessions", exit_on_error=False)

    def _list_background(self) -> None:
        """On a thread: list the sessions, then hand them to the loop."""
        from tutor.sessions.control import session_list
        from tutor.sessions.transport import SessionUnavailable

        settings = self.client_factory.settings
        try:
            listed = session_list(settings.remote, ssh_command=settings.ssh_command,
                                  remote_python=settings.remote_python, timeout=30)
        except SessionUnavailable:
            return  # the lesson's own connection says what is wrong, once
        self.call_from_thread(self._background_listed, listed)

    def _background_listed(self, listed: list[dict]) -> None:
        """Keep the sessions that run on (or crashed) under their own lesson, and refill the
        home screen."""
        from tutor.ui.screens.home import HomeScreen

        self.background = [s for s in listed if s.get("session") in (None, s.get("lesson"))
                           and (s.get("running") or s.get("state") == "crashed")]
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                screen.fill()

    def _after_first_frame(self) -> None:
        """Start the likely lesson's worker; on a first start, parse the course on a thread."""
        self._prewarm()
        if isinstance(self.catalog, CourseOutline):
            self.run_worker(self._parse_course, thread=True, name="parsing the course", exit_on_error=False)

    def _parse_course(self) -> None:
        """On a thread: parse the course and post it as ``CourseParsed``."""
        self.post_message(CourseParsed(self.parse_course()))

    def on_course_parsed(self, message: CourseParsed) -> None:
        self._use_course(message.catalog)

    def parsed_catalog(self) -> Catalog:
        """The parsed course; on a first start, waits for the parse if it is not back."""
        if isinstance(self.catalog, CourseOutline):
            self._use_course(self.parse_course())
        return self.catalog

    def _use_course(self, catalog: Catalog) -> None:
        """The parsed course replaces the outline; the home screen shows it (now with
        the lessons that the parse found broken)."""
        from tutor.ui.screens.home import HomeScreen

        if not isinstance(self.catalog, CourseOutline):
            return  # already parsed: a lesson opened before the parse's message came
        self.catalog = catalog
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                screen.show_course(catalog)

    def _prewarm(self) -> None:
        """Start the worker of the lesson the learner will most likely open, and show it in
        the status line."""
        likely = self._likely_lesson()
        if likely is not None and self.prewarm_session is None:
            self.prewarm_session = self.session_for(likely)
            from tutor.ui.widgets.status_line import StatusLine

            for line in self.screen.query(StatusLine):
                line.show(self.prewarm_session)

    def _likely_lesson(self) -> Lesson | None:
        """The lesson the learner was last in, else the first."""
        position = self.store.last_position()
        lessons = self.catalog.lessons
        if position is not None:
            for lesson in lessons:
                if lesson.id == position[0]:
                    return lesson
        return lessons[0] if lessons else None

    def open_lesson(self, lesson: Lesson, step_id: str | None = None, focus_cell: str | None = None) -> None:
        """Show ``lesson`` (replacing another open lesson), at ``step_id`` if given."""
        from tutor.ui.screens.lesson import LessonScreen

        if isinstance(self.catalog, CourseOutline):  # opened before the parse was back
            try:
                lesson = self.parsed_catalog().find(lesson.id)
            except LessonNotFound as err:  # the parse found it broken: home now says so
                self.notify(str(err), severity="error", timeout=10, markup=False)
                return
        session = self.session_for(lesson)
        self.prewarm_session = session
        while isinstance(self.screen, LessonScreen) or len(self.screen_stack) > 2:
            self.pop_screen()
        self.push_screen(LessonScreen(lesson, session, self.store, step_id=step_id, focus_cell=focus_cell))
        self._stop_other_workers(keep=lesson.id)

    def on_review_screen_open_exercise(self, message) -> None:
        """The review screen asks to redo an exercise: open its lesson at that step."""
        lesson = self.catalog.by_id(message.lesson_id)
        if lesson is not None:
            self.open_lesson(lesson, message.step_id, focus_cell=message.exercise_id)

    def action_go_home(self) -> None:
        """Back to the home screen (it is always the stack's second screen)."""
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def action_help(self) -> None:
        """Show the keys (once: not over an open help screen)."""
        from tutor.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # -- workers ------------------------------------------------------------------------

    def session_for(self, lesson: Lesson) -> SandboxSession:
        """The worker session of ``lesson``, started now if there is none."""
        session = self.sessions.get(lesson.id)
        if session is None:
            holder: list[SandboxSession] = []

            def on_event(event) -> None:
                # Called on the event loop: keep the session's facts current at once
                # (the run task reads them), and tell the status lines (a signal: no
                # message that would have to search the screen's widgets for them).
                holder[0].observe(event)
                self.worker_signal.publish(holder[0])
                if type(event).__module__ == SESSION_EVENTS:
                    self.post_message(SessionReported(holder[0], event))

            session = SandboxSession(lesson.id, None)
            holder.append(session)
            session.client = self.client_factory(lesson.id, on_event)
            self.sessions[lesson.id] = session
            self.run_worker(session.client.start(), group="sandbox", name=f"starting the worker of {lesson.id}",
                            exit_on_error=False)
        return session

    def _stop_other_workers(self, keep: str) -> None:
        """Another lesson is open now: end the other workers, but a cell that runs goes
        on in its session (the home screen lists it)."""
        from tutor.ui import session_keeper

        for lesson_id in [lid for lid in self.sessions if lid != keep]:
            session = self.sessions.pop(lesson_id)
            if session_keeper.is_running(session) and session_keeper.outlives_app(session):
                self.notify(f"{session.running_label or 'A cell'} of {self.lesson_name(lesson_id)} goes on in the background "
                            "(the home screen lists it).", timeout=6, markup=False)
            self.run_worker(session_keeper.leave(session, keep_running=True), group="sandbox",
                            name=f"leaving the worker of {lesson_id}", exit_on_error=False)

    def on_progress_not_saved(self, message: ProgressNotSaved) -> None:
        """The background store could not write: say so, for long enough to read."""
        self.notify(message.problem, title="Progress file", severity="warning", timeout=15, markup=False)

    def on_session_reported(self, message: SessionReported) -> None:
        """News of a session (tutor.sessions.events): replayed runs go to the lesson's
        screen, the rest is said."""
        from tutor.sessions.events import CellReplayed
        from tutor.ui import session_keeper
        from tutor.ui.screens.lesson import LessonScreen

        if not self.screen_stack:
            return  # the app is closing: news of a session it is leaving
        if isinstance(message.event, CellReplayed):
            for screen in self.screen_stack:
                if isinstance(screen, LessonScreen) and screen.session is message.session:
                    screen.call_later(screen.show_replayed)
            return
        said = session_keeper.news(message.event)
        if said is not None:
            text, severity = said
            self.notify(text, severity=severity, timeout=10 if severity != "information" else 6, markup=False)

    async def shutdown_workers(self, *, keep_running: bool = True) -> None:
        """End every worker; with ``keep_running``, a cell that runs in a session goes on."""
        from tutor.ui import session_keeper

        sessions, self.sessions = list(self.sessions.values()), {}
        for session in sessions:
            await session_keeper.leave(session, keep_running=keep_running)

    def lesson_name(self, lesson_id: str) -> str:
        """``03 Computer vision`` (``lesson ID`` when the course no longer has it)."""
        lesson = self.catalog.by_id(lesson_id)
        return lesson.name if lesson is not None else f"lesson {lesson_id}"

    async def action_quit(self) -> None:
        """Quit; when cells run in sessions, ask first: keep them running, or stop them."""
        from tutor.ui import session_keeper

        for screen in self.screen_stack:
            save = getattr(screen, "save_edits", None)
            if save is not None:
                save()
        running = session_keeper.running_labels(self.sessions.values(), self.lesson_name)
        if not running:
            await self.shutdown_workers(keep_running=False)
            self.exit()
            return
        from tutor.ui.screens.leave import KEEP, STOP, LeaveScreen

        async def answered(answer: str | None) -> None:
            if answer in (KEEP, STOP):
                await self.shutdown_workers(keep_running=answer == KEEP)
                self.exit()

        self.push_screen(LeaveScreen(running), answered)

    async def on_unmount(self) -> None:
        """Ended without asking (the terminal went, a signal): what runs goes on, the rest ends."""
        await self.shutdown_workers(keep_running=True)
        self.store.close()

    # -- command palette ----------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette: every lesson and step, the lesson screen's worker commands,
        and a few of Textual's."""
        from tutor.ui.screens.lesson import LessonScreen

        # The palette reads titles as markup: a lesson's words are escaped to stay text.
        for lesson in self.catalog.lessons:
            yield SystemCommand(escape(f"Lesson {lesson.name}"), escape(lesson.summary or "Open this lesson"),
                                lambda lesson=lesson: self.open_lesson(lesson))
        for lesson in self.catalog.lessons:
            for n, step in enumerate(lesson.steps, 1):
                yield SystemCommand(escape(f"Step {lesson.number or lesson.id}.{n} {step.title}"),
                                    escape(f"in {lesson.title}"),
                                    lambda lesson=lesson, step=step: self._go_to(lesson, step.id))
        if isinstance(screen, LessonScreen):
            yield SystemCommand("Restart worker", "Fresh Python: every variable of this lesson is lost",
                                screen.restart_worker)
            yield SystemCommand("Run all cells above", "Run every cell before the current one",
                                screen.action_run_above)
        yield SystemCommand("Home", "The list of lessons", self.action_go_home)
        yield SystemCommand("Keys", "Every key of the tutor", self.action_help)
        for command in super().get_system_commands(screen):
            if command.title in ("Theme", "Quit", "Screenshot"):
                yield command

    def _go_to(self, lesson: Lesson, step_id: str) -> None:
        """The palette's step: scroll to it in the open lesson, or open its lesson there."""
        from tutor.ui.screens.lesson import LessonScreen

        screen = self.screen
        if isinstance(screen, LessonScreen) and screen.lesson.id == lesson.id:
            screen.go_to_step(step_id)
        else:
            self.open_lesson(lesson, step_id)


def run_app(catalog: Catalog, *, lesson: Lesson | None = None, device: str = "auto",
            memory_limit: int | None = None, progress_path: Path | None = None, settings=None,
            parse_course: Callable[[], Catalog] | None = None) -> int:
    """``settings``: a ``session_keeper.SessionSettings`` (sessions on, here, by default);
    ``parse_course``: as for ``TutorApp``, when ``catalog`` is the course's outline."""
    from dataclasses import replace

    from tutor.ui import session_keeper

    settings = replace(settings or session_keeper.SessionSettings(), device=device, memory_limit=memory_limit)
    store = BackgroundStore.open(progress_path)
    holder: list[TutorApp] = []
    factory = session_keeper.client_factory(settings, catalog,
                                            ask_takeover=lambda busy: session_keeper.ask_takeover(holder[0], busy))
    app = TutorApp(catalog, store, lesson=lesson, client_factory=factory, remote=settings.remote,
                   parse_course=parse_course)
    holder.append(app)
    app.run()
    return app.return_code or 0
