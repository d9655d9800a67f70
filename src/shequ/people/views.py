"""Pages of households and persons: scoped, personal fields masked; an audited reveal.

The plain ID number or phone is shown only in the answer to a reveal POST (never in a URL, never
kept in the session); ``shequ.core.personal.reveal`` checks the permission, needs a reason and
writes one ``PersonalDataAccess`` row.
"""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView

from shequ.areas.models import Place
from shequ.areas.views import area_crumbs, place_crumbs
from shequ.core import personal
from shequ.core.scoping import code_in_scope
from shequ.core.views import ScopedViewMixin, client_ip

from .models import Household, Person, Residence


def revealable_choices():
    return [
        (name, capfirst(Person._meta.get_field(name).verbose_name))
        for name in personal.revealable_fields(Person)
    ]


class RevealForm(forms.Form):
    field = forms.MultipleChoiceField(
        label=_("Fields to reveal"),
        choices=revealable_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one field to reveal.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        min_length=4,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why you need the full value. It is recorded with your name and the time."),
        error_messages={"required": _("A reveal needs a reason.")},
    )


def _dwelling_crumbs(user, dwelling: Place | None, area_code: str) -> list[dict]:
    if dwelling is not None:
        return place_crumbs(user, dwelling, link_last=True)
    return area_crumbs(user, area_code, link_last=True)


def _place_visible(user, place: Place | None) -> bool:
    return place is not None and code_in_scope(user, Place.perm("view"), place.area_code)


class HouseholdView(ScopedViewMixin, DetailView):
    model = Household
    template_name = "people/household.html"
    context_object_name = "household"

    def get_queryset(self):
        return super().get_queryset().select_related("dwelling")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, household = self.request.user, self.object
        members = (
            Person.objects.for_user(user, "view")
            .filter(household=household)
            .order_by("relation", "id")
        )
        context.update(
            crumbs=_dwelling_crumbs(user, household.dwelling, household.area_code),
            members=list(members),
            dwelling_visible=_place_visible(user, household.dwelling),
        )
        return context


class PersonView(ScopedViewMixin, DetailView):
    model = Person
    template_name = "people/person.html"
    context_object_name = "person"

    def get_queryset(self):
        # Always fetched with the *view* scope: out of it answers 404 like a missing person.
        return Person.objects.for_user(self.request.user, "view").select_related(
            "household", "dwelling"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, person = self.request.user, self.object
        residences = (
            Residence.objects.for_user(user, "view")
            .filter(person=person)
            .select_related("dwelling")
            .order_by("-start", "id")
        )
        members = []
        household_visible = False
        if person.household_id:
            members = list(
                Person.objects.for_user(user, "view")
                .filter(household_id=person.household_id)
                .exclude(pk=person.pk)
                .order_by("relation", "id")
            )
            household_visible = (
                Household.objects.for_user(user, "view").filter(pk=person.household_id).exists()
            )
        place_scope = Place.perm("view")
        residences = list(residences)
        for residence in residences:
            residence.dwelling_visible = code_in_scope(
                user, place_scope, residence.dwelling.area_code
            )
        can_reveal = Person.user_may(user, "reveal") and person.in_scope_of(user, "reveal")
        context.update(
            crumbs=_dwelling_crumbs(user, person.dwelling, person.area_code),
            residences=residences,
            members=members,
            household_visible=household_visible,
            dwelling_visible=_place_visible(user, person.dwelling),
            can_reveal=can_reveal,
            revealed={},
            lang_next=reverse("people:person", args=[person.pk]),
        )
        if can_reveal:
            context.setdefault("reveal_form", RevealForm())
        context.update(person_population_context(user, person))
        context.setdefault("decision_form", DecisionForm())
        return context


class RevealView(PersonView):
    """POST only. No reveal permission anywhere -> 403; not visible -> 404; visible but not
    revealable here -> 403 (from ``personal.reveal``). Bad input re-renders with the error."""

    action = "reveal"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = RevealForm(request.POST)
        revealed = {}
        if form.is_valid():
            try:
                revealed = personal.reveal(
                    request.user,
                    self.object,
                    form.cleaned_data["field"],
                    form.cleaned_data["reason"],
                    channel="web",
                    ip=client_ip(request),
                )
            except personal.RevealRefused as refused:
                form.add_error(None, refused)
        context = self.get_context_data(object=self.object, reveal_form=form)
        context["revealed"] = revealed
        if revealed:
            context["reveal_form"] = RevealForm()
        response = self.render_to_response(context)
        if revealed:
            response["X-Personal-Data"] = "revealed"  # this answer holds plain values
        return response


# ============================================================================ population data
# Sources and batches (upload with a progress bar), flagged-row reports, the review queue,
# split and merge, and the feedback export. See docs/population.md.

import csv  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib import messages  # noqa: E402
from django.contrib.auth.decorators import login_required  # noqa: E402
from django.core.exceptions import PermissionDenied  # noqa: E402
from django.db import transaction  # noqa: E402
from django.http import HttpResponse, StreamingHttpResponse  # noqa: E402
from django.shortcuts import get_object_or_404, redirect, render  # noqa: E402
from django.utils.translation import gettext as gettext_now  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402

from . import ingest as ingest_mod  # noqa: E402
from . import services  # noqa: E402
from .exports import BOM, _Echo  # noqa: E402
from .feedback import FeedbackRefused, write_feedback  # noqa: E402
from .models import (  # noqa: E402
    Batch,
    LinkDecision,
    RawRecord,
    ReviewItem,
    ReviewStatus,
    Source,
)
from .population_display import masked_raw, record_rows  # noqa: E402


class UploadForm(forms.Form):
    source = forms.ChoiceField(label=_("Source"))
    file = forms.FileField(
        label=_("File"), help_text=_("CSV, XLSX (first sheet) or JSON Lines, header on line 1.")
    )
    area_code = forms.CharField(
        label=_("Area"),
        max_length=40,
        required=False,
        help_text=_("Code of the area the list belongs to (default: your area)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [
            (code, f"{code} · {d.title}") for code, d in sorted(ingest_mod.definitions().items())
        ]


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Why"),
        min_length=4,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("A decision needs a reason.")},
    )


