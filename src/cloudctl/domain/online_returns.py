"""Answers returned by reply code (Microsoft Forms, Google Forms, or paper forms typed in by the office),
applied all or nothing.

Each submission names a form by its reply code: the pupil, the day the form was issued, and the version of
each service the parent was told of. Each answered question is one parent's decision for one child and one
service (the policy's SINGLE reach), recorded with the submission's date, the parent's name as given, method
"online-form" (or the file's Method column; "form" for paper forms typed with a Date column), the version the
form listed, and the form itself (consent_event.reply_code_id).

Refused, with the line (and nothing recorded from the file): a reply code no form carries or mistyped, a
question heading that names no service, an answer that is not yes or no, a submission dated before its form
was issued or in the future, and a Yes on a code that had expired (a newer form was issued, or it is past the
school's --reply-code-days) or for a pupil who has left. A No on such a code is recorded and flagged: a
withdrawal is never refused.

Submissions are applied in the order they were made (their time of day too), so of two for one pupil the
later stands and both are in the history. The same file imported again records nothing new: a submission
already recorded (the same form, service, answer and submission time, which the event's note keeps) is
skipped, and otherwise the policy's repeat rules apply as to any decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from sqlmodel import Session

from cloudctl.db.fast_read import fetch_rows_in
from cloudctl.db.models import Service
from cloudctl.domain.consent import (
    OPT_IN,
    OPT_OUT,
    SINGLE,
    ConsentRequest,
    Outcome,
    apply_decision,
    display_name,
    parse_method,
)
from cloudctl.domain.lookup import normalise_name, suggestion
from cloudctl.domain.reply_codes import CodeLookup, lookup_code
from cloudctl.errors import CloudctlError, ImportRejected, InvalidInput, Problem
from cloudctl.importers.online_form_returns import (
    Layout,
    Submission,
    answer_decision,
    has_time_of_day,
    read_online_form_returns,
    submission_time,
)
from cloudctl.vocab.dates import check_event_date, check_event_moment, parse_date
from cloudctl.vocab.text import for_terminal, gate_name, gate_prose, gate_text

FLAGGED = "Flagged"

# Words around a service's name in a question's heading ("Do you consent to your child using My Maths?").
_QUESTION_WORDS = re.compile(
    r"^(?:(?:do|does) you (?:give |agree |consent )?(?:consent |permission |agree )?(?:to |for )?"
    r"(?:your child |my child )?(?:using |to use |being enrolled in |joining |for )?"
    r"|i (?:consent|agree) to (?:my child )?(?:using )?|consent (?:for|to) |permission (?:for|to use) )",
    re.IGNORECASE,
)


# A question worded the other way round ("Do you want to opt your child OUT of My Maths?", "Do you object to
# ...?"): a Yes there is a withdrawal, but answers are read as Yes = opt in, so such a column is refused.
# Words in brackets are left aside ("... (you can withdraw at any time)").
_AGAINST_WORDS = re.compile(
    r"\b(?:not|never|opt(?:ed|ing)?\b[^.?!]{0,40}?\bout|withdraw\w*|object\w*|refus\w*|declin\w*|remov\w*|stop\w*"
    r"|exclud\w*|don'?t|doesn'?t|won'?t)\b|n[’']t\b",
    re.IGNORECASE,
)


def _worded_against(heading: str) -> str | None:
    """The word that makes a question's Yes a withdrawal, or None."""
    outside_brackets = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", heading)
    found = _AGAINST_WORDS.search(outside_brackets)
    return found.group(0) if found else None


def _bare(heading: str) -> str:
    text = heading.strip().rstrip("?:.! ")
    return _QUESTION_WORDS.sub("", text).strip()


