import pytest
from django.core.management import call_command

from shequ.campaigns.models import Campaign, FollowUp, TaskStatus, Team

pytestmark = pytest.mark.django_db


def test_demo_campaign_is_in_its_second_round_partly_done(django_capture_on_commit_callbacks):
    from shequ.dashboards import rollups
    from shequ.dashboards.models import Rollup

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed", residents=1500, seed=1, verbosity=0)
    # The dashboards' screening numbers are those of a rebuild (the visits are not counted
    # twice: once by the seed's rebuild, once as they commit).
    screening = Rollup.objects.filter(key__startswith="scr.").order_by("area_code", "key", "dim")
    shown = list(screening.values_list("area_code", "key", "dim", "value"))
    rollups.rebuild(["screening"])
    assert list(screening.values_list("area_code", "key", "dim", "value")) == shown
    campaign = Campaign.objects.get()
    round1, round2, round3 = campaign.rounds.order_by("number")
    assert round1.closed_at is not None and round2.closed_at is None
    assert not round1.tasks.exclude(
        status__in=["visited", "refused", "empty", "new_residents"]
    ).exists()
    total = round2.tasks.count()
    reached = round2.tasks.exclude(status=TaskStatus.PENDING).count()
    assert total > 100 and 0.3 < reached / total < 0.5
    assert set(
        round2.tasks.exclude(status=TaskStatus.PENDING).values_list("status", flat=True)
    ) >= {
        "visited",
        "not_home",
    }
    assert not round3.tasks.exclude(status=TaskStatus.PENDING).exists()
    teams = Team.objects.filter(campaign=campaign)
    assert teams.count() == 6 and all(t.members.count() == 2 for t in teams)
    assert not round2.tasks.filter(team=None).exists()
    assert FollowUp.objects.filter(campaign=campaign).exists()