def _require(user, action: str, model=Person) -> None:
    if not model.user_may(user, action):
        raise PermissionDenied


def upload_area(user, wanted: str) -> str | None:
    """The area a new batch belongs to: the one asked for, if the user may import there."""
    from shequ.core.scoping import scope_codes

    codes = scope_codes(user, Batch.perm("import"))
    if wanted:
        return wanted if code_in_scope(user, Batch.perm("import"), wanted) else None
    return codes[0] if codes else None


def start_upload(user, source_code: str, upload, area_code: str = "") -> tuple[Batch, bool]:
    """Store the upload and queue its import. Returns (batch, created); the same content of
    the same source again returns the earlier batch."""
    from .tasks import ingest_batch

    defn = ingest_mod.definition(source_code)
    ingest_mod.file_format(upload.name)
    area = upload_area(user, area_code)
    if area is None:
        raise PermissionDenied
    folder = Path(settings.MEDIA_ROOT) / "ingest"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(upload.name).suffix.lower()
    with tempfile.NamedTemporaryFile(dir=folder, suffix=suffix, delete=False) as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
        stored = Path(fh.name)
    sha = ingest_mod.sha256_of(stored)
    source = ingest_mod.ensure_source(defn)
    earlier = ingest_mod.existing_batch(source, sha)
    if earlier is not None:
        stored.unlink(missing_ok=True)
        return earlier, False
    with transaction.atomic():
        batch = Batch.objects.create(
            source=source,
            file_name=Path(upload.name).name[:255],
            sha256=sha,
            file_format=ingest_mod.FORMATS[suffix],
            area_code=area,
            stored_file=str(stored),
            created_by=user,
        )
        transaction.on_commit(lambda: ingest_batch(batch.pk))
    return batch, True


@login_required
def sources_page(request):
    """Sources, recent batches and the upload form (data stewards)."""
    _require(request.user, "view", Batch)
    may_import = Batch.user_may(request.user, "import")
    form = UploadForm()
    if request.method == "POST":
        if not may_import:
            raise PermissionDenied
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                batch, created = start_upload(
                    request.user,
                    form.cleaned_data["source"],
                    form.cleaned_data["file"],
                    form.cleaned_data["area_code"],
                )
            except ingest_mod.IngestRefused as exc:
                form.add_error("file", str(exc))
            else:
                if not created:
                    messages.info(
                        request,
                        gettext_now("This file was imported before; nothing changed."),
                    )
                return redirect("people:batch", pk=batch.pk)
    batches = Batch.objects.for_user(request.user, "view").select_related("source", "created_by")[
        :50
    ]
    return render(
        request,
        "people/sources.html",
        {
            "sources": Source.objects.all(),
            "batches": batches,
            "form": form,
            "may_import": may_import,
            "may_export": Person.user_may(request.user, "export"),
        },
    )


@login_required
def batch_page(request, pk: int):
    _require(request.user, "view", Batch)
    batch = get_object_or_404(
        Batch.objects.for_user(request.user, "view").select_related("source", "created_by"), pk=pk
    )
    flagged = list(
        RawRecord.objects.for_user(request.user, "view")
        .filter(batch=batch, flagged=True)
        .order_by("row")[:100]
    )
    return render(request, "people/batch.html", {"batch": batch, "flagged": flagged})


@login_required
def flagged_csv(request, pk: int):
    _require(request.user, "view", Batch)
    batch = get_object_or_404(Batch.objects.for_user(request.user, "view"), pk=pk)

    def rows():
        writer = csv.writer(_Echo())
        yield BOM + writer.writerow(ingest_mod.FLAG_COLUMNS)
        for row in ingest_mod.flagged_rows(batch):
            yield writer.writerow([ingest_mod.safe_cell(v) for v in row])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="flagged-batch-{batch.pk}.csv"'
    return response


