"""People, households and residences (minimal: the population-data issue builds on it)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.core import personal
from shequ.core.fields import EncryptedJSONField, EncryptedTextField, KeyedHashField
from shequ.core.querysets import AppendOnlyQuerySet, ScopedModel, ScopedQuerySet

from .choices import IdType, Relation, ResidenceKind, ResidentType, Sex


class Household(ScopedModel):
    """A household (户): the people registered or living together in one dwelling."""

    number = models.CharField(_("household number (户号)"), max_length=32, unique=True)
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    dwelling = models.ForeignKey(
        "areas.Place", on_delete=models.PROTECT, null=True, blank=True, related_name="households"
    )
    collective = models.BooleanField(_("collective household (集体户)"), default=False)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class Person(ScopedModel):
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    name = models.CharField(_("name"), max_length=100, db_index=True)
    name_latin = models.CharField(_("name in Latin script"), max_length=150, blank=True)
    former_name = models.CharField(_("former name (曾用名)"), max_length=100, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    id_type = models.CharField(
        _("ID type"), max_length=20, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    # Encrypted at rest; exact lookup by the keyed hashes (core/fields.py).
    id_number = EncryptedTextField(_("ID number"), max_length=32, blank=True)
    phone = EncryptedTextField(_("phone"), max_length=20, blank=True)
    id_number_hash = KeyedHashField(source="id_number", kind="id_number")
    phone_hash = KeyedHashField(source="phone", kind="phone")
    ethnicity = models.CharField(_("ethnicity (GB 3304)"), max_length=2, blank=True)
    nationality = models.CharField(_("nationality (ISO 3166)"), max_length=3, default="CHN")
    resident_type = models.CharField(
        _("resident type"), max_length=16, choices=ResidentType.choices, db_index=True
    )
    hukou_region = models.CharField(_("hukou region code"), max_length=6, blank=True)
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    relation = models.CharField(
        _("relation to head"), max_length=2, choices=Relation.choices, blank=True
    )
    dwelling = models.ForeignKey(
        "areas.Place", on_delete=models.PROTECT, null=True, blank=True, related_name="residents"
    )
    field_sources = models.JSONField(
        _("field sources"),
        default=dict,
        blank=True,
        help_text=_("Which record of which source gave each golden field."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["area_code", "id"]
        # The keyed hashes: exact lookups only (core/fields.py).
        indexes = [models.Index(fields=["id_number_hash"]), models.Index(fields=["phone_hash"])]

    def __str__(self) -> str:
        return self.name

    @property
    def age(self) -> int | None:
        import datetime as dt

        if not self.birth_date:
            return None
        today = dt.date.today()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


class Residence(ScopedModel):
    """A person's tie to a dwelling over time: registered, living, or floating."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="residences")
    dwelling = models.ForeignKey("areas.Place", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=ResidenceKind.choices)
    start = models.DateField(_("from"), null=True, blank=True)
    end = models.DateField(_("to"), null=True, blank=True)
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)

    class Meta:
        verbose_name = _("residence")
        verbose_name_plural = _("residences")
        ordering = ["person", "-start"]


personal.register("people.person", "id_number", "id_number")
personal.register("people.person", "phone", "phone")
personal.register("people.person", "name", "name", masked=False)
personal.register("people.person", "birth_date", "birth_date", masked=False)


# ============================================================================ population data
# Sources, batches and raw records (every original row kept unchanged, with its provenance),
# the append-only trail of link decisions, and the review queue. See docs/population.md.


class AppendOnlyScopedQuerySet(ScopedQuerySet, AppendOnlyQuerySet):
    """Scoped like any row, and history: no update, no delete through the ORM."""


