"""Follow-up rules: answers at the door that need someone to come back.

Rules look at the form's *tags* (so a campaign's own form takes part by tagging its
questions) and at the household's known residents:

* ``fever``: a temperature question tagged ``fever`` at or above 37.3 °C — due the next day;
* ``travel``: a question tagged ``travel`` answered yes (or a text given) — due the next day;
* ``elderly_alone``: a question tagged ``elderly_alone`` answered yes, or the only resident
  confirmed present is 60 or older — due within 3 days;
* ``disability``: a question tagged ``disability`` answered yes — due within 7 days.

Each raises a ``FollowUp`` task; the rules in ``CASE_RULES`` also raise a case in the
requests loop through ``shequ.cases.services.create_case`` when that app provides it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .models import FollowUpRule

FEVER_AT = 37.3
ELDERLY_AGE = 60
DUE_DAYS = {
    FollowUpRule.FEVER: 1,
    FollowUpRule.TRAVEL: 1,
    FollowUpRule.ELDERLY_ALONE: 3,
    FollowUpRule.DISABILITY: 7,
}
# Needs a service rather than a health check: raised as a case in the requests loop too.
CASE_RULES = {FollowUpRule.ELDERLY_ALONE, FollowUpRule.DISABILITY}


@dataclass(frozen=True)
class Hit:
    rule: str
    detail: str
    due: dt.date


def _age(birth: dt.date | None, on: dt.date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def evaluate(schema: dict, answers: dict, present_births: list | None, on: dt.date) -> list[Hit]:
    """The rules these answers meet. ``present_births``: birth dates of the residents confirmed
    present (None when the worker did not confirm residents)."""
    found: dict[str, str] = {}
    for q in schema.get("questions", []):
        tag, value = q.get("tag"), answers.get(q["id"])
        if tag is None or value in (None, "", []):
            continue
        if tag == "fever" and isinstance(value, int | float) and value >= FEVER_AT:
            found.setdefault(FollowUpRule.FEVER, f"{value} °C")
        elif tag == "travel" and (value is True or (isinstance(value, str) and value.strip())):
            detail = answers.get("travel_from") or ""
            found.setdefault(FollowUpRule.TRAVEL, str(detail)[:200])
        elif tag == "elderly_alone" and value is True:
            found.setdefault(FollowUpRule.ELDERLY_ALONE, "")
        elif tag == "disability" and value is True:
            found.setdefault(FollowUpRule.DISABILITY, "")
    if present_births is not None and len(present_births) == 1:
        age = _age(present_births[0], on)
        if age is not None and age >= ELDERLY_AGE:
            found.setdefault(FollowUpRule.ELDERLY_ALONE, f"{age}")
    return [
        Hit(rule, detail, on + dt.timedelta(days=DUE_DAYS[rule])) for rule, detail in found.items()
    ]