@login_required
def review_page(request):
    _require(request.user, "change")
    items = (
        ReviewItem.objects.for_user(request.user, "change")
        .filter(status=ReviewStatus.OPEN)
        .select_related("record__source", "other__source", "record__batch", "other__batch")
        .order_by("-match_probability", "id")[:50]
    )
    items = list(items)
    for item in items:
        item.rows = record_rows([item.record, item.other])
    return render(
        request,
        "people/review.html",
        {
            "items": items,
            "form": DecisionForm(),
            "open_count": ReviewItem.objects.for_user(request.user, "change")
            .filter(status=ReviewStatus.OPEN)
            .count(),
        },
    )


@login_required
@require_POST
def review_decide(request, pk: int):
    _require(request.user, "change")
    item = get_object_or_404(
        ReviewItem.objects.for_user(request.user, "change").filter(status=ReviewStatus.OPEN), pk=pk
    )
    form = DecisionForm(request.POST)
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject") or not form.is_valid():
        messages.error(request, gettext_now("Choose accept or reject and give a reason."))
        return redirect("people:review")
    services.decide_review(
        item, decision == "accept", user=request.user, reason=form.cleaned_data["reason"]
    )
    messages.success(request, gettext_now("Decision recorded."))
    return redirect("people:review")


@login_required
@require_POST
def person_split(request, pk: int):
    _require(request.user, "change")
    person = get_object_or_404(Person.objects.for_user(request.user, "change"), pk=pk)
    form = DecisionForm(request.POST)
    chosen = [int(v) for v in request.POST.getlist("record") if v.isdigit()]
    if not form.is_valid() or not chosen:
        messages.error(request, gettext_now("Choose the records to split off and give a reason."))
        return redirect("people:person", pk=pk)
    try:
        new = services.split_person(
            person, chosen, user=request.user, reason=form.cleaned_data["reason"]
        )
    except ValueError:
        messages.error(request, gettext_now("Choose some, but not all, of the records."))
        return redirect("people:person", pk=pk)
    messages.success(request, gettext_now("The records now form person %(id)s.") % {"id": new.pk})
    return redirect("people:person", pk=new.pk)


@login_required
@require_POST
def person_merge(request, pk: int):
    _require(request.user, "change")
    scoped = Person.objects.for_user(request.user, "change")
    person = get_object_or_404(scoped, pk=pk)
    form = DecisionForm(request.POST)
    other_id = request.POST.get("other", "")
    other = scoped.filter(pk=int(other_id)).first() if other_id.isdigit() else None
    if not form.is_valid() or other is None or other.pk == person.pk:
        messages.error(
            request, gettext_now("Give the id of another person in your areas and a reason.")
        )
        return redirect("people:person", pk=pk)
    survivor = services.merge_persons(
        person.pk, [other.pk], user=request.user, reason=form.cleaned_data["reason"]
    )
    messages.success(request, gettext_now("Merged into person %(id)s.") % {"id": survivor.pk})
    return redirect("people:person", pk=survivor.pk)


@login_required
def feedback_csv(request, code: str):
    """GET: masked. POST with a reason, by a user who may reveal: plain where they may."""
    _require(request.user, "export")
    source = get_object_or_404(Source, code=code)
    records = RawRecord.objects.for_user(request.user, "export")
    reveal_user, reason = None, ""
    if request.method == "POST":
        form = DecisionForm(request.POST)
        if not form.is_valid():
            return HttpResponse(gettext_now("A reveal needs a reason."), status=400)
        reveal_user, reason = request.user, form.cleaned_data["reason"]
    elif request.method != "GET":
        return HttpResponse(status=405)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    if reveal_user is not None:
        response["X-Personal-Data"] = "revealed"  # plain where the user may reveal
    response["Content-Disposition"] = f'attachment; filename="feedback-{source.code}.csv"'
    response.write(BOM)
    try:
        with transaction.atomic():
            write_feedback(
                response,
                source,
                reveal_user=reveal_user,
                reason=reason,
                records=records,
                ip=client_ip(request),
            )
    except FeedbackRefused as exc:
        raise PermissionDenied(str(exc)) from exc
    return response


def person_population_context(user, person) -> dict:
    """Records, links and provenance for the person page."""
    records = list(
        RawRecord.objects.for_user(user, "view")
        .filter(person=person)
        .select_related("source", "batch", "batch__created_by")
        .order_by("record_date", "id")
    )
    decisions = list(
        LinkDecision.objects.for_user(user, "view")
        .filter(person_id=person.pk)
        .select_related("record__source", "other__source", "decided_by")
        .order_by("-at", "-id")[:200]
    )
    for rec in records:
        rec.masked = masked_raw(rec)
    sources = []
    for field, origin in sorted((person.field_sources or {}).items()):
        sources.append((field, origin))
    return {
        "records": records,
        "decisions": decisions,
        "field_sources": sources,
        "may_change": Person.user_may(user, "change") and person.in_scope_of(user, "change"),
    }
