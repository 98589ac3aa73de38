"""Markdown lesson files -> the lesson model, with ``path:line:`` errors.

The format (a public contract, see docs/lesson-format.md): YAML front matter, ``##``
headings split the file into steps, and fenced blocks carry the interactive parts,
told apart by their info string. Parsing is CommonMark (markdown-it-py), so fences,
nested backticks and front matter behave as on any code host.

Loading a lesson executes nothing: code is compiled for syntax errors only.
"""

from __future__ import annotations

import builtins
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from tutor.diagnose.advice import KINDS
from tutor.lessons.model import (
    CodeCell,
    Exercise,
    Hint,
    Lesson,
    LessonError,
    ParseResult,
    Prose,
    Quiz,
    SetupCell,
    Step,
    workspace_path_problem,
)
from tutor.lessons.names import PYTHON_KINDS, RUNNABLE_LANGUAGES, SHELL_KINDS, StepIds, lesson_number

CELL_ATTRIBUTES = {"python": {"id", "raises", "diagnose", "file"}, "sh": {"id", "raises"}}
FRONT_MATTER_KEYS = {"id", "title", "summary", "minutes", "requires", "device"}
QUIZ_KEYS = {"question", "answer", "choices", "explain", "id", "tolerance"}
DEVICE_HINTS = {"cpu", "cuda", "mps", "any", "gpu"}
# Words that look like a misspelt interactive block rather than a display language.
_INTERACTIVE_WORDS = ("python", "sh", "quiz", "hint", "exercise", "check", "solution", "setup")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SHELL_ONLY = {  # why a python-only kind has no shell form
    "check": "checks are Python ('python check'); a check can read the files the command "
             "made, and its output with tutor.sandbox.workspace.last_command()",
    "setup": "hidden setup is Python ('python setup')",
}


class _Yaml12Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present
    """SafeLoader where only true/false are booleans (YAML 1.2), so that a quiz
    answer of ``yes`` or ``no`` stays the word the author wrote."""


_Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


@dataclass
class _Yaml:
    """A YAML document loaded with the line of each top-level key."""

    value: object
    key_lines: dict[str, int]


def _load_yaml(text: str, first_line: int) -> _Yaml:
    """Load YAML; ``first_line`` is the file line of the text's first line.

    Raises ``yaml.YAMLError`` whose ``problem_mark`` is relative to ``text``.
    """
    loader = _Yaml12Loader(text)
    try:  # compose once, then build the value from the same nodes (they carry the lines)
        node = loader.get_single_node()
        value = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    key_lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            key_lines[str(key_node.value)] = first_line + key_node.start_mark.line
    return _Yaml(value, key_lines)


def _yaml_error_line(err: yaml.YAMLError, first_line: int, text: str) -> int:
    """The file line of a YAML error. A problem found at the end of the text (an
    unclosed bracket, say) is reported where the unclosed thing began."""
    last = max(len(text.splitlines()) - 1, 0)
    problem = getattr(err, "problem_mark", None)
    context = getattr(err, "context_mark", None)
    mark = problem
    if mark is None or (mark.line > last and context is not None):
        mark = context or problem
    return first_line + (min(mark.line, last) if mark is not None else 0)


def _yaml_error_text(err: yaml.YAMLError) -> str:
    problem = getattr(err, "problem", None)
    context = getattr(err, "context", None)
    if problem and "<stream end>" in problem:
        opened = (context or "").replace("while parsing a ", "") or "a bracket or quote"
        return f"{opened} is never closed (a missing ']', '}}' or quote?)"
    parts = [p for p in (context, problem) if p]
    return ", ".join(parts) if parts else str(err).splitlines()[0]


@dataclass
class _Fence:
    """A top-level fenced block with its parsed info string."""

    kind: str  # code, exercise, check, solution, setup, hint, quiz, display
    content: str
    line: int  # file line of the opening fence
    attrs: dict[str, str] = field(default_factory=dict)
    language: str = "python"  # of a runnable block: python or sh

    @property
    def body_line(self) -> int:
        return self.line + 1


