"""The consent forms and the published register, printed to PDF by a real headless Chromium.

Debian's `chromium` prints each file as a school office would (File > Print > Save as PDF, A4), and pypdf
reads the pages back: each pupil's form starts on a new A4 page, forms for N pupils are N pages, no text is
cut off (every service name, the reply code and a 60-character name are whole in the text), and a register
with many services continues onto further pages. Without chromium these tests skip and say why; with
CI=true they fail instead (.ci/run installs it), as the PostgreSQL half does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import HUNWICK
from tests.helpers.pupils import add_pupils

pypdf = pytest.importorskip("pypdf")

A4_POINTS = (595.0, 842.0)
# Exactly 60 characters as the form prints it (forename, a space, surname).
LONG_FORENAME = "Maximilian-Alexander Bartholomew"
LONG_SURNAME = "Featherstonehaugh-Whitfield"
LONG_NAME = f"{LONG_FORENAME} {LONG_SURNAME}"
PUPILS = [
    {"year_group": "R", "class_name": "MX", "forename": "Ada", "surname": "Ash"},
    {"year_group": "2", "class_name": "MX", "forename": "Bea", "surname": "Birch"},
    {"year_group": "3", "class_name": "MX", "forename": "Cal", "surname": "Cedar"},
    {"year_group": "5", "class_name": "MX", "forename": LONG_FORENAME, "surname": LONG_SURNAME},
    {"year_group": "6", "class_name": "MX", "forename": "Eli", "surname": "Elm"},
]  # fmt: skip


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        reason = (
            "needs Debian's chromium to print the forms to PDF "
            "(apt-get install chromium; .ci/run installs it)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but chromium is not installed: {reason}")
        pytest.skip(reason)
    return found


def print_to_pdf(chromium: str, html: Path, folder: Path) -> tuple[list, str]:
    """Print `html` as Chromium does for File > Print, and return its pages and the browser's messages."""
    pdf = folder / (html.stem + ".pdf")
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={folder / 'chromium-profile'}",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0 and pdf.is_file(), f"chromium could not print {html.name}:\n{result.stderr}"
    return list(pypdf.PdfReader(pdf).pages), result.stderr


def squeezed(value: str) -> str:
    """Text without its whitespace, so a name the page wraps over two lines still matches."""
    return "".join(value.split())


def is_a4(page) -> bool:
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    return abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2


