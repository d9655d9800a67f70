"""Campaign objects on the small test city (``shequ.core.testing.build_city``), for tests."""

from __future__ import annotations

import datetime as dt
import uuid

from shequ.core.roles import Role
from shequ.core.testing import make_user

from . import services
from .models import Affiliation, Campaign, FollowUp, Visit, VisitTask

ANSWERS = {
    "temperature": 37.8,
    "came_from_outside": False,
    "people_home": 2,
    "elderly_alone": False,
    "disability_needs_help": False,
}
START = dt.date(2020, 2, 3)


def campaign_for(city: dict, district: int, *, rounds: int = 2, teams: int = 1) -> Campaign:
    """A campaign over one district's street with ``rounds`` rounds and ``teams`` teams in its
    first community (planned)."""
    street = city["districts"][district].children.get()
    campaign = services.create_campaign(name=f"排查{district + 1}", area=street, purpose="test")
    for n in range(rounds):
        start = START + dt.timedelta(days=7 * n)
        services.add_round(campaign, start, start + dt.timedelta(days=5))
    community = city["communities"][2 * district]
    for t in range(teams):
        services.add_team(
            campaign,
            community.code,
            f"第{t + 1}组",
            [(None, f"志愿者{t}a", Affiliation.VOLUNTEER), (None, f"社工{t}b", Affiliation.STREET)],
        )
    services.plan_territories(campaign, processes=1)
    return campaign


def sample(city: dict) -> dict:
    """One campaign per district, each with a synced visit raising a fever follow-up.

    Cached on the city: the access-matrix table asks for it once per model.
    """
    if "campaigns" in city:
        return city["campaigns"]
    out: dict = {"campaign": [], "visittask": [], "visit": [], "followup": []}
    for district in (0, 1):
        campaign = campaign_for(city, district, rounds=1)
        worker = make_user(f"sample-worker-{district}", Role.STREET_STAFF, campaign.area_code)
        task = VisitTask.objects.filter(round__campaign=campaign).order_by("id").first()
        result = services.sync_visits(
            worker,
            [
                {
                    "uuid": str(uuid.UUID(int=district + 1)),
                    "task": task.pk,
                    "outcome": "visited",
                    "answers": ANSWERS,
                    "visited_at": "2020-02-03T10:00:00+08:00",
                }
            ],
        )
        assert result[0]["status"] == "created", result
        out["campaign"].append(campaign)
        out["visittask"].append(task)
        out["visit"].append(Visit.objects.get(task=task))
        out["followup"].append(FollowUp.objects.get(task=task))
    city["campaigns"] = out
    return out


def pair(city: dict, kind: str):
    """(in the street 510104001, in the district 510105) objects of one kind."""
    objects = sample(city)[kind]
    return objects[0], objects[1]
