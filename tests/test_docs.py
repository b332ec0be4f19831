"""The docs keep up with the commands: every command and option is in docs/commands.md, every example
there (and in the other pages) is a command line cloudctl accepts, and the exit statuses agree.

Walks the Typer/Click tree as sqlite-utils' test_docs.py does. When this fails after you add a command or
an option, document it in docs/commands.md, in its command's section.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from cloudctl.cli.app import app
from cloudctl.cli.errors import EXIT_STATUSES

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
REFERENCE = (DOCS / "commands.md").read_text(encoding="utf-8")
SHARED_HEADING = "Options every command shares"
# Options documented once, in the shared table, for every command that has them.
SHARED_OPTIONS = ("--format", "--help")
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def walk() -> Iterator[tuple[tuple[str, ...], typer.core.TyperCommand]]:
    """Every command and group, with its path: ("service",), ("service", "add"), ..."""
    root = typer.main.get_command(app)

    def visit(command, path, parent):  # type: ignore[no-untyped-def]
        context = command.context_class(command, info_name=path[-1] if path else "cloudctl", parent=parent)
        yield path, command
        for name in command.list_commands(context) if hasattr(command, "list_commands") else []:
            sub = command.get_command(context, name)
            if sub is not None and not sub.hidden:
                yield from visit(sub, (*path, name), context)

    yield from visit(root, (), None)


GROUPS = {path: command for path, command in walk() if hasattr(command, "list_commands")}
COMMANDS = {path: command for path, command in walk() if not hasattr(command, "list_commands")}


def option_names(command) -> list[str]:  # type: ignore[no-untyped-def]
    """Each visible option by its long name (its short one when it has no long one)."""
    names = []
    for param in command.params:
        if param.param_type_name != "option" or param.hidden:
            continue
        for opts in (param.opts, param.secondary_opts):
            if opts:
                long = [opt for opt in opts if opt.startswith("--")]
                names.append(long[0] if long else opts[0])
    return names


def section(heading: str) -> str | None:
    """The text under a heading of docs/commands.md, up to the next heading."""
    match = re.search(rf"^#+ {re.escape(heading)}[ \t]*$", REFERENCE, re.MULTILINE)
    if match is None:
        return None
    following = re.search(r"^#+ ", REFERENCE[match.end() :], re.MULTILINE)
    return REFERENCE[match.end() : match.end() + following.start() if following else len(REFERENCE)]


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_command_has_a_section_in_the_reference(path):
    assert section(f"cloudctl {' '.join(path)}") is not None, (
        f"docs/commands.md has no section '### cloudctl {' '.join(path)}': add one, with an example"
    )


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_option_is_in_its_commands_section(path):
    text = section(f"cloudctl {' '.join(path)}") or ""
    shared = section(SHARED_HEADING) or ""
    missing = [
        name
        for name in option_names(COMMANDS[path])
        if not re.search(rf"{re.escape(name)}(?![\w-])", text)
        and not (name in SHARED_OPTIONS and name in shared)
    ]
    assert not missing, f"docs/commands.md, section 'cloudctl {' '.join(path)}', does not mention {missing}"


def test_the_global_options_are_in_the_shared_table():
    shared = section(SHARED_HEADING)
    assert shared is not None
    for name in option_names(GROUPS[()]):
        assert f"`{name}" in shared, f"{name} is missing from '{SHARED_HEADING}' in docs/commands.md"


def test_every_section_names_a_command_that_exists():
    documented = re.findall(r"^#+ cloudctl ([a-z][a-z -]*?)[ \t]*$", REFERENCE, re.MULTILINE)
    assert documented
    stale = [name for name in documented if tuple(name.split()) not in COMMANDS]
    assert not stale, f"docs/commands.md documents commands that do not exist: {stale}"


def test_every_group_is_in_the_reference():
    for path in GROUPS:
        if path:
            assert f"cloudctl {' '.join(path)} " in REFERENCE


# --- examples ----------------------------------------------------------------------------------------


def command_lines(text: str) -> Iterator[list[str]]:
    """The arguments of each `cloudctl ...` command in a page's shell code blocks."""
    for block in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", text, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            lexer.commenters = "#"
            words: list[str] = []
            for token in [*lexer, ";"]:
                if token in ("|", "||", "&&", ";", "&"):
                    while words and "=" in words[0] and not words[0].startswith("-"):
                        words.pop(0)  # VARIABLE=value in front of the command
                    if words and Path(words[0]).name == "cloudctl":
                        yield words[1:]
                    words = []
                elif token and token[0] in "<>":
                    words.append("\0")  # the redirection's target follows
                elif words and words[-1] == "\0":
                    words.pop()
                else:
                    words.append(token)


def usage_mistake(args: list[str]) -> str | None:
    """What Click would say is wrong with a command line (without running it), or None."""
    from typer._click.exceptions import UsageError

    root = typer.main.get_command(app)
    try:
        context = root.make_context("cloudctl", list(args), resilient_parsing=False)
        command = root
        while hasattr(command, "resolve_command"):
            rest = [*context._protected_args, *context.args]
            if not rest:
                return None
            name, command, remaining = command.resolve_command(context, rest)
            context = command.make_context(name, remaining, parent=context)
    except UsageError as error:
        return error.format_message()
    except typer.Exit:  # --help, --version
        return None
    return None


EXAMPLES = [
    pytest.param(args, id=f"{page.name}: cloudctl {' '.join(args)}"[:120])
    for page in PAGES
    for args in command_lines(page.read_text(encoding="utf-8"))
]


def test_the_pages_have_examples():
    assert len(EXAMPLES) > 50


@pytest.mark.parametrize("args", EXAMPLES)
def test_every_example_in_the_docs_is_a_command_line_cloudctl_accepts(args):
    mistake = usage_mistake(args)
    assert mistake is None, f"cloudctl {' '.join(args)}: {mistake}"


def test_a_usage_mistake_is_caught_by_the_example_check():
    assert "No such option" in usage_mistake(["service", "list", "--bogus"])
    assert "Missing option" in usage_mistake(["assess", "record", "My Maths", "--by", "J"])
    assert usage_mistake(["service", "list", "--category", "pupil"]) is None


# --- exit statuses -----------------------------------------------------------------------------------

MEANING_WORDS = {0: "done", 1: "refused", 2: "command line", 3: "unexpected", 130: "interrupted"}


def test_every_exit_status_has_its_words():
    assert set(EXIT_STATUSES) == set(MEANING_WORDS)
    for code, word in MEANING_WORDS.items():
        assert word in EXIT_STATUSES[code]


@pytest.mark.parametrize("page", ["commands.md", "index.md"])
def test_the_docs_list_the_exit_statuses_the_code_uses(page):
    text = (DOCS / page).read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| *`?(\d+)`? *\| *(.+?) *\|$", text, re.MULTILINE))
    assert sorted(map(int, rows)) == sorted(EXIT_STATUSES), f"docs/{page}'s exit status table"
    for code, word in MEANING_WORDS.items():
        assert word in rows[str(code)].lower(), (page, code, rows[str(code)])
    assert "CLOUDCTL_DEBUG=1" in rows["3"]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_no_page_promises_an_exit_status_the_code_does_not_use(page):
    text = page.read_text(encoding="utf-8")
    for code in re.findall(r"(?:exit|exits with) status (\d+)", text):
        assert int(code) in EXIT_STATUSES, f"{page.name} mentions exit status {code}"
    # The status an unexpected problem gives is 3 now; once it was 2.
    assert not re.search(r"unexpected[^.]*status 2", text), page.name
