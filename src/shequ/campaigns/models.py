"""Door-to-door screening campaigns (全覆盖入户走访排查).

A campaign covers an area subtree (``area_code`` = the code of its scope) in rounds; every
dwelling in scope is a visit task per round. Two-person teams share the community's dwellings
as territories (whole buildings, whole compounds where possible), each with an ordered route.
At the door a field worker records a visit (client-generated UUID: syncing is idempotent);
answers that meet a rule raise a follow-up task.

Default orderings name the foreign key columns (``round_id``), not the related models, so that
a query ordered by default joins nothing (ordering by ``round`` would pull in the round's
campaign and the campaign's ordering).

Every model here shares the permissions ``campaigns.<action>_campaign`` (``perm_model``);
a visit task, a visit, a finding and a follow-up carry their dwelling's ``area_code`` (grid),
a campaign, its rounds, forms and teams carry the code of the area they belong to.
"""

from __future__ import annotations

import uuid as uuid_lib

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.core import personal
from shequ.core.fields import EncryptedTextField, KeyedHashField
from shequ.core.querysets import ScopedModel, ScopedQuerySet
from shequ.core.scoping import scope_codes

# The columns' limits on PostgreSQL, stated on the fields: without them Django derives the
# bounds from the database in use, and the published API schema would depend on it.
MAX_SMALL = MaxValueValidator(32767)
MAX_INT = MaxValueValidator(2147483647)

# How long the answers given at the door are kept after the visit (retention, see
# ``retention.py``): a campaign states it; the default is half a year.
RETAIN_DAYS_DEFAULT = 180
RETAIN_DAYS_MIN = 30
RETAIN_DAYS_MAX = 3650


class CampaignModel(ScopedModel):
    perm_model = "campaign"

    class Meta:
        abstract = True


class CampaignQuerySet(ScopedQuerySet):
    """A campaign is seen by those who work under its area (a grid worker in a street-wide
    campaign) as well as by those above it: rows under the user's areas, and rows whose area
    contains one of the user's areas."""

    def for_user(self, user, action: str):
        codes = scope_codes(user, self.model.perm(action))
        if not codes:
            return self.none()
        q = models.Q()
        for code in codes:
            q |= models.Q(area_code__startswith=code)
        prefixes = {code[:i] for code in codes for i in range(1, len(code) + 1)}
        return self.filter(q | models.Q(area_code__in=prefixes))


