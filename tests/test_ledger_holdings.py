"""Holdings keyed by the provider the data was sent to (issue 10, the tester's defects): a change of
provider, a UPN change, a request left open by a re-send, --changes after a request, a leaver back."""

from __future__ import annotations

import csv
import io
from datetime import date

from tests.helpers.pupils import add_pupils
from tests.test_deletions import SERVICE, listed, request, school, sql

OUP, CIRCLE = "Oxford University Press", "Maths Circle Ltd"


def _today() -> str:
    return date.today().isoformat()


def changes(cli, service: str = SERVICE) -> list[dict]:
    result = cli.ok("export", "enrolment", service, "--changes")
    return list(csv.DictReader(io.StringIO(result.stdout)))


def report(cli) -> dict[tuple[str, str], dict]:
    return {(row["service"], row["provider"]): row for row in cli.json("report", "providers")}


def test_a_service_moved_to_another_provider_leaves_every_pupil_due_from_the_old_one(hunwick_cli, tmp_path):
    cli = hunwick_cli
    upns = school(cli)
    cli.ok("service", "edit", SERVICE, "--provider", CIRCLE)
    rows = listed(cli)
    assert sorted(row["upn"] for row in rows) == sorted(upns)
    assert {(row["provider"], row["status"]) for row in rows} == {(OUP, "due")}
    assert {row["reason"] for row in rows} == {f"the service moved to {CIRCLE} on {_today()}"}
    # The new provider holds nothing yet: everyone eligible is an add, sent to it.
    assert sorted(row["action"] for row in changes(cli)) == ["add", "add", "add"]
    assert cli.json("export", "history")[-1]["provider"] == CIRCLE
    held = report(cli)
    assert (held[(SERVICE, CIRCLE)]["held"], held[(SERVICE, CIRCLE)]["should_hold"]) == (3, 3)
    old = held[(SERVICE, OUP)]
    assert (old["held"], old["should_hold"], old["held_not_allowed"], old["deletions_due"]) == (3, 0, 3, 3)
    # An opt-out now is due from both providers; one request goes to one provider.
    cli.ok("consent", "optout", upns[0], SERVICE, "--date", _today())
    assert sorted(row["provider"] for row in listed(cli) if row["upn"] == upns[0]) == [CIRCLE, OUP]
    before = cli.snapshot()
    message = cli.fails("deletion", "request", SERVICE, "--out", "both.csv").stderr
    assert f"waiting with 2 providers: {CIRCLE} (1), {OUP} (3)" in message and "--provider" in message
    assert cli.snapshot() == before and not (tmp_path / "both.csv").exists()
    request(cli, "--provider", OUP, out="oup.csv")
    with open(tmp_path / "oup.csv", encoding="utf-8") as stream:
        assert len(list(csv.DictReader(stream))) == 3
    assert sql(cli, "SELECT provider_name FROM export_record ORDER BY id DESC LIMIT 1") == [(OUP,)]
    assert {row[0] for row in sql(cli, "SELECT p.name FROM deletion_event e JOIN provider p "
                                       "ON p.id = e.provider_id")} == {OUP}  # fmt: skip
    request(cli, "--provider", CIRCLE, out="circle.csv")
    before = cli.snapshot()
    message = cli.fails("deletion", "confirm", SERVICE, "--upn", upns[0], "--date", _today()).stderr
    assert "waiting with 2 providers" in message and cli.snapshot() == before
    cli.ok("deletion", "confirm", SERVICE, "--all-requested", "--provider", OUP, "--date", _today())
    assert [(row["provider"], row["status"]) for row in listed(cli)] == [(CIRCLE, "requested")]
    held = report(cli)  # the old provider holds nothing and owes nothing now: its row goes
    assert (SERVICE, OUP) not in held and held[(SERVICE, CIRCLE)]["held"] == 3
    shown = cli.json("pupil", "show", upns[0])["held_by"]
    assert [(row["provider"], row["status"]) for row in shown] == [
        (CIRCLE, "deletion requested"),
        (OUP, "deleted"),
    ]


def test_after_a_upn_change_the_provider_is_named_by_the_upn_it_was_sent(hunwick_cli, tmp_path):
    cli, service, new = hunwick_cli, "Times Tables Rock Stars", "B801200005001"
    [old, other] = add_pupils(cli.url, [{"year_group": "3", "class_name": "3B"}] * 2)
    for upn in (old, other):
        cli.ok("consent", "optin", upn, service, "--by", "A Parent")
    cli.ok("export", "enrolment", service, "--out", "ttrs.csv")
    cli.ok("pupil", "change-upn", old, new)
    [row] = changes(cli, service)
    assert (row["action"], row["reason"], row["upn"], row["sent_upn"]) == ("update", "changed: upn", new, old)
    cli.ok("consent", "optout", new, service, "--date", _today())
    [row] = changes(cli, service)
    assert (row["action"], row["upn"], row["sent_upn"]) == ("remove", new, new)
    cli.ok("deletion", "request", service, "--out", "request.csv")
    with open(tmp_path / "request.csv", encoding="utf-8") as stream:
        [asked] = list(csv.DictReader(stream))
    assert (asked["upn"], asked["earlier_upns"]) == (new, old)


