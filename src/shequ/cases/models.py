"""Resident requests and events (市民诉求 / 事件): cases, their append-only timeline, routing.

A case carries the ``area_code`` of the grid (or community) it happened in; its events,
attachments and extension requests carry the same code and share the case's permissions
(``perm_model = "case"``). A department handler sees only their departments' cases
(``Case.role_scope``).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shequ.core import personal
from shequ.core.fields import EncryptedTextField, KeyedHashField
from shequ.core.models import AppendOnlyModel
from shequ.core.querysets import AppendOnlyQuerySet, ScopedModel, ScopedQuerySet
from shequ.core.roles import Role

from .workflow import DONE_STATES, OPEN_STATES, TIMED_STATES, Outcome, State


class CaseType(models.TextChoices):
    IMMEDIATE = "immediate", _("Handled at once (即办件)")
    PROMISED = "promised", _("Handled within a promised time (承诺件)")
    COORDINATED = "coordinated", _("Needs coordination (协调件)")


class Channel(models.TextChoices):
    WEB = "web", _("Resident web page")
    HOTLINE = "hotline", _("Hotline")
    PATROL = "patrol", _("Found on patrol")
    API = "api", _("API")
    OPEN311 = "open311", _("Open311")
    MODULE = "module", _("Raised by another module")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied (满意)")
    BASICALLY = "basically", _("Basically satisfied (基本满意)")
    DISSATISFIED = "dissatisfied", _("Dissatisfied (不满意)")


class Category(models.Model):
    """The request taxonomy (a tree) with its time limits per case type."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    keywords = models.CharField(
        _("keywords"), max_length=400, blank=True, help_text=_("Separated by spaces.")
    )
    active = models.BooleanField(_("active"), default=True)
    respond_hours = models.PositiveSmallIntegerField(_("respond within (hours)"), default=24)
    resolve_days_immediate = models.PositiveSmallIntegerField(
        _("即办件: resolve within (working days)"), default=1
    )
    resolve_days_promised = models.PositiveSmallIntegerField(
        _("承诺件: resolve within (working days)"), default=5
    )
    resolve_days_coordinated = models.PositiveSmallIntegerField(
        _("协调件: resolve within (working days)"), default=15
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        from django.utils.translation import get_language

        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name

    def resolve_days(self, case_type: str) -> int:
        return getattr(self, f"resolve_days_{case_type}")


class Department(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    area_code = models.CharField(
        _("area code"), max_length=40, db_index=True, help_text=_("The area it serves.")
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="departments", verbose_name=_("members")
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


class RoutingRule(models.Model):
    """Category × area prefix → department. The longest matching area prefix wins; a rule of a
    parent category applies to its children unless they have their own."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="rules")
    area_prefix = models.CharField(
        _("area prefix"),
        max_length=40,
        help_text=_("e.g. 5101 for the city, 510104 for a district"),
    )
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="rules")
    auto_dispatch = models.BooleanField(
        _("dispatch automatically"),
        default=True,
        help_text=_("Registered cases go to the department without a dispatcher's step."),
    )

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["category__code", "area_prefix"]
        constraints = [
            models.UniqueConstraint(fields=["category", "area_prefix"], name="unique_routing_rule")
        ]

    def __str__(self) -> str:
        return f"{self.category.code} @ {self.area_prefix} → {self.department.code}"


class AreaExtent(models.Model):
    """The bounding box of each area's boundary, so that locating a point looks at a handful of
    candidate areas (an indexed range query) instead of every polygon."""

    area_code = models.CharField(max_length=40, unique=True)
    depth = models.PositiveSmallIntegerField()  # length of the code: deeper areas first
    min_lng = models.FloatField(db_index=True)
    max_lng = models.FloatField()
    min_lat = models.FloatField(db_index=True)
    max_lat = models.FloatField()

    class Meta:
        verbose_name = _("area extent")
        verbose_name_plural = _("area extents")

    def __str__(self) -> str:
        return self.area_code


class WorkCalendarDay(models.Model):
    """An admin's entry that overrides the shipped holiday schedule (data/holidays.json) for one
    date: a public holiday, or a weekend day that is worked (调休)."""

    date = models.DateField(_("date"), unique=True)
    workday = models.BooleanField(
        _("is a working day"), help_text=_("Ticked: an adjusted working day; else a holiday.")
    )
    name = models.CharField(_("name"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'workday' if self.workday else 'holiday'} {self.name}"


class CaseCounter(models.Model):
    """The last sequence number handed out per day (SQ + date + 6 digits)."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day} {self.last}"


class CaseQuerySet(ScopedQuerySet):
    def open(self):
        return self.filter(state__in=OPEN_STATES)


def new_token() -> str:
    return secrets.token_urlsafe(18)


class Case(ScopedModel):
    perm_model = "case"

    # Unique by Meta.constraints: looked up exactly only; unique=True would add, on
    # PostgreSQL, a LIKE (varchar_pattern_ops) index beside each that every write pays for.
    number = models.CharField(_("case number"), max_length=20)
    token = models.CharField(_("tracking token"), max_length=40, default=new_token)
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("description"))
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    suggested_category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confidence = models.FloatField(_("confidence of the suggestion"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    source_ref = models.CharField(
        _("source reference"), max_length=120, blank=True, help_text=_("e.g. campaigns.visit:42")
    )
    case_type = models.CharField(
        _("case type"), max_length=16, choices=CaseType.choices, default=CaseType.PROMISED
    )
    # Indexed with the department and with the deadline (Meta.indexes), not alone.
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.NEW)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,  # (department, state, -created_at) below serves it
    )
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    lat = models.FloatField(_("latitude (WGS84)"), null=True, blank=True)
    lng = models.FloatField(_("longitude (WGS84)"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    place = models.ForeignKey(
        "areas.Place", on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    reporter_name = models.CharField(_("reporter name"), max_length=60, blank=True)
    # Contact encrypted at rest; exact lookup (hotline caller, tracking page) by the keyed
    # hashes (core/fields.py). ``db_default``: rows written by COPY get an empty hash.
    reporter_phone = EncryptedTextField(_("reporter phone"), max_length=20, blank=True)
    reporter_email = EncryptedTextField(_("reporter email"), max_length=254, blank=True)
    reporter_phone_hash = KeyedHashField(source="reporter_phone", kind="phone", db_default="")
    reporter_email_hash = KeyedHashField(source="reporter_email", kind="email", db_default="")
    created_at = models.DateTimeField(_("created"), db_index=True)
    respond_by = models.DateTimeField(_("respond by"), null=True, blank=True)
    resolve_by = models.DateTimeField(_("resolve by"), null=True, blank=True, db_index=True)
    extended_days = models.PositiveSmallIntegerField(_("extension (working days)"), default=0)
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    master = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged",
        verbose_name=_("same incident as"),
    )
    satisfaction = models.CharField(
        _("satisfaction"), max_length=16, choices=Satisfaction.choices, blank=True
    )
    satisfaction_comment = models.TextField(_("comment"), blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)  # deadline warning sent
    reminded_at = models.DateTimeField(null=True, blank=True)  # 催办 sent
    escalated_at = models.DateTimeField(null=True, blank=True)  # 督办 sent
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    # Set by ``services.create_case`` on the case it saved: the timeline events written with it
    # (all of them), so that what follows a new case (the dashboards' rollups) need not read
    # them back. None on a case loaded or saved otherwise.
    intake_events: list | None = None

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at"]
        indexes = [
            # A department's worklist; the area code included, so that counting it within
            # the user's areas reads the index alone.
            models.Index(
                fields=["department", "state", "-created_at"],
                include=["area_code"],
                name="cases_case_dept_worklist",
            ),
            # Deadlines of open cases; with the area code, a worklist over every department
            # (city or street staff) counts its open cases from the index alone.
            models.Index(
                fields=["state", "resolve_by"], include=["area_code"], name="cases_case_state_due"
            ),
            models.Index(fields=["area_code", "-created_at"]),
            # The reporter's keyed hashes: exact lookups only (core/fields.py).
            models.Index(fields=["reporter_phone_hash"]),
            models.Index(fields=["reporter_email_hash"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="cases_case_number_key"),
            models.UniqueConstraint(fields=["token"], name="cases_case_token_key"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @classmethod
    def role_scope(cls, role: str, user):
        if role == Role.DEPARTMENT_HANDLER:
            # A subquery, not a join: no duplicate rows when OR-ed with another role's areas.
            return Q(department__in=Department.objects.filter(members=user).values("pk"))
        return None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_done(self) -> bool:
        return self.state in DONE_STATES

    def is_overdue(self, now=None) -> bool:
        from django.utils import timezone

        now = now or timezone.now()
        return bool(self.state in TIMED_STATES and self.resolve_by and self.resolve_by < now)


personal.register("cases.case", "reporter_name", "name")
personal.register("cases.case", "reporter_phone", "phone")
personal.register("cases.case", "reporter_email", "name")


class EventKind(models.TextChoices):
    CREATED = "created", _("Received")
    MOVE = "move", _("Workflow step")
    NOTE = "note", _("Note")
    MERGED = "merged", _("Merged as the same incident")
    ATTACHED = "attached", _("Photos added")
    EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
    EXTENSION_DECIDED = "extension_decided", _("Extension decided")
    WARNING = "warning", _("Deadline warning")
    REMINDER = "reminder", _("Reminder (催办)")
    ESCALATION = "escalation", _("Escalation (督办)")
    REROUTED = "rerouted", _("Department changed")


class CaseEventQuerySet(AppendOnlyQuerySet, ScopedQuerySet):
    pass


class CaseEvent(AppendOnlyModel, ScopedModel):
    """One step of a case's history: append-only, the timeline and the source of indicators."""

    perm_model = "case"

    # (case, at) below serves the foreign key too.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    area_code = models.CharField(max_length=40, db_index=True)
    kind = models.CharField(_("kind"), max_length=24, choices=EventKind.choices)
    move = models.CharField(_("move"), max_length=16, blank=True)
    from_state = models.CharField(_("from"), max_length=16, choices=State.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=16, choices=State.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=60, blank=True)  # "resident", "system"
    at = models.DateTimeField(_("at"), db_index=True)
    note = models.TextField(_("note"), blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    public = models.BooleanField(_("shown to the reporter"), default=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"]), models.Index(fields=["kind", "move", "at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.move} {self.at:%Y-%m-%d %H:%M}"

    @property
    def label(self) -> str:
        from .workflow import MOVES

        if self.kind == EventKind.MOVE and self.move in MOVES:
            return str(MOVES[self.move].label)
        return self.get_kind_display()


def attachment_path(instance, filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower()[:5] if "." in filename else "bin"
    return f"cases/{instance.area_code[:6]}/{secrets.token_hex(12)}.{ext}"


class Attachment(ScopedModel):
    perm_model = "case"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        CaseEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    area_code = models.CharField(max_length=40, db_index=True)
    file = models.FileField(_("file"), upload_to=attachment_path)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]


class ExtensionRequest(ScopedModel):
    perm_model = "case"

    class Decision(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    area_code = models.CharField(max_length=40, db_index=True)
    days = models.PositiveSmallIntegerField(_("extra working days"))
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    decision = models.CharField(
        max_length=16, choices=Decision.choices, default=Decision.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-requested_at"]


class Notification(models.Model):
    """A message to a case's reporter or to staff. The contact is read from the case when sent,
    so no personal data is copied here."""

    class Audience(models.TextChoices):
        REPORTER = "reporter", _("Reporter")
        USER = "user", _("Staff user")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notifications")
    audience = models.CharField(max_length=16, choices=Audience.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="case_notifications",
    )
    kind = models.CharField(max_length=24)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"