def match_questions(session: Session, layout: Layout) -> tuple[dict[int, Service], list[Problem]]:
    """The service each question column names: its name as the register writes it (case and spaces aside),
    or a question containing that name (the longest, when several fit). A heading naming none is a problem
    with the register's closest names suggested, as a misspelt name is anywhere else."""
    services = session.exec(_services_query()).all()
    by_name: dict[str, list[Service]] = {}
    for service in services:
        by_name.setdefault(normalise_name(service.name), []).append(service)

    def pick(candidates: list[Service]) -> Service:
        pupil = [service for service in candidates if service.category == "pupil"]
        return (pupil or candidates)[0]

    matched: dict[int, Service] = {}
    problems: list[Problem] = []

    def refuse(heading: str, message: str) -> None:
        problems.append(Problem(layout.heading_line, for_terminal(heading[:60]), "", message))

    for index, heading in layout.questions:
        against = _worded_against(heading)
        if against is not None:
            refuse(
                heading,
                f'this question is worded against the service ("{against}"), so a Yes to it would mean a '
                'withdrawal, but answers are read as Yes = opt in. Word the column as consent ("Do you '
                'consent to your child using My Maths?") and put each answer the right way round.',
            )
            continue
        wanted = normalise_name(_bare(heading))
        if wanted in by_name:
            matched[index] = pick(by_name[wanted])
            continue
        whole = f" {normalise_name(heading.replace('?', ' '))} "
        inside = [name for name in by_name if f" {name} " in whole]
        # A name inside a longer one ("Google" in "Google Classroom") is that longer name; two apart are two.
        inside = [name for name in inside if not any(name != other and name in other for other in inside)]
        if len(inside) > 1:
            named = " and ".join(sorted(by_name[name][0].name for name in inside))
            refuse(
                heading,
                f"this question names more than one service ({named}): one answer cannot stand for each "
                "parent's choice about each. Ask about each service in a column of its own.",
            )
            continue
        if inside:
            matched[index] = pick(by_name[inside[0]])
            continue
        hint = suggestion(_bare(heading), [service.name for service in services])
        problems.append(
            Problem(
                layout.heading_line,
                for_terminal(heading[:60]),
                "",
                f"this question's heading names no service in the register.{hint} Rename the column to the "
                "service's name as the register writes it (or to a question that contains it).",
            )
        )
    by_service: dict[int, list[int]] = {}
    for index, service in matched.items():
        by_service.setdefault(service.id, []).append(index)
    headings = dict(layout.questions)
    for columns in by_service.values():
        if len(columns) > 1:
            named = " and ".join(f'"{for_terminal(headings[index][:60])}"' for index in columns)
            refuse(
                headings[columns[0]],
                f"the columns {named} both ask about {matched[columns[0]].name}: one submission could answer "
                "it twice, yes and no. Keep one column for each service.",
            )
    return matched, problems


def _services_query():  # type: ignore[no-untyped-def]
    from sqlmodel import select

    return select(Service).order_by(Service.position, Service.id)


@dataclass
class _Parsed:
    submission: Submission
    on: date
    time_of_day: tuple[int, int, int]
    # The submission's time of day as the event keeps it ("HH:MM:SS"): an online form's, when written.
    at: str | None
    lookup: CodeLookup
    given_by: str | None
    relationship: str | None
    note: str
    method: str
    flag: str | None