def issued_forms(url: str) -> list[dict]:
    """Every form issued, in issue order: its code as printed and the services it listed."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT code, form FROM reply_code ORDER BY id")).all()
    finally:
        engine.dispose()
    return [
        {
            "code": f"{code[:4]}-{code[4:]}",
            "pupil": json.loads(form)["pupil_name"],
            "services": [entry["name"] for entry in json.loads(form)["services"]],
        }
        for code, form in rows
    ]


@pytest.fixture
def hunwick(sqlite_cli):
    """The Hunwick register on SQLite (the browser sees the same HTML whatever the database)."""
    sqlite_cli.ok("init", "--school", "Hunwick Primary School", "--years", "R,1-6")
    sqlite_cli.ok("register", "import", str(HUNWICK))
    return sqlite_cli


def add_services(cli, count: int) -> list[str]:
    """`count` more approved services for pupils in every year, each with a long purpose."""
    names = []
    for index in range(count):
        name = f"Extra Learning Platform Number {index:02d}"
        cli.ok(
            "service", "add", name, "--category", "pupil", "--provider", f"Extra Provider {index:02d}",
            "--create-provider", "--purpose", "Homework, reading records and class messages " * 4,
            "--data", "full name, class, year group, assessment data", "--years", "All",
        )  # fmt: skip
        cli.ok("assess", "record", name, "--date", "01/09/2026", "--by", "DPO", "--outcome", "approved")
        names.append(name)
    return names


def test_each_pupils_form_is_one_whole_a4_page_with_its_reply_code(hunwick, chromium, tmp_path):
    assert len(LONG_NAME) == 60
    add_pupils(hunwick.url, PUPILS)
    hunwick.ok("service", "edit", "My Maths", "--privacy-url", "https://www.mymaths.co.uk/privacy-policy")
    out = tmp_path / "forms.html"
    hunwick.ok("consent", "form", "--class", "MX", "--out", str(out))

    pages, _ = print_to_pdf(chromium, out, tmp_path)

    forms = issued_forms(hunwick.url)
    assert len(forms) == len(PUPILS)
    assert len(pages) == len(PUPILS), "forms for N pupils are exactly N pages"
    assert all(is_a4(page) for page in pages)
    for page, form in zip(pages, forms, strict=True):
        content = squeezed(page.extract_text())
        # Each page starts with its own pupil's form, and holds all of it.
        assert content.startswith(squeezed("Hunwick Primary School: consent to online services"))
        assert squeezed(f"Pupil: {form['pupil']}") in content
        assert squeezed(f"Reply code: {form['code']}") in content
        assert form["services"], "every pupil here is in a year with services"
        for name in form["services"]:
            assert squeezed(name) in content, f"{name} cut off the form of {form['pupil']}"
        assert squeezed("Signature:") in content and squeezed(form["code"]) in content.split("Signature:")[-1]
    long_form = next(form for form in forms if form["pupil"] == LONG_NAME)
    assert long_form["pupil"] == LONG_NAME
    long_page = squeezed(pages[forms.index(long_form)].extract_text())
    assert squeezed(LONG_NAME) in long_page
    assert "mymaths.co.uk/privacy-policy" in long_page


def test_a_form_with_many_services_continues_onto_further_pages_never_clipped(hunwick, chromium, tmp_path):
    extra = add_services(hunwick, 24)
    add_pupils(hunwick.url, [PUPILS[2], PUPILS[4]])
    out = tmp_path / "forms.html"
    hunwick.ok("consent", "form", "--class", "MX", "--out", str(out))

    pages, _ = print_to_pdf(chromium, out, tmp_path)

    forms = issued_forms(hunwick.url)
    assert len(pages) > len(forms), "long forms run onto more pages"
    assert all(is_a4(page) for page in pages)
    # Split the pages into forms: a form begins on the page that starts with the heading.
    heading = squeezed("Hunwick Primary School: consent to online services")
    per_form: list[str] = []
    for page in pages:
        content = squeezed(page.extract_text())
        if content.startswith(heading):
            per_form.append(content)
        else:
            per_form[-1] += content
    assert len(per_form) == len(forms), "each pupil's form starts on a new page"
    for content, form in zip(per_form, forms, strict=True):
        assert squeezed(f"Reply code: {form['code']}") in content
        assert set(extra) <= set(form["services"])
        for name in form["services"]:
            assert squeezed(name) in content, f"{name} cut off"
        assert squeezed("Signature:") in content


def test_the_published_register_renders_and_continues_onto_further_pages(hunwick, chromium, tmp_path):
    plain = tmp_path / "register.html"
    hunwick.ok("register", "publish", "--format", "html", "--out", str(plain))
    pages, messages = print_to_pdf(chromium, plain, tmp_path)
    assert "Uncaught" not in messages
    register_text = squeezed("".join(page.extract_text() for page in pages))
    for name in ("My Maths", "Times Tables Rock Stars", "Accelerated Reader", "ClassDojo"):
        assert squeezed(name) in register_text

    extra = add_services(hunwick, 30)
    longer = tmp_path / "register-longer.html"
    hunwick.ok("register", "publish", "--format", "html", "--out", str(longer))
    more_pages, messages = print_to_pdf(chromium, longer, tmp_path)
    assert "Uncaught" not in messages
    assert len(more_pages) > len(pages)
    longer_text = squeezed("".join(page.extract_text() for page in more_pages))
    for name in extra:
        assert squeezed(name) in longer_text, f"{name} cut off the register"