class Source(models.Model):
    """One office's list, described by a source definition (``people/sources/<code>.toml``)."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    version = models.CharField(_("definition version"), max_length=32, blank=True)
    definition_hash = models.CharField(_("definition SHA-256"), max_length=64, blank=True)
    definition_path = models.CharField(_("definition file"), max_length=500, blank=True)
    owner = models.CharField(
        _("owner"), max_length=200, blank=True, help_text=_("The office that keeps this list.")
    )
    trust = models.PositiveSmallIntegerField(
        _("trust"), default=50, help_text=_("0-100: the most trusted source wins a field.")
    )
    field_trust = models.JSONField(
        _("trust per field"),
        default=dict,
        blank=True,
        help_text=_('Overrides per golden field, e.g. {"phone": 70}.'),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.title or self.code

    def trust_for(self, field: str) -> int:
        value = (self.field_trust or {}).get(field)
        return int(value) if isinstance(value, int) else self.trust


class BatchStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    READING = "reading", _("Reading")
    STORING = "storing", _("Storing")
    LINKING = "linking", _("Linking")
    DONE = "done", _("Done")
    REFUSED = "refused", _("Refused")
    FAILED = "failed", _("Failed")


class Batch(ScopedModel):
    """One file of one source, imported once: its provenance and its progress."""

    perm_model = "person"

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="batches")
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the content"), max_length=64, db_index=True)
    file_format = models.CharField(_("format"), max_length=8)
    area_code = models.CharField(
        _("area code"), max_length=40, db_index=True, help_text=_("Where the list belongs.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=BatchStatus.choices, default=BatchStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    message = models.TextField(_("message"), blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    flagged_rows = models.PositiveIntegerField(_("flagged rows"), default=0)
    linked_records = models.PositiveIntegerField(_("records linked"), default=0)
    new_persons = models.PositiveIntegerField(_("new persons"), default=0)
    linkage_model = models.JSONField(
        _("linkage model"),
        default=dict,
        blank=True,
        help_text=_(
            "Which model linked the batch: how its weights were obtained (estimated in this "
            "run, reused from an earlier one, or exact ID numbers only), a fingerprint of "
            "the weights, the engine and configuration versions and the thresholds."
        ),
    )
    stored_file = models.CharField(_("stored upload"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Re-importing the same content of the same source changes nothing.
            models.UniqueConstraint(
                fields=["source", "sha256"],
                condition=~models.Q(status__in=["refused", "failed"]),
                name="unique_batch_content_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source.code} · {self.file_name}"

    @property
    def finished(self) -> bool:
        return self.status in (BatchStatus.DONE, BatchStatus.REFUSED, BatchStatus.FAILED)


class RawRecord(ScopedModel):
    """One row of a source file exactly as read, its standard form and its flags."""

    perm_model = "person"

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="records")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="records")
    row = models.PositiveIntegerField(_("line or row in the file"))
    record_id = models.CharField(_("record id in the source"), max_length=64, db_index=True)
    # The row as read and its standard form hold ID numbers and phones: encrypted at rest.
    raw = EncryptedJSONField(_("raw row"), help_text=_("The row exactly as read: column -> text."))
    std = EncryptedJSONField(_("standardised fields"), default=dict)
    flags = models.JSONField(_("flags"), default=list, help_text=_("[field, reason] pairs."))
    flagged = models.BooleanField(_("flagged"), default=False, db_index=True)
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    id_number = EncryptedTextField(_("ID number"), max_length=32, blank=True)
    phone = EncryptedTextField(_("phone"), max_length=20, blank=True)
    id_number_hash = KeyedHashField(source="id_number", kind="id_number")
    phone_hash = KeyedHashField(source="phone", kind="phone")
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    record_date = models.DateField(_("record date"), null=True, blank=True)
    dwelling = models.ForeignKey(
        "areas.Place", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="records"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("raw record")
        verbose_name_plural = _("raw records")
        ordering = ["batch", "row"]
        indexes = [
            models.Index(fields=["source", "record_id"]),
            # The keyed hashes: exact lookups only (core/fields.py).
            models.Index(fields=["id_number_hash"]),
            models.Index(fields=["phone_hash"]),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.record_id}"


class DecisionKind(models.TextChoices):
    AUTO = "auto", _("Linked automatically")
    ACCEPT = "accept", _("Accepted by a steward")
    REJECT = "reject", _("Rejected by a steward")
    SPLIT = "split", _("Split by a steward")
    MERGE = "merge", _("Merged by a steward")


class LinkDecision(ScopedModel):
    """Append-only: why a record belongs to a person, or why two must (not) be one.

    ``record`` ↔ ``person`` (a record linked to a person), or a pair ``record``/``other``
    (accepted or rejected), or two persons (``person_id``/``other_person_id``: merge, split).
    Person ids are plain numbers so that the history outlives a merged person.
    """

    perm_model = "person"

    kind = models.CharField(_("kind"), max_length=8, choices=DecisionKind.choices, db_index=True)
    person_id = models.BigIntegerField(_("person"), null=True, blank=True, db_index=True)
    other_person_id = models.BigIntegerField(
        _("other person"), null=True, blank=True, db_index=True
    )
    record = models.ForeignKey(
        RawRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="decisions"
    )
    other = models.ForeignKey(
        RawRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    match_weight = models.FloatField(_("match weight"), null=True, blank=True)
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    reason = models.TextField(_("why"), blank=True)

    objects = AppendOnlyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("link decision")
        verbose_name_plural = _("link decisions")
        ordering = ["-at", "-id"]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("LinkDecision rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("LinkDecision rows are append-only")


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded")


class ReviewItem(ScopedModel):
    """An uncertain pair for a data steward: are these two records one person?"""

    perm_model = "person"

    record = models.ForeignKey(RawRecord, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(RawRecord, on_delete=models.CASCADE, related_name="+")
    match_weight = models.FloatField(_("match weight"))
    match_probability = models.FloatField(_("match probability"))
    explanation = models.JSONField(_("explanation"), default=dict)
    linked = models.BooleanField(_("linked now"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    batch = models.ForeignKey(
        Batch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("why"), blank=True)

    class Meta:
        verbose_name = _("review item")
        verbose_name_plural = _("review items")
        ordering = ["status", "-match_probability", "id"]
        constraints = [
            models.UniqueConstraint(fields=["record", "other"], name="unique_review_pair")
        ]


personal.register("people.rawrecord", "id_number", "id_number")
personal.register("people.rawrecord", "phone", "phone")
personal.register("people.rawrecord", "name", "name", masked=False)