def import_online_form_returns(
    session: Session,
    path: Path,
    *,
    encoding: str | None = None,
    recorded_by: str | None = None,
    default_date: date | None = None,
    keep_email: bool = False,
    today: date | None = None,
    now: datetime | None = None,
) -> list[Outcome]:
    """Apply a file of answers by reply code, all or nothing (see the module docstring).

    now: the computer's clock (a submission later than it is refused); a `today` other than the real
    one (a test) counts to that day's end."""
    if now is None:
        now = datetime.now() if today in (None, date.today()) else datetime.combine(today, time.max)
    today = today or now.date()
    returns = read_online_form_returns(path, encoding)
    layout = returns.layout
    services, problems = match_questions(session, layout)
    if problems:
        raise ImportRejected(path.name, problems)
    headings = layout.headings
    parsed: list[_Parsed] = []
    for submission in returns.submissions:
        column = ""
        try:
            column = headings[layout.fields["time"]].strip()
            on, time_of_day, timed = _when(submission, layout, default_date, now)
            column = headings[layout.fields["code"]].strip()
            code = gate_text(submission.values.get("code"), "reply code", required=True)
            lookup = lookup_code(session, code, on=on)
            if on < lookup.issued.issued_on:
                raise InvalidInput(
                    f"submitted on {on.isoformat()}, before the form with reply code {lookup.issued.shown} "
                    f"was issued ({lookup.issued.issued_on.isoformat()}): check the code and the date."
                )
            parsed.append(_parse(submission, layout, on, time_of_day, timed, lookup, keep_email))
        except CloudctlError as error:
            problems.append(Problem(submission.line, column, "", error.message))
    if problems:
        raise ImportRejected(path.name, problems)
    parsed.sort(key=lambda item: (item.on, item.time_of_day, item.submission.line))
    already = _recorded_submissions(session, {item.lookup.issued.id for item in parsed})
    outcomes: list[Outcome] = []
    for item in parsed:
        for index, answer in item.submission.answers:
            column = headings[index].strip()
            try:
                outcome = _apply_answer(
                    session, item, services[index], answer, already, recorded_by, today, headings
                )
            except CloudctlError as error:
                shown = answer if len(answer) <= 60 else answer[:60] + "..."
                problems.append(Problem(item.submission.line, column, for_terminal(shown), error.message))
                continue
            outcomes.append(outcome)
    if problems:
        problems.sort(key=lambda problem: problem.line)
        raise ImportRejected(path.name, problems)
    return outcomes


def _when(
    submission: Submission, layout: Layout, default_date: date | None, now: datetime
) -> tuple[date, tuple[int, int, int], bool]:
    """The submission's date, its time of day (midnight when none is written) and whether one is written.
    A submission later than now (by date, or by time later today) is refused."""
    written = gate_text(submission.values.get("time"), "timestamp")
    if not written:
        if default_date is None:
            raise InvalidInput(
                "the timestamp is empty: give the date the form was answered, or --date DATE for the rows "
                "without one."
            )
        return default_date, (0, 0, 0), False
    day_text, time_of_day = submission_time(written)
    on = parse_date(day_text, what="timestamp")
    if not has_time_of_day(written):
        return check_event_date(on, "submission date", now.date()), time_of_day, False
    check_event_moment(on, time(*time_of_day), "submission time", now)
    return on, time_of_day, True


def _parse(
    submission: Submission,
    layout: Layout,
    on: date,
    time_of_day: tuple[int, int, int],
    timed: bool,
    lookup: CodeLookup,
    keep_email: bool,
) -> _Parsed:
    values = submission.values
    given_by = gate_name(values.get("given_by"), "parent's name", required=False)
    relationship = gate_name(values.get("relationship"), "relationship", required=False)
    method = parse_method(
        gate_text(values.get("method"), "method") or ("online-form" if layout.online else "form")
    )
    hours, minutes, seconds = time_of_day
    clock = f"{hours:02}:{minutes:02}:{seconds:02}"
    when = on.isoformat() + (f" {clock}" if layout.online else "")
    # An online form's submission time orders a day's decisions (consent_policy.order_key); a paper form
    # typed in is known by its date.
    at = clock if layout.online and timed else None
    # The note keeps the form and the submission's time: the evidence, and what a re-import recognises.
    parts = [f"reply code {lookup.issued.shown}, {'submitted' if layout.online else 'dated'} {when}"]
    email = gate_text(values.get("email"), "e-mail address")
    if keep_email and email:
        parts.append(f"e-mail {email}")
    note = gate_prose(values.get("note"), "note")
    if note:
        parts.append(note)
    flag = lookup.expired_because
    if flag is None and not lookup.pupil.on_roll:
        flag = f"pupil {lookup.pupil.upn} is no longer on roll (left {lookup.pupil.left_on})"
    elif flag is not None:
        flag = f"reply code {lookup.issued.shown} had expired: {flag}"
    return _Parsed(
        submission, on, time_of_day, at, lookup, given_by, relationship, "; ".join(parts), method, flag
    )


