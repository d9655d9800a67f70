"""Retention of the answers given at the door (data-use rules, issue 7 item 6).

Every visit carries ``retain_until`` = ``visited_at`` + its campaign's ``retain_days`` (set when
the visit is stored, moved when the campaign's retention changes). ``apply()`` — the command
``shequ apply_retention`` and the daily Huey task — anonymises the visits past that date:

* the visit's ``answers`` become ``{}`` and its free-text ``note`` ``""``; ``anonymised_at`` is set;
* the ``detail`` of its follow-ups (a copy of an answer: "37.8 °C", where from) is cleared;
* the outcome, the residents confirmed (person ids and presence, population data), the task's
  status, the follow-ups' rule, due date and status, and the new residents found (population
  data with their own rules) stay: coverage, indicators and the work in progress stay true.

It works in batches, each in its own transaction, so that a long run holds no long lock and a
run stopped half-way keeps what it did. Each run writes a ``RetentionRun`` (with one
``RetentionCount`` per campaign it touched), updated batch by batch in the same transaction as
the batch, and one audit event (``governance``) when it ends. Idempotent: a second run finds
nothing due and changes no visit (it is still recorded, with 0).
"""

from __future__ import annotations

from collections import Counter

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import FollowUp, RetentionCount, RetentionRun, Visit

BATCH = 500
CLEARED_FIELDS = ("answers", "note", "detail")  # detail: the follow-ups'


def due(now=None):
    """The visits whose answers are past their retain-until date and not yet anonymised."""
    return Visit.objects.filter(anonymised_at__isnull=True, retain_until__lte=now or timezone.now())


def apply(*, now=None, batch: int = BATCH, by: str | None = None) -> RetentionRun:
    """Anonymise every visit due at ``now``; returns the run's record."""
    now = now or timezone.now()
    if by is None:
        by = _acting_label()
    run = RetentionRun.objects.create(started_at=now, cutoff=now, by=by[:150])
    last_id = 0
    while True:
        with transaction.atomic():
            rows = list(
                due(now)
                .filter(pk__gt=last_id)
                .order_by("pk")
                .values_list("pk", "round__campaign_id", "round__campaign__area_code")[:batch]
            )
            if not rows:
                break
            last_id = rows[-1][0]
            ids = [pk for pk, _c, _a in rows]
            # The guard on anonymised_at keeps two runs at once from counting a visit twice.
            changed = set(
                Visit.objects.filter(pk__in=ids, anonymised_at__isnull=True).values_list(
                    "pk", flat=True
                )
            )
            Visit.objects.filter(pk__in=changed, anonymised_at__isnull=True).update(
                answers={}, note="", anonymised_at=now
            )
            cleared = Counter(
                FollowUp.objects.filter(visit_id__in=changed)
                .exclude(detail="")
                .values_list("campaign_id", flat=True)
            )
            FollowUp.objects.filter(visit_id__in=changed).exclude(detail="").update(detail="")
            per_campaign = Counter(c for pk, c, _a in rows if pk in changed)
            area_of = {c: a for _pk, c, a in rows}
            for campaign_id, n in per_campaign.items():
                count, _created = RetentionCount.objects.get_or_create(
                    run=run,
                    campaign_id=campaign_id,
                    defaults={"area_code": area_of[campaign_id]},
                )
                RetentionCount.objects.filter(pk=count.pk).update(
                    visits=F("visits") + n, follow_ups=F("follow_ups") + cleared[campaign_id]
                )
            RetentionRun.objects.filter(pk=run.pk).update(anonymised=F("anonymised") + len(changed))
            if len(rows) < batch:
                break
    with transaction.atomic():
        run.refresh_from_db()
        run.finished_at = timezone.now()
        run.save(update_fields=["finished_at"])
        _audit(run)
    return run


def _acting_label() -> str:
    try:
        from shequ.governance.context import current
    except ImportError:  # pragma: no cover - the governance app is part of the project
        return "system"
    _user, label = current()
    return label


def _audit(run: RetentionRun) -> None:
    """One audit event per run: personal data deleted (the answers), filed at the city."""
    try:
        from shequ.governance.audit import record
        from shequ.governance.models import AuditKind
    except ImportError:  # pragma: no cover
        return
    campaigns = run.counts.count()
    record(
        AuditKind.DELETED,
        object_type="campaigns.retentionrun",
        object_id=run.pk,
        fields=CLEARED_FIELDS,
        reason="retention",
        detail=(
            f"{run.anonymised} visits' answers anonymised in {campaigns} campaigns "
            f"(retain-until before {timezone.localtime(run.cutoff):%Y-%m-%d %H:%M})"
        ),
    )


def last_runs(campaign, limit: int = 10) -> dict:
    """For the campaign page: the last run of the job, and the runs that touched this campaign."""
    return {
        "last": RetentionRun.objects.filter(finished_at__isnull=False).first(),
        "counts": list(
            RetentionCount.objects.filter(campaign=campaign)
            .select_related("run")
            .order_by("-run__started_at", "-id")[:limit]
        ),
        "anonymised": Visit.objects.filter(
            round__campaign=campaign, anonymised_at__isnull=False
        ).count(),
        "next": Visit.objects.filter(round__campaign=campaign, anonymised_at__isnull=True)
        .order_by("retain_until")
        .values_list("retain_until", flat=True)
        .first(),
    }