class Campaign(CampaignModel):
    objects = CampaignQuerySet.as_manager()

    name = models.CharField(_("name"), max_length=120)
    purpose = models.TextField(_("purpose"), blank=True)
    # The scope: an area of any level; everything under it is visited.
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    retain_days = models.PositiveSmallIntegerField(
        _("keep answers (days)"),
        default=RETAIN_DAYS_DEFAULT,
        validators=[MinValueValidator(RETAIN_DAYS_MIN), MaxValueValidator(RETAIN_DAYS_MAX)],
        help_text=_(
            "Health and screening answers are anonymised this many days after the visit; "
            "outcomes and counts stay."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def current_form(self) -> FormVersion | None:
        return self.forms.order_by("-number").first()

    def open_round(self) -> Round | None:
        return self.rounds.filter(closed_at__isnull=True).order_by("number").first()


class FormVersion(CampaignModel):
    """A visit form defined as data (see ``forms_schema``); immutable once a visit uses it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="forms")
    number = models.PositiveSmallIntegerField(_("version"), validators=[MAX_SMALL])
    schema = models.JSONField(_("questions"))
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("form version")
        verbose_name_plural = _("form versions")
        ordering = ["campaign_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="unique_form_version")
        ]

    def __str__(self) -> str:
        return f"{self.campaign} v{self.number}"

    @property
    def in_use(self) -> bool:
        return self.visits.exists()


class Round(CampaignModel):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(_("round"), validators=[MAX_SMALL])
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    form = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="rounds")
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        ordering = ["campaign_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="unique_campaign_round")
        ]

    def __str__(self) -> str:
        return f"{self.campaign} #{self.number}"


class Affiliation(models.TextChoices):
    COMMUNITY = "community", _("Community staff")
    STREET = "street", _("Street staff")
    DISTRICT = "district", _("District staff")
    VOLUNTEER = "volunteer", _("Volunteer")


class Team(CampaignModel):
    """A two-person team working one territory of one community."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(_("name"), max_length=60)
    area_code = models.CharField(_("community"), max_length=40, db_index=True)
    # Building ids in walking order, set by the planner (or by a move by hand).
    route = models.JSONField(_("route"), default=list, blank=True)
    workload = models.PositiveIntegerField(_("households"), default=0)
    distance_m = models.FloatField(_("walking distance (m)"), default=0)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["campaign_id", "area_code", "name"]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaign_memberships",
    )
    name = models.CharField(_("name"), max_length=60, blank=True)
    affiliation = models.CharField(_("from"), max_length=16, choices=Affiliation.choices)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        ordering = ["team_id", "id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.user_id:
            return str(self.user)
        return self.name


class Outcome(models.TextChoices):
    VISITED = "visited", _("Visited")
    NOT_HOME = "not_home", _("Nobody home")
    REFUSED = "refused", _("Refused")
    EMPTY = "empty", _("Dwelling empty")
    NEW_RESIDENTS = "new_residents", _("New residents found")


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("Not yet reached")
    VISITED = "visited", _("Visited")
    NOT_HOME = "not_home", _("Nobody home")
    REFUSED = "refused", _("Refused")
    EMPTY = "empty", _("Dwelling empty")
    NEW_RESIDENTS = "new_residents", _("New residents found")


# Outcomes that settle a dwelling for the round (a round closes when every task has one).
FINAL = {TaskStatus.VISITED, TaskStatus.REFUSED, TaskStatus.EMPTY, TaskStatus.NEW_RESIDENTS}
# Outcomes that carry the form's answers.
ANSWERED = {Outcome.VISITED, Outcome.NEW_RESIDENTS}


class VisitTask(CampaignModel):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="tasks")
    dwelling = models.ForeignKey("areas.Place", on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(
        "areas.Place", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    community_code = models.CharField(_("community"), max_length=40, db_index=True)
    households = models.PositiveSmallIntegerField(
        _("households"), default=0, validators=[MAX_SMALL]
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    route_order = models.PositiveIntegerField(
        _("order on the route"), default=0, validators=[MAX_INT]
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.PENDING
    )
    last_visit_at = models.DateTimeField(_("last visit"), null=True, blank=True)
    revisit_on = models.DateField(_("revisit on"), null=True, blank=True)

    class Meta:
        verbose_name = _("visit task")
        verbose_name_plural = _("visit tasks")
        ordering = ["round_id", "team_id", "route_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "dwelling"], name="unique_round_dwelling")
        ]
        indexes = [models.Index(fields=["round", "status"]), models.Index(fields=["team"])]

    def __str__(self) -> str:
        return f"{self.round} · {self.dwelling.code}"


class Visit(CampaignModel):
    """One call at a door, as the phone recorded it (append-only; the task keeps the latest)."""

    uuid = models.UUIDField(_("client id"), unique=True)
    task = models.ForeignKey(VisitTask, on_delete=models.CASCADE, related_name="visits")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="visits")
    form = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="visits")
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    # [{"person": id, "status": "present" | "away" | "moved_out" | "deceased"}]
    residents = models.JSONField(_("residents confirmed"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    revisit_on = models.DateField(_("revisit on"), null=True, blank=True)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="campaign_visits"
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    visited_at = models.DateTimeField(_("visited at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    sync_batch = models.UUIDField(default=uuid_lib.uuid4, editable=False, db_index=True)
    # Retention: visited_at + the campaign's retain_days (recomputed when those change); after
    # it the answers and the note are cleared (``retention.apply``) and anonymised_at is set.
    retain_until = models.DateTimeField(_("answers kept until"))
    anonymised_at = models.DateTimeField(_("answers anonymised at"), null=True, blank=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_at", "-id"]
        indexes = [
            # The retention job's search: visits still holding answers, by date.
            models.Index(
                fields=["retain_until"],
                condition=models.Q(anonymised_at__isnull=True),
                name="visit_retention_due",
            )
        ]

    def __str__(self) -> str:
        return str(self.uuid)


class NewResident(CampaignModel):
    """A person found at the door who is not in the population data: a visit-form finding
    with its provenance (campaign, round, visit, worker, time), for the population sources."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="new_residents")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    round_number = models.PositiveSmallIntegerField(_("round"), validators=[MAX_SMALL])
    dwelling = models.ForeignKey("areas.Place", on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    name = models.CharField(_("name"), max_length=100)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    id_number = EncryptedTextField(_("ID number"), max_length=32, blank=True)
    phone = EncryptedTextField(_("phone"), max_length=20, blank=True)
    id_number_hash = KeyedHashField(source="id_number", kind="id_number")
    phone_hash = KeyedHashField(source="phone", kind="phone")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"))
    ingested_at = models.DateTimeField(_("taken into the population data"), null=True, blank=True)

    class Meta:
        verbose_name = _("new resident found")
        verbose_name_plural = _("new residents found")
        ordering = ["-recorded_at", "id"]
        # The keyed hashes: exact lookups only (core/fields.py).
        indexes = [models.Index(fields=["id_number_hash"]), models.Index(fields=["phone_hash"])]

    def __str__(self) -> str:
        return self.name


class FollowUpRule(models.TextChoices):
    FEVER = "fever", _("Fever (≥ 37.3 °C)")
    TRAVEL = "travel", _("Recent travel")
    ELDERLY_ALONE = "elderly_alone", _("Elderly person living alone")
    DISABILITY = "disability", _("Disability needing help")


class FollowUp(CampaignModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="followups")
    task = models.ForeignKey(VisitTask, on_delete=models.CASCADE, related_name="followups")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="followups")
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    rule = models.CharField(_("rule"), max_length=16, choices=FollowUpRule.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    due = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default="open")
    case_ref = models.CharField(_("case"), max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due", "id"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "rule"], name="unique_followup_per_visit")
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} · {self.due}"


class RetentionRun(models.Model):
    """One run of the retention job (``shequ apply_retention``, daily): when, by whom, how many
    visits' answers it anonymised; per campaign in ``RetentionCount``. A run with nothing due
    is recorded too (it shows the job runs)."""

    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    cutoff = models.DateTimeField(_("answers kept until before"))
    anonymised = models.PositiveIntegerField(_("visits anonymised"), default=0)
    by = models.CharField(_("by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} · {self.anonymised}"


class RetentionCount(CampaignModel):
    """What one retention run anonymised in one campaign (only campaigns it touched)."""

    run = models.ForeignKey(RetentionRun, on_delete=models.CASCADE, related_name="counts")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="retention")
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    visits = models.PositiveIntegerField(_("visits anonymised"), default=0)
    follow_ups = models.PositiveIntegerField(_("follow-up details cleared"), default=0)

    class Meta:
        verbose_name = _("retention count")
        verbose_name_plural = _("retention counts")
        ordering = ["-run_id", "campaign_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "campaign"], name="unique_retention_count")
        ]

    def __str__(self) -> str:
        return f"{self.run_id} · {self.campaign_id} · {self.visits}"


# Health answers and the findings' identities are personal data.
personal.register("campaigns.visit", "answers", "health", masked=False)
personal.register("campaigns.newresident", "name", "name", masked=False)
personal.register("campaigns.newresident", "id_number", "id_number")
personal.register("campaigns.newresident", "phone", "phone")