def _recorded_submissions(session: Session, form_ids: set[int]) -> set[tuple]:
    """(form id, service id, decision, note) of every event already recorded from these forms."""
    return set(
        fetch_rows_in(
            session,
            "SELECT reply_code_id, service_id, decision, note FROM consent_event "
            "WHERE reply_code_id IN ({values})",
            sorted(form_ids),
        )
    )


def _apply_answer(
    session: Session,
    item: _Parsed,
    service: Service,
    answer: str,
    already: set[tuple],
    recorded_by: str | None,
    today: date,
    headings: list[str],
) -> Outcome:
    decision = answer_decision(gate_text(answer, "answer") or "")
    if decision is None:
        raise InvalidInput(
            f'"{answer}" is not a yes or no answer (such as Yes, No, "I agree", "I do not agree"): correct '
            "the answer, or leave it empty if the parent did not answer."
        )
    lookup, pupil = item.lookup, item.lookup.pupil
    if decision == OPT_IN and item.flag is not None:
        raise InvalidInput(_yes_refused(item, headings))
    version = lookup.versions.get(service.id)
    if version is None and decision == OPT_IN:
        raise InvalidInput(
            f"the form with reply code {lookup.issued.shown} did not list '{service.name}', so the parent "
            "was not told about it: a Yes cannot be taken for it. Check the column, or send a new form."
        )
    key = (lookup.issued.id, service.id, decision, item.note)
    if key in already:
        return Outcome(pupil.upn, display_name(pupil), service.name, "unchanged",
                       f"this submission ({item.note}) is already recorded: nothing recorded")  # fmt: skip
    request = ConsentRequest(
        decision=decision,
        effective_on=item.on,
        method=item.method,
        given_by=item.given_by or f"Reply to form {lookup.issued.shown}",
        relationship=item.relationship,
        recorded_by=recorded_by,
        note=item.note,
        at=item.at,
    ).checked(today)
    outcome = apply_decision(
        session, pupil, service, request, reach=SINGLE, told_version=version, reply_code_id=lookup.issued.id
    )
    if outcome.written:
        already.add(key)
    if item.flag is not None and decision == OPT_OUT:
        outcome.detail = (
            f"{FLAGGED}: {item.flag}; the withdrawal is recorded all the same (a withdrawal is never "
            f"refused): {outcome.detail}"
        )
    return outcome


def _yes_refused(item: _Parsed, headings: list[str]) -> str:
    """Why a Yes on an expired code or for a pupil who has left is refused, and what the office can do;
    when the same line withdraws from another service, how to keep that withdrawal (the file is all or
    nothing, so it is not recorded until the file imports)."""
    pupil, line = item.lookup.pupil, item.submission.line
    if pupil.on_roll:
        text = (
            f"a Yes cannot be taken from this submission: {item.flag}. For the Yes, send a new form "
            f"(cloudctl consent form --upn {pupil.upn} --out FILE) and record the answer it brings."
        )
    else:
        text = (
            f"a Yes cannot be taken from this submission: {item.flag}, so cannot be enrolled. Nothing can "
            "be opted in for a pupil who has left; if the pupil has come back, import the class list that "
            "shows them on roll, then send them a new form."
        )
    answers = [(headings[index].strip(), answer_decision(answer.strip())) for index, answer in
               item.submission.answers]  # fmt: skip
    if not any(decision == OPT_OUT for _, decision in answers):
        return text + f" To import the rest of the file, blank this Yes on line {line} and import it again."
    yeses = [f'"{for_terminal(heading[:60])}"' for heading, decision in answers if decision == OPT_IN]
    noes = [f'"{for_terminal(heading[:60])}"' for heading, decision in answers if decision == OPT_OUT]
    columns = f"the column{'s' if len(yeses) > 1 else ''} {' and '.join(yeses)}"
    return (
        f"{text} Line {line} also answers No under {' and '.join(noes)}: a withdrawal is never refused, "
        f"but nothing in this file is recorded while this Yes is in it. To record the withdrawal, blank "
        f"only the Yes answer{'s' if len(yeses) > 1 else ''} on line {line} (in {columns}), leave the No "
        "as it is, and import the file again."
    )