class _LessonParser:
    def __init__(self, path: Path, source: str):
        self.path = path
        self.source = source
        self.lines = source.splitlines()
        self.errors: list[LessonError] = []
        self.requires_line = 1
        self.id_line = 1

    def error(self, line: int, message: str) -> None:
        self.errors.append(LessonError(self.path, line, message))

    # -- info strings ------------------------------------------------------------

    def classify(self, token: Token) -> _Fence:
        line = token.map[0] + 1
        words = token.info.split()
        lang = words[0].lower() if words else ""
        fence = _Fence("display", token.content, line)
        if lang in RUNNABLE_LANGUAGES:
            rest = words[1:]
            kind = "code"
            kinds = PYTHON_KINDS if lang == "python" else SHELL_KINDS
            if rest and "=" not in rest[0]:
                word = rest.pop(0).lower()
                if word in kinds:
                    kind = word
                elif lang == "sh" and word in PYTHON_KINDS:
                    self.error(line, f"'sh {word}' is not a block type: {_SHELL_ONLY[word]}")
                    return fence
                else:
                    self.error(line, f"unknown block type '{lang} {word}'{_did_you_mean(word, kinds)}")
                    return fence
            fence.kind, fence.language = kind, lang
            known = CELL_ATTRIBUTES[lang]
            for word in rest:
                key, eq, value = word.partition("=")
                if not eq or not value:
                    self.error(line, f"cannot read '{word}' in the info string (expected key=value)")
                elif key not in known:
                    self.error(line, f"unknown attribute '{key}' (known: {', '.join(sorted(known))})")
                else:
                    fence.attrs[key] = value
            if "id" in fence.attrs and not _IDENTIFIER.match(fence.attrs["id"]):
                self.error(line, f"id '{fence.attrs['id']}' may use only letters, digits, '-', '_' and '.'")
            for key, check in (("raises", _raises_problem), ("diagnose", _diagnose_problem)):
                problem = check(fence.attrs[key]) if key in fence.attrs else None
                if problem:
                    self.error(line, problem)
            if "file" in fence.attrs:
                problem = workspace_path_problem(fence.attrs["file"])
                if problem:
                    self.error(line, problem)
                    del fence.attrs["file"]
                elif "raises" in fence.attrs:
                    self.error(line, "a file= cell is written to its file, not run: 'raises' does not apply")
            return fence
        if lang in ("quiz", "hint"):
            if len(words) > 1:
                self.error(line, f"'{lang}' takes nothing after it in the info string, got '{' '.join(words[1:])}'")
            fence.kind = lang
            return fence
        if lang and lang not in ("text", "console", "pycon", "py", "output"):
            close = difflib.get_close_matches(lang, _INTERACTIVE_WORDS, n=1, cutoff=0.75)
            if close:
                suggestion = close[0] if close[0] in ("python", "quiz", "hint") else f"python {close[0]}"
                self.error(
                    line,
                    f"unknown block type '{token.info.strip()}' (did you mean '{suggestion}'? "
                    "use 'text' for a block that is only shown)",
                )
        return fence

    # -- the whole file ----------------------------------------------------------

    def parse(self) -> Lesson | None:
        tokens = _block_parser().parse(self.source)

        meta, body_start = self.front_matter(tokens)

        # Top-level structure: h2 headings and fences, by line.
        headings: list[tuple[int, int, str]] = []  # (start, end, title), 0-based lines
        fences: list[tuple[int, int, Token]] = []
        for i, tok in enumerate(tokens):
            if tok.level != 0 or tok.map is None:
                continue
            if tok.type == "heading_open" and tok.tag == "h2":
                headings.append((tok.map[0], tok.map[1], tokens[i + 1].content.strip()))
            elif tok.type == "fence":
                self.check_closed(tok)
                fences.append((tok.map[0], tok.map[1], tok))

        if not headings:
            self.error(min(body_start + 1, max(len(self.lines), 1)), "the lesson has no steps: split it with '## ' headings")
        intro_end = headings[0][0] if headings else len(self.lines)
        intro = self.prose_between(body_start, intro_end, fences)
        for start, _, tok in fences:
            if start < intro_end and self.classify(tok).kind != "display":
                self.error(start + 1, "interactive block before the first '## ' heading")

        steps: list[Step] = []
        ids: dict[str, int] = {}
        step_ids = StepIds()
        pending_setup: list[SetupCell] = []
        for n, (start, end, title) in enumerate(headings):
            stop = headings[n + 1][0] if n + 1 < len(headings) else len(self.lines)
            slug = step_ids.next(title)
            blocks = self.step_blocks(slug, end, stop, fences, ids, pending_setup)
            steps.append(Step(id=slug, title=title, blocks=tuple(blocks), line=start + 1))
        for setup in pending_setup:
            self.error(setup.line, "setup block with no cell after it to run before")

        if meta is None:
            return None
        return Lesson(
            id=meta["id"],
            title=meta["title"],
            path=self.path,
            steps=tuple(steps),
            summary=meta.get("summary", ""),
            minutes=meta.get("minutes"),
            requires=tuple(meta.get("requires", ())),
            device=meta.get("device"),
            number=lesson_number(self.path),
            intro=intro,
            requires_line=self.requires_line,
            id_line=self.id_line,
        )

    def check_closed(self, tok: Token) -> None:
        last = tok.map[1] - 1
        marker = tok.markup
        closing = self.lines[last].strip() if last < len(self.lines) else ""
        if last <= tok.map[0] or not (closing.startswith(marker) and set(closing) == {marker[0]}):
            self.error(tok.map[0] + 1, f"code block opened with {marker} is never closed")

    def front_matter(self, tokens: list[Token]) -> tuple[dict | None, int]:
        """Validate the front matter. Returns (metadata or None, first body line)."""
        fm = next((t for t in tokens if t.type == "front_matter"), None)
        if fm is None:
            self.error(1, "no front matter: start the file with a '---' block holding at least id and title")
            return None, 0
        first = fm.map[0] + 2
        try:
            doc = _load_yaml(fm.content, first)
        except yaml.YAMLError as err:
            self.error(_yaml_error_line(err, first, fm.content), f"front matter is not valid YAML: {_yaml_error_text(err)}")
            return None, fm.map[1]
        meta = doc.value
        if not isinstance(meta, dict):
            self.error(fm.map[0] + 1, "front matter must be a YAML mapping (key: value lines)")
            return None, fm.map[1]
        line_of = lambda key: doc.key_lines.get(key, fm.map[0] + 1)  # noqa: E731
        ok = True
        for key in meta:
            if key not in FRONT_MATTER_KEYS:
                hint = _did_you_mean(str(key), FRONT_MATTER_KEYS)
                self.error(line_of(str(key)), f"unknown front-matter key '{key}'{hint}")
        for key in ("id", "title"):
            value = meta.get(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                self.error(fm.map[0] + 1, f"front matter has no '{key}'")
                ok = False
            elif not isinstance(value, (str, int)):
                self.error(line_of(key), f"'{key}' must be text")
                ok = False
            else:
                meta[key] = str(value)
        if ok and not _IDENTIFIER.match(meta["id"]):
            self.error(line_of("id"), f"lesson id '{meta['id']}' may use only letters, digits, '-', '_' and '.'")
        if "minutes" in meta and not (isinstance(meta["minutes"], int) and meta["minutes"] > 0):
            self.error(line_of("minutes"), "'minutes' must be a whole number above 0")
            meta.pop("minutes")
        if "summary" in meta:
            meta["summary"] = str(meta["summary"] or "").strip()
        if "requires" in meta:
            req = meta["requires"]
            if isinstance(req, str):
                req = [req]
            if not isinstance(req, list) or not all(isinstance(r, (str, int)) for r in req):
                self.error(line_of("requires"), "'requires' must be a lesson id or a list of lesson ids")
                req = []
            meta["requires"] = [str(r) for r in req]
        if "device" in meta and str(meta["device"]).lower() not in DEVICE_HINTS:
            self.error(line_of("device"), f"'device' must be one of {', '.join(sorted(DEVICE_HINTS))}")
        self.requires_line = line_of("requires")
        self.id_line = line_of("id")
        return (meta if ok else None), fm.map[1]

    def prose_between(self, start: int, stop: int, fences: list[tuple[int, int, Token]]) -> str:
        """Raw Markdown of lines [start, stop) minus interactive fences."""
        keep = [True] * (stop - start)
        for f_start, f_end, tok in fences:
            if f_end <= start or f_start >= stop:
                continue
            if _quiet_kind(tok) != "display":
                for i in range(max(f_start, start), min(f_end, stop)):
                    keep[i - start] = False
        return "\n".join(line for i, line in enumerate(self.lines[start:stop]) if keep[i]).strip()

    def step_blocks(self, slug, start, stop, fences, ids, pending_setup):
        """Blocks of one step, lines [start, stop)."""
        blocks: list = []
        counters = {"cell": 0, "exercise": 0, "quiz": 0}
        prose_from = start
        # The exercise or quiz that later check/solution/hint blocks belong to.
        owner: dict | None = None
        # Setup blocks run before the next cell and every later cell of this step (once per
        # worker): a learner who comes back mid-step, or after a restart, may start anywhere.
        step_setup: list[SetupCell] = []

        def flush_prose(until: int) -> None:
            text = "\n".join(self.lines[prose_from:until]).strip()
            if text:
                first = prose_from + next(i for i, l in enumerate(self.lines[prose_from:until]) if l.strip())
                blocks.append(Prose(text=text, line=first + 1))

        def finish_owner() -> None:
            nonlocal owner
            if owner is None:
                return
            if owner["type"] == "exercise":
                blocks[owner["index"]] = self.build_exercise(owner)
            else:
                quiz = blocks[owner["index"]]
                if quiz is not None:
                    blocks[owner["index"]] = _with_hints(quiz, owner["hints"])
            owner = None

        for f_start, f_end, tok in fences:
            if f_start < start or f_start >= stop:
                continue
            fence = self.classify(tok)
            if fence.kind == "display":
                continue
            flush_prose(f_start)
            prose_from = f_end
            kind = fence.kind
            if kind in ("code", "exercise"):
                finish_owner()
                if fence.language == "python":
                    self.check_syntax(fence)
                counter = "cell" if kind == "code" else "exercise"
                counters[counter] += 1
                block_id = fence.attrs.get("id") or f"{slug}-{counter}{counters[counter]}"
                self.claim_id(ids, block_id, fence.line)
                step_setup.extend(pending_setup)
                pending_setup.clear()
                setup = tuple(step_setup)
                if kind == "code":
                    blocks.append(CodeCell(id=block_id, code=fence.content, line=fence.line, setup=setup,
                                           raises=fence.attrs.get("raises"),
                                           diagnose=fence.attrs.get("diagnose"),
                                           language=fence.language, file=fence.attrs.get("file")))
                else:
                    if "raises" in fence.attrs:
                        self.error(fence.line, "'raises' applies only to plain cells, not to exercises")
                    blocks.append(None)  # placeholder, built once its check/solution are known
                    owner = {"type": "exercise", "index": len(blocks) - 1, "id": block_id, "fence": fence,
                             "check": None, "solution": None, "hints": [], "setup": setup}
            elif kind == "setup":
                self.check_syntax(fence)
                self.no_attrs(fence)
                pending_setup.append(SetupCell(code=fence.content, line=fence.line))
            elif kind == "quiz":
                finish_owner()
                counters["quiz"] += 1
                quiz = self.build_quiz(fence, f"{slug}-quiz{counters['quiz']}", ids)
                blocks.append(quiz)
                owner = {"type": "quiz", "index": len(blocks) - 1, "hints": []}
            elif kind in ("check", "solution"):
                if fence.language == "python":
                    self.check_syntax(fence)
                self.no_attrs(fence)
                if owner is None or owner["type"] != "exercise":
                    self.error(fence.line, f"'{fence.language} {kind}' block with no exercise before it")
                elif kind == "solution" and fence.language != owner["fence"].language:
                    language = owner["fence"].language
                    self.error(fence.line, f"the exercise at line {owner['fence'].line} is a '{language}' block: "
                                           f"write its solution as '{language} solution'")
                elif owner[kind] is not None:
                    self.error(fence.line, f"second '{kind}' for the exercise at line {owner['fence'].line}")
                else:
                    owner[kind] = fence
            elif kind == "hint":
                if owner is None:
                    self.error(fence.line, "'hint' block with no exercise or quiz before it")
                else:
                    owner["hints"].append(Hint(text=fence.content.strip(), line=fence.line))
        finish_owner()
        flush_prose(stop)
        return [b for b in blocks if b is not None]

    def no_attrs(self, fence: _Fence) -> None:
        if fence.attrs:
            self.error(fence.line, f"'{fence.language} {fence.kind}' takes no attributes")

    def claim_id(self, ids: dict[str, int], block_id: str, line: int) -> None:
        if block_id in ids:
            self.error(line, f"duplicate id '{block_id}' (first used at line {ids[block_id]})")
        else:
            ids[block_id] = line

    def check_syntax(self, fence: _Fence) -> None:
        try:
            compile(fence.content, f"{self.path}:{fence.line}", "exec")
        except SyntaxError as err:
            line = fence.body_line + (err.lineno or 1) - 1
            self.error(line, f"Python syntax error in '{fence.kind}' block: {err.msg}")
        except ValueError as err:  # e.g. null bytes
            self.error(fence.line, f"cannot compile '{fence.kind}' block: {err}")

    def build_exercise(self, owner: dict) -> Exercise | None:
        fence: _Fence = owner["fence"]
        check, solution = owner["check"], owner["solution"]
        if check is None:
            self.error(fence.line, "exercise has no 'python check' block after it")
        if solution is None:
            self.error(fence.line, f"exercise has no '{fence.language} solution' block after it")
        if check is None or solution is None:
            return None
        return Exercise(
            id=owner["id"],
            starter=fence.content,
            check=check.content,
            solution=solution.content,
            line=fence.line,
            check_line=check.line,
            solution_line=solution.line,
            hints=tuple(owner["hints"]),
            setup=owner["setup"],
            diagnose=fence.attrs.get("diagnose"),
            language=fence.language,
            file=fence.attrs.get("file"),
        )

    def build_quiz(self, fence: _Fence, default_id: str, ids: dict[str, int]) -> Quiz | None:
        first = fence.body_line
        try:
            doc = _load_yaml(fence.content, first)
        except yaml.YAMLError as err:
            self.error(_yaml_error_line(err, first, fence.content), f"quiz is not valid YAML: {_yaml_error_text(err)}")
            return None
        data = doc.value
        if not isinstance(data, dict):
            self.error(fence.line, "quiz must be a YAML mapping with at least 'question' and 'answer'")
            return None
        line_of = lambda key: doc.key_lines.get(key, fence.line)  # noqa: E731
        ok = True
        for key in data:
            if key not in QUIZ_KEYS:
                self.error(line_of(str(key)), f"unknown quiz key '{key}'{_did_you_mean(str(key), QUIZ_KEYS)}")
        question = data.get("question")
        if question is None or not str(question).strip():
            self.error(fence.line, "quiz has no 'question'")
            ok = False
        if "answer" not in data or data["answer"] is None or data["answer"] == "" or data["answer"] == []:
            self.error(fence.line, "quiz has no 'answer'")
            return None
        answer = data["answer"]
        if isinstance(answer, dict):
            self.error(line_of("answer"), "'answer' must be text, a number, or a list")
            return None
        choices = data.get("choices")
        tolerance = data.get("tolerance")
        if choices is not None:
            if not isinstance(choices, list) or len(choices) < 2 or any(isinstance(c, (dict, list)) for c in choices):
                self.error(line_of("choices"), "'choices' must be a list of at least two options")
                return None
            choices = tuple(_text(c) for c in choices)
            if len(set(choices)) != len(choices):
                self.error(line_of("choices"), "'choices' lists the same option twice")
                ok = False
            picked = [_text(a) for a in answer] if isinstance(answer, list) else [_text(answer)]
            for a in picked:
                if a not in choices:
                    self.error(line_of("answer"), f"answer '{a}' is not among the choices")
                    ok = False
            answer = tuple(picked) if isinstance(answer, list) else picked[0]
            if tolerance is not None:
                self.error(line_of("tolerance"), "'tolerance' applies only to a numeric free answer")
                ok = False
        else:
            if isinstance(answer, bool):
                answer = _text(answer)
            if isinstance(answer, list):
                if any(isinstance(a, (dict, list)) for a in answer):
                    self.error(line_of("answer"), "a list 'answer' must hold accepted answers as text or numbers")
                    return None
                answer = tuple(_text(a) for a in answer)
            elif not isinstance(answer, (int, float)):
                answer = _text(answer)
            if tolerance is not None:
                if not isinstance(answer, (int, float)):
                    self.error(line_of("tolerance"), "'tolerance' applies only to a numeric answer")
                    ok = False
                elif not isinstance(tolerance, (int, float)) or isinstance(tolerance, bool) or tolerance < 0:
                    self.error(line_of("tolerance"), "'tolerance' must be a number of 0 or more")
                    ok = False
        quiz_id = default_id
        if "id" in data:
            quiz_id = _text(data["id"])
            if not _IDENTIFIER.match(quiz_id):
                self.error(line_of("id"), f"id '{quiz_id}' may use only letters, digits, '-', '_' and '.'")
        self.claim_id(ids, quiz_id, line_of("id") if "id" in data else fence.line)
        if not ok:
            return None
        return Quiz(
            id=quiz_id,
            question=str(question).strip(),
            answer=answer,
            line=fence.line,
            choices=choices,
            explain=str(data.get("explain") or "").strip(),
            tolerance=float(tolerance) if tolerance is not None else None,
        )


_MARKDOWN: MarkdownIt | None = None


def _block_parser() -> MarkdownIt:
    """CommonMark with front matter and tables, block structure only: the lesson needs
    headings and fences, and inline parsing was a third of the time."""
    global _MARKDOWN
    if _MARKDOWN is None:
        _MARKDOWN = MarkdownIt("commonmark").use(front_matter_plugin).enable("table").disable("inline")
    return _MARKDOWN


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _with_hints(quiz: Quiz, hints: list[Hint]) -> Quiz:
    from dataclasses import replace

    return replace(quiz, hints=tuple(hints)) if hints else quiz


def _quiet_kind(tok: Token) -> str:
    """The kind of a fence without reporting errors (for prose extraction)."""
    words = tok.info.split()
    lang = words[0].lower() if words else ""
    return lang if lang in (*RUNNABLE_LANGUAGES, "quiz", "hint") else "display"


_EXCEPTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_EXCEPTION_ENDINGS = ("Error", "Exception", "Warning", "Interrupt", "Exit")
_BUILTIN_EXCEPTIONS = {name for name, value in vars(builtins).items()
                       if isinstance(value, type) and issubclass(value, BaseException)}


def _diagnose_problem(value: str) -> str | None:
    """What is wrong with ``diagnose=off`` or ``diagnose=KIND|KIND``, or None."""
    if value == "off":
        return None
    unknown = [kind for kind in value.split("|") if kind not in KINDS]
    if unknown:
        hint = _did_you_mean(unknown[0], ("off", *KINDS))
        return (f"diagnose='{value}': '{unknown[0]}' is not a mistake the tutor knows{hint} "
                "(write diagnose=off, or the mistakes the cell shows on purpose, e.g. diagnose=zero-grad)")
    return None


def _raises_problem(value: str) -> str | None:
    """What is wrong with ``raises=A|B`` (names of exception classes), or None."""
    names = value.split("|")
    for name in names:
        if not _EXCEPTION_NAME.match(name):
            return (f"raises='{value}': '{name}' is not an exception name "
                    "(write raises=RuntimeError, or raises=RuntimeError|NotImplementedError)")
        last = name.rsplit(".", 1)[-1]
        if last not in _BUILTIN_EXCEPTIONS and not last.endswith(_EXCEPTION_ENDINGS):
            return (f"raises='{value}': '{name}' does not look like an exception class "
                    f"(a built-in one, or a name ending in {', '.join(_EXCEPTION_ENDINGS)})")
    if len(set(names)) != len(names):
        return f"raises='{value}' names an exception twice"
    return None


def _did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def parse_text(source: str, path: Path | str = "<lesson>") -> ParseResult:
    """Parse lesson source. Never raises for a broken lesson: errors are returned."""
    path = Path(path)
    parser = _LessonParser(path, source)
    lesson = parser.parse()
    errors = tuple(sorted(parser.errors, key=lambda e: e.line))
    return ParseResult(path=path, lesson=lesson, errors=errors)


def parse_file(path: Path | str) -> ParseResult:
    """Read and parse one lesson file; unreadable files become errors too."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        return ParseResult(path, None, (LessonError(path, 1, f"not UTF-8 text ({err.reason})"),))
    except OSError as err:
        return ParseResult(path, None, (LessonError(path, 1, f"cannot read: {err.strerror or err}"),))
    return parse_text(source, path)