def test_a_request_stays_open_after_the_pupil_is_sent_again_until_confirmed(hunwick_cli):
    cli = hunwick_cli
    upns = school(cli)
    cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-11-02")
    request(cli)
    cli.ok("consent", "optin", upns[0], SERVICE, "--by", "A Parent")
    cli.ok("export", "enrolment", SERVICE, "--out", "again.csv")
    [row] = listed(cli)
    assert (row["upn"], row["status"], row["reason"]) == (upns[0], "requested", "opted out on 2026-11-02")
    shown = cli.json("pupil", "show", upns[0])
    assert [row["status"] for row in shown["held_by"]] == ["deletion requested"]
    cli.ok("deletion", "confirm", SERVICE, "--upn", upns[0], "--date", _today())
    assert listed(cli) == [] and [row["status"] for row in listed(cli, "--all")] == ["confirmed"]
    # The data sent again after the request is a new holding: still held, and nothing is due.
    assert report(cli)[(SERVICE, OUP)]["held"] == 3
    shown = cli.json("pupil", "show", upns[0])
    assert [row["kind"] for row in shown["deletions"]] == ["requested", "confirmed"]
    assert [row["status"] for row in shown["held_by"]] == ["held"]


def test_a_requested_deletion_is_still_held_and_changes_repeat_the_removal_until_confirmed(hunwick_cli):
    cli = hunwick_cli
    upns = school(cli)
    cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-11-02")
    request(cli)
    row = report(cli)[(SERVICE, OUP)]
    assert (row["held"], row["held_not_allowed"], row["deletions_requested"]) == (3, 1, 1)
    for _ in range(2):
        assert [(r["action"], r["forename"]) for r in changes(cli)] == [("remove", "Forename0")]
    cli.ok("deletion", "confirm", SERVICE, "--upn", upns[0], "--date", _today())
    assert changes(cli) == [] and report(cli)[(SERVICE, OUP)]["held"] == 2


def test_a_leaver_whose_data_was_deleted_comes_back_with_a_warning(hunwick_cli, tmp_path):
    cli = hunwick_cli
    upns = school(cli, count=2)
    sql(cli, "UPDATE pupil SET on_roll = :no, left_on = :day WHERE upn = :upn",
        no=False, day=date(2026, 10, 20), upn=upns[0])  # fmt: skip
    request(cli)
    cli.ok("deletion", "confirm", SERVICE, "--upn", upns[0], "--date", _today())
    class_list = tmp_path / "class.csv"
    class_list.write_text(
        "UPN,Legal Surname,Legal Forename,DOB,Gender,Year,Reg Group\r\n"
        + "".join(f"{upn},Pupil{i},Forename{i},01/09/2018,F,3,3B\r\n" for i, upn in enumerate(upns))
    )
    message = cli.ok("pupil", "import", str(class_list)).stderr
    assert "1 pupil(s) back on roll had their data deleted by a provider" in message
    assert "cloudctl deletion list --all --on-roll" in message
    assert "Forename0" not in message and "Pupil0" not in message
    [row] = listed(cli, "--all", "--on-roll")
    assert (row["upn"], row["status"]) == (upns[0], "confirmed")
    [row] = changes(cli)
    assert row["action"] == "add" and row["forename"] == "Forename0"
    assert f"sent again: {OUP} confirmed deleting this pupil's data on {_today()}" in row["reason"]


def test_on_roll_with_all_lists_only_the_confirmed_deletions_the_next_export_would_undo(
    hunwick_cli, tmp_path
):
    cli = hunwick_cli
    upns = school(cli, count=3)
    # Pupil 0 left; pupil 1 opted out; both deletions confirmed. Pupil 2 is held and stays so.
    sql(cli, "UPDATE pupil SET on_roll = :no, left_on = :day WHERE upn = :upn",
        no=False, day=date(2026, 10, 20), upn=upns[0])  # fmt: skip
    cli.ok("consent", "optout", upns[1], SERVICE, "--date", "2026-11-02")
    request(cli)
    cli.ok("deletion", "confirm", SERVICE, "--all-requested", "--date", _today())
    assert {row["upn"] for row in listed(cli, "--all")} == {upns[0], upns[1]}
    # Last month's list brings pupil 0 back: the next export would send them again. Pupil 1 stays out.
    class_list = tmp_path / "class.csv"
    class_list.write_text(
        "UPN,Legal Surname,Legal Forename,DOB,Gender,Year,Reg Group\r\n"
        + "".join(f"{upn},Pupil{i},Forename{i},01/09/2018,F,3,3B\r\n" for i, upn in enumerate(upns))
    )
    cli.ok("pupil", "import", str(class_list))
    assert [row["upn"] for row in listed(cli, "--all", "--on-roll")] == [upns[0]]
    assert listed(cli, "--on-roll") == []
    # Once sent again, the confirmed deletion is no longer one the next export would undo.
    out = tmp_path / "again.csv"
    cli.ok("export", "enrolment", SERVICE, "--changes", "--out", str(out))
    assert listed(cli, "--all", "--on-roll") == []
    assert {row["upn"] for row in listed(cli, "--all")} == {upns[0], upns[1]}
