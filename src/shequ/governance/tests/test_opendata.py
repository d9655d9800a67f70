"""Open aggregated data: counts per child area from the rollups, small counts suppressed for
everyone, with complementary suppression so that no suppressed count can be worked out."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from shequ.core.roles import Role
from shequ.governance.opendata import PRIMARY, SECONDARY, suppress
from shequ.people.models import Person

pytestmark = pytest.mark.django_db

COMMUNITY = "510104001001"


def test_primary_suppression_hides_counts_from_1_to_4_not_0_nor_5():
    cells = {("a", "n", ""): 0, ("b", "n", ""): 1, ("c", "n", ""): 4, ("d", "n", ""): 5}
    assert suppress(cells, []) == {("b", "n", ""): PRIMARY, ("c", "n", ""): PRIMARY}


def test_a_lone_suppressed_cell_takes_the_smallest_other_with_it():
    # total 30 = 3 + 12 + 15: alone, the 3 would be 30 - 12 - 15.
    cells = {("t", "n", ""): 30, ("a", "n", ""): 3, ("b", "n", ""): 12, ("c", "n", ""): 15}
    group = ([("a", "n", ""), ("b", "n", ""), ("c", "n", "")], ("t", "n", ""))
    assert suppress(cells, [group]) == {("a", "n", ""): PRIMARY, ("b", "n", ""): SECONDARY}


def test_with_no_other_member_left_the_total_is_hidden():
    cells = {("t", "n", ""): 3, ("a", "n", ""): 3}
    group = ([("a", "n", "")], ("t", "n", ""))
    assert suppress(cells, [group]) == {("a", "n", ""): PRIMARY, ("t", "n", ""): PRIMARY}
    cells = {("t", "n", ""): 9, ("a", "n", ""): 3}
    assert suppress(cells, [group]) == {("a", "n", ""): PRIMARY, ("t", "n", ""): SECONDARY}


def test_suppression_runs_until_no_group_has_a_lone_hidden_cell():
    # Two groups sharing cell b: hiding b for the first leaves it lone in the second.
    cells = {
        ("t1", "n", ""): 20,
        ("a", "n", ""): 2,
        ("b", "n", ""): 8,
        ("c", "n", ""): 10,
        ("t2", "n", ""): 30,
        ("d", "n", ""): 22,
    }
    groups = [
        ([("a", "n", ""), ("b", "n", ""), ("c", "n", "")], ("t1", "n", "")),
        ([("b", "n", ""), ("d", "n", "")], ("t2", "n", "")),
    ]
    hidden = suppress(cells, groups)
    assert hidden[("a", "n", "")] == PRIMARY
    for members, total in groups:
        if total not in hidden:
            assert sum(1 for m in members if m in hidden) != 1
    assert ("d", "n", "") in hidden


def _read(response) -> tuple[str, list[dict]]:
    text = response.content.decode("utf-8").lstrip("\ufeff")
    first, rest = text.split("\r\n", 1)
    rows = [r for r in csv.reader(io.StringIO(rest)) if r and not r[0].startswith("#")]
    header, body = rows[0], rows[1:]
    return first, [dict(zip(header, r, strict=True)) for r in body]


def _value(rows, code, indicator, category=""):
    (row,) = [
        r
        for r in rows
        if r["area_code"] == code and r["indicator"] == indicator and r["category"] == category
    ]
    return row["value"]


def test_open_data_csv_suppresses_small_counts_for_every_role(client, city, make_user):
    from shequ.dashboards import rollups

    # Grid G01 gets 6 more floating residents (10 in all), G02 keeps its 4.
    g1, g2 = f"{COMMUNITY}G01", f"{COMMUNITY}G02"
    Person.objects.bulk_create(
        Person(area_code=g1, name=f"流动{i}", resident_type="floating") for i in range(6)
    )
    rollups.rebuild(as_of=dt.date.today())
    # A data steward may see every person, yet open data is suppressed for them too.
    client.force_login(make_user("steward", Role.DATA_STEWARD, "510104"))
    response = client.get(reverse("governance:open_data", args=[COMMUNITY]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    first, rows = _read(response)
    assert first.startswith("# ") and COMMUNITY in first
    assert _value(rows, COMMUNITY, "residents") == "14"
    assert _value(rows, g2, "residents") == PRIMARY  # 4
    assert _value(rows, g1, "residents") == SECONDARY  # 10, but 14 - 4 would give it away
    assert _value(rows, g1, "residents_by_type", "floating") == "6"
    assert _value(rows, g1, "residents_by_type", "registered") == PRIMARY  # 4
    assert _value(rows, COMMUNITY, "residents_by_type", "registered") == "8"
    assert _value(rows, g1, "households") == PRIMARY  # 2 households per grid
    assert "<5:" in response.content.decode()  # the footnote explains the marks
    for row in rows:  # no count from 1 to 4 anywhere
        assert not (row["value"].isdigit() and 0 < int(row["value"]) < 5), row


def test_open_data_needs_the_dashboard_permission_and_the_area_in_scope(client, city, make_user):
    url = reverse("governance:open_data", args=[COMMUNITY])
    assert client.get(url).status_code == 302
    client.force_login(make_user("nobody"))
    assert client.get(url).status_code == 403
    client.force_login(make_user("gw", Role.GRID_WORKER, f"{COMMUNITY}G01"))
    assert client.get(url).status_code == 404  # above the grid worker's grid
    other = client.get(reverse("governance:open_data", args=["510105001001"]))
    missing = client.get(reverse("governance:open_data", args=["510104009"]))
    assert other.status_code == missing.status_code == 404
