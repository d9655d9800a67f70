"""Pages: the resident's intake, tracking and rating (no login, no personal data shown); the
staff's worklist, case detail, hotline console, patrol intake and supervisor page (scoped)."""

from __future__ import annotations

import datetime as dt
import html

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views import View

from shequ.areas.models import Area, Level
from shequ.core import crypto, personal
from shequ.core import phone as phones
from shequ.core.scoping import minimal_prefixes, scope_codes
from shequ.core.views import ScopedViewMixin, client_ip

from . import indicators as ind
from . import reference, services
from .api.filtersets import CaseFilterSet
from .forms import (
    IntakeForm,
    MoveForm,
    PhoneLookupForm,
    RateForm,
    RevealForm,
    StaffIntakeForm,
    TrackForm,
)
from .models import Attachment, Case, CaseType, Channel, EventKind, ExtensionRequest
from .routing import parse_address
from .similarity import hot_spots, similar_open_cases
from .workflow import MOVES, TIMED_STATES, IllegalMove, State

COUNT_CAP = 1_000  # the worklist counts this many matching cases at most (CappedPaginator)
INTAKE_LIMIT = (5, 600)  # requests per IP per 10 minutes from the public page
TRACK_LIMIT = (20, 600)
BULK_MOVES = ("accept", "register", "dispatch", "start")
PUBLIC_KINDS = (EventKind.CREATED, EventKind.MOVE, EventKind.MERGED)


def limited(request, name: str, limit: tuple[int, int]) -> bool:
    """True once the caller's IP has used ``name`` ``limit[0]`` times in ``limit[1]`` s."""
    key = f"cases:rl:{name}:{client_ip(request)}"
    cache.add(key, 0, limit[1])
    try:
        used = cache.incr(key)
    except ValueError:
        cache.set(key, 1, limit[1])
        used = 1
    return used > limit[0]


def nav(user) -> dict:
    """Which staff pages the user's role opens (the navigation shows only those)."""
    return {
        "can_intake": Case.user_may(user, "add"),
        "can_supervise": Case.user_may(user, "supervise") or Case.user_may(user, "dispatch"),
    }


def _error_messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return exc.messages


def map_data() -> dict:
    """District and street outlines for the intake map (no tiles): cached, a few hundred KB."""
    data = cache.get("cases:map")
    if data is None:
        features = [
            {
                "type": "Feature",
                "geometry": boundary,
                "properties": {"name": name, "level": level},
            }
            for name, level, boundary in Area.objects.filter(
                level__in=[Level.DISTRICT, Level.STREET]
            )
            .exclude(boundary=None)
            .values_list("name", "level", "boundary")
        ]
        data = {"type": "FeatureCollection", "features": features}
        cache.set("cases:map", data, 600)
    return data


def _intake_from_form(form, request, channel, user=None, **extra):
    data = form.cleaned_data
    return services.create_case(
        text=data["text"],
        channel=channel,
        category=data.get("category") or None,
        case_type=data.get("case_type") or "promised",
        lat=data.get("lat"),
        lng=data.get("lng"),
        address=data.get("address") or "",
        reporter_name=data.get("reporter_name") or "",
        reporter_phone=data.get("reporter_phone") or "",
        reporter_email=data.get("reporter_email") or "",
        photos=data.get("photos") or [],
        acting_user=user,
        **extra,
    )


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, msgs in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, msgs)
    else:
        form.add_error(None, exc.messages)


# --- resident ---------------------------------------------------------------------------------


def report(request):
    form = IntakeForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if limited(request, "intake", INTAKE_LIMIT):
            form.add_error(None, _("Too many requests from this connection; try again later."))
        elif form.is_valid():
            try:
                case = _intake_from_form(form, request, Channel.WEB)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                request.session["cases_new"] = case.number
                return redirect("cases:track_case", token=case.token)
    return render(request, "cases/report.html", {"form": form, "map_data": map_data()})


def track(request):
    form = TrackForm(request.POST or None)
    if request.method == "POST":
        if limited(request, "track", TRACK_LIMIT):
            form.add_error(None, _("Too many attempts; try again later."))
        elif form.is_valid():
            number = form.cleaned_data["number"].strip().upper()
            contact = form.cleaned_data["contact"].strip()
            match = contact_filter(contact)
            token = (
                Case.objects.filter(match, number=number).values_list("token", flat=True).first()
                if match is not None
                else None
            )
            if token is not None:
                return redirect("cases:track_case", token=token)
            form.add_error(None, _("No case matches this number and contact."))
    return render(request, "cases/track.html", {"form": form})


def contact_filter(contact: str) -> Q | None:
    """The reporter's phone or e-mail as an exact match on its keyed hash (the contact is
    encrypted at rest); None when it is neither."""
    contact = (contact or "").strip()
    if "@" in contact:
        return Q(reporter_email_hash=crypto.keyed_hash("email", contact))
    try:
        return Q(reporter_phone_hash=crypto.hash_phone(phones.normalise(contact)))
    except phones.PhoneError:
        return None


def track_case(request, token: str):
    case = get_object_or_404(Case.objects.select_related("category", "master"), token=token)
    rate_form = RateForm(request.POST or None) if request.POST.get("do") == "rate" else RateForm()
    if request.method == "POST":
        try:
            if request.POST.get("do") == "rate" and rate_form.is_valid():
                services.evaluate_case(
                    case,
                    satisfaction=rate_form.cleaned_data["satisfaction"],
                    comment=rate_form.cleaned_data["comment"],
                    by_reporter=True,
                )
                messages.success(request, _("Thank you for your rating."))
                return redirect("cases:track_case", token=token)
            if request.POST.get("do") == "withdraw":
                services.withdraw_case(case, by_reporter=True, note=_("Withdrawn by the reporter"))
                messages.success(request, _("Your request is withdrawn."))
                return redirect("cases:track_case", token=token)
        except (IllegalMove, ValidationError) as exc:
            messages.error(
                request,
                "; ".join(_error_messages(exc)) if isinstance(exc, ValidationError) else str(exc),
            )
            return redirect("cases:track_case", token=token)
    events = case.events.filter(public=True, kind__in=PUBLIC_KINDS).order_by("at", "id")
    just_made = request.session.pop("cases_new", None) == case.number
    return render(
        request,
        "cases/track_case.html",
        {
            "case": case,
            "events": events,
            "just_made": just_made,
            "track_url": request.build_absolute_uri(
                reverse("cases:track_case", kwargs={"token": token})
            ),
            "rate_form": rate_form,
            "can_rate": case.state == State.CLOSED and case.master_id is None,
            "can_withdraw": case.state in TIMED_STATES,
            "notifications": case.notifications.filter(audience="reporter")[:10],
        },
    )


# --- staff ------------------------------------------------------------------------------------


class CappedPaginator(Paginator):
    """Counts ``COUNT_CAP`` + 1 matching rows at most (``SELECT count(*) FROM (... LIMIT n)``):
    a worklist over millions of cases never counts them all. Beyond the cap the page says
    "1000+" and offers the first ``COUNT_CAP`` rows' pages (20 pages of 50); filters narrow
    the list. Counting visits each row's heap page too: open cases change state, so their
    pages are seldom all-visible for an index-only scan, and 10,000 rows took ~6 ms of the
    database at 2M cases, 1,000 take under one."""

    @cached_property
    def _counted(self) -> int:
        return self.object_list.order_by()[: COUNT_CAP + 1].count()

    @property
    def count(self) -> int:
        return min(self._counted, COUNT_CAP)

    @property
    def capped(self) -> bool:
        return self._counted > COUNT_CAP


ROW_FIELDS = ("number", "title", "state", "case_type", "category_id", "department_id", "resolve_by")


def worklist_rows(values, ref, now, *, selectable: bool) -> list[str]:
    """A worklist page's rows as HTML, from plain values with the labels looked up once per
    page; every value is escaped (``html.escape``). Through the template engine (model
    instances, related rows, choice labels, a URL reversed per row) a page of 50 rows cost
    more CPU than all the rest of the request; so did ``format_html``."""
    esc = html.escape
    states = {value: esc(str(label)) for value, label in State.choices}
    types = {value: esc(str(label)) for value, label in CaseType.choices}
    due_label = esc(_("due"))
    overdue_mark = f' <strong class="cases-overdue">{esc(_("overdue"))}</strong>'
    url = reverse("cases:detail", args=["NUMBER"])
    out = []
    for row in values:
        number, state, due = esc(row["number"]), row["state"], row["resolve_by"]
        category = ref.by_pk.get(row["category_id"])
        department = ref.departments.get(row["department_id"])
        overdue = bool(state in TIMED_STATES and due and due < now)
        meta = [category.display_name if category else "", str(department or "")]
        meta = " · ".join([esc(m) for m in meta if m] + [types.get(row["case_type"], "")])
        check = (
            f'<input type="checkbox" name="numbers" value="{number}" aria-label="{number}">'
            if selectable
            else "<span></span>"
        )
        when = timezone.localtime(due).strftime("%m-%d %H:%M") if due else ""
        out.append(
            mark_safe(  # every value above is escaped
                f'<li class="list__item cases-row{" cases-row--overdue" if overdue else ""}">'
                f'{check}<a class="list__title" href="{esc(url.replace("NUMBER", row["number"]))}">'
                f'<span class="code">{number}</span> {esc(row["title"])}</a>'
                f'<span class="list__meta"><span class="badge state state--{esc(state)}">'
                f"{states.get(state, esc(state))}</span> {meta} · {due_label} {when}"
                f"{overdue_mark if overdue else ''}</span></li>"
            )
        )
    return out


class WorklistView(ScopedViewMixin, View):
    model = Case

    def get(self, request):
        qs = self.get_queryset()
        filterset = CaseFilterSet(request.GET or {"open": "true"}, queryset=qs, request=request)
        rows = filterset.qs if filterset.is_valid() else qs.none()
        if not request.GET.get("ordering"):
            rows = rows.order_by("-created_at", "-id")
        page = CappedPaginator(rows.values(*ROW_FIELDS), 50).get_page(request.GET.get("page"))
        bulk_moves = [
            (m, MOVES[m].label) for m in BULK_MOVES if Case.user_may(request.user, MOVES[m].action)
        ]
        ref = reference.reference.get()
        if any(
            (r["category_id"] and r["category_id"] not in ref.by_pk)
            or (r["department_id"] and r["department_id"] not in ref.departments)
            for r in page.object_list
        ):  # created since, in another process: read again
            reference.reference.forget()
            ref = reference.reference.get()
        departments = sorted(ref.departments.values(), key=lambda d: d.code)
        return render(
            request,
            "cases/worklist.html",
            {
                "page": page,
                "rows": worklist_rows(
                    page.object_list, ref, timezone.now(), selectable=bool(bulk_moves)
                ),
                "filterset": filterset,
                "states": State.choices,
                "departments": departments,
                "now": timezone.now(),
                "count_cap": COUNT_CAP,
                "bulk_moves": bulk_moves,
                "query": request.GET.urlencode(),
                **nav(request.user),
            },
        )

    def post(self, request):
        name = request.POST.get("move")
        if name not in BULK_MOVES:
            raise Http404
        numbers = request.POST.getlist("numbers")[:200]
        cases = self.model.objects.for_user(request.user, "view").filter(number__in=numbers)
        done, failed = 0, []
        for case in cases:
            try:
                services.MOVE_FUNCTIONS[name](case, acting_user=request.user)
                done += 1
            except (IllegalMove, PermissionDenied, ValidationError) as exc:
                msg = "; ".join(_error_messages(exc)) if isinstance(exc, ValidationError) else exc
                failed.append(f"{case.number}: {msg}")
        if done:
            messages.success(
                request, _("%(n)d cases: %(move)s.") % {"n": done, "move": MOVES[name].label}
            )
        for line in failed[:10]:
            messages.error(request, line)
        return redirect(f"{reverse('cases:worklist')}?{request.POST.get('query', '')}")


class CaseDetailView(ScopedViewMixin, View):
    model = Case

    def get_case(self, number):
        return get_object_or_404(
            self.get_queryset().select_related("category", "department", "place", "master"),
            number=number,
        )

    def get(self, request, number, revealed=None, reveal_form=None):
        case = self.get_case(number)
        moves = services.allowed_moves(request.user, case)
        events = case.events.select_related("actor", "department").prefetch_related("attachments")
        similar = similar_open_cases(case) if case.is_open and "merge" in moves else []
        return render(
            request,
            "cases/detail.html",
            {
                "case": case,
                "events": events,
                "moves": [(m, MOVES[m]) for m in moves if m != "merge"],
                "can_merge": "merge" in moves,
                "similar": similar,
                "move_form": MoveForm(),
                "merged": case.merged.all(),
                "extensions": case.extensions.all(),
                "can_extend": case.state in (State.DISPATCHED, State.IN_PROGRESS)
                and services.may(request.user, case, "start"),
                "can_decide": services.may(request.user, case, "dispatch"),
                "can_reveal": Case.user_may(request.user, "reveal")
                and case.in_scope_of(request.user, "reveal"),
                "reveal_form": reveal_form or RevealForm(),
                "revealed": revealed,
                "photos": case.attachments.all(),
                "now": timezone.now(),
                **nav(request.user),
            },
        )

    def post(self, request, number):
        case = self.get_case(number)
        do = request.POST.get("do", "")
        try:
            if do == "reveal":
                form = RevealForm(request.POST)
                if not form.is_valid():
                    return self.get(request, number, reveal_form=form)
                values = personal.reveal(
                    request.user,
                    case,
                    ["reporter_name", "reporter_phone", "reporter_email"],
                    form.cleaned_data["reason"],
                    ip=client_ip(request),
                )
                return self.get(request, number, revealed=values)
            if do == "note":
                services.add_note(case, acting_user=request.user, note=request.POST.get("note", ""))
            elif do == "extend":
                services.request_extension(
                    case,
                    acting_user=request.user,
                    days=int(request.POST.get("days") or 0),
                    reason=request.POST.get("reason", ""),
                )
            elif do in ("approve", "refuse"):
                ext = get_object_or_404(ExtensionRequest, pk=request.POST.get("request"), case=case)
                services.decide_extension(ext, acting_user=request.user, approve=do == "approve")
            elif do in MOVES:
                self._move(request, case, do)
            else:
                raise Http404
            messages.success(request, _("Saved."))
        except (IllegalMove, PermissionDenied) as exc:
            messages.error(request, str(exc) or _("Your role may not do this here."))
        except ValidationError as exc:
            messages.error(request, "; ".join(_error_messages(exc)))
        except ValueError:
            messages.error(request, _("Give a whole number of days."))
        return redirect("cases:detail", number=number)

    def _move(self, request, case, name):
        form = MoveForm(request.POST)
        if not form.is_valid():
            raise ValidationError(form.errors.as_text())
        data = form.cleaned_data
        note, user = data.get("note", ""), request.user
        if name == "dispatch":
            services.dispatch_case(case, data.get("department"), acting_user=user, note=note)
        elif name == "close":
            services.close_case(case, acting_user=user, outcome=data.get("outcome"), note=note)
        elif name == "evaluate":
            services.evaluate_case(
                case, acting_user=user, satisfaction=data.get("satisfaction"), comment=note
            )
        elif name == "merge":
            master = (
                Case.objects.for_user(user, "view").filter(number=data.get("master", "")).first()
            )
            if master is None:
                raise ValidationError({"master": _("No case with this number in your scope.")})
            services.merge_case(case, master, acting_user=user, note=note)
        else:
            services.MOVE_FUNCTIONS[name](case, acting_user=user, note=note)


class AttachmentView(ScopedViewMixin, View):
    model = Attachment

    def get(self, request, number, pk):
        att = get_object_or_404(self.get_queryset(), pk=pk, case__number=number)
        if not Case.objects.for_user(request.user, "view").filter(pk=att.case_id).exists():
            raise Http404
        return FileResponse(att.file.open("rb"), content_type=att.content_type)


class StaffIntakeView(ScopedViewMixin, View):
    """Patrol intake for grid workers (and staff): the same form, on the staff channel."""

    model = Case
    action = "add"
    channel = Channel.PATROL
    template = "cases/patrol.html"

    def get(self, request, form=None, **extra):
        return render(
            request,
            self.template,
            {
                "form": form or StaffIntakeForm(),
                "map_data": map_data(),
                **nav(request.user),
                **extra,
            },
        )

    def post(self, request):
        form = StaffIntakeForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                case = _intake_from_form(form, request, self.channel, request.user)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Case %(number)s created.") % {"number": case.number})
                return redirect("cases:detail", number=case.number)
        return self.get(request, form=form)


class HotlineView(StaffIntakeView):
    """The hotline console: look the caller up by phone (POST: no numbers in URLs), see their
    and the address's previous cases, take the request in. Keyboard-first (see hotline.js)."""

    channel = Channel.HOTLINE
    template = "cases/hotline.html"

    def get(self, request, form=None, **extra):
        extra.setdefault("lookup", PhoneLookupForm())
        return super().get(request, form=form, **extra)

    def post(self, request):
        if request.POST.get("do") != "lookup":
            return super().post(request)
        lookup = PhoneLookupForm(request.POST)
        visible = Case.objects.for_user(request.user, "view").select_related("category")
        caller_cases, address_cases, phone = [], [], ""
        address = request.POST.get("address", "").strip()[:200]
        if lookup.is_valid():
            try:
                phone = phones.normalise(lookup.cleaned_data["phone"])
            except phones.PhoneError as exc:
                lookup.add_error("phone", str(exc))
            else:
                caller_cases = list(
                    visible.filter(reporter_phone_hash=crypto.hash_phone(phone))[:10]
                )
        if address:
            match = parse_address(address)
            if match is not None and match.place is not None:
                address_cases = list(visible.filter(place=match.place)[:10])
            elif len(address) >= 4:
                address_cases = list(visible.filter(address__contains=address)[:10])
        form = StaffIntakeForm(initial={"reporter_phone": phone, "address": address})
        return self.get(
            request,
            form=form,
            lookup=lookup,
            caller_cases=caller_cases,
            address_cases=address_cases,
            looked_up=True,
        )


class SuperviseView(ScopedViewMixin, View):
    """Indicators, hot spots and overdue cases of the user's area (for dispatchers and the
    operations centre)."""

    model = Case

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not (
            Case.user_may(request.user, "supervise") or Case.user_may(request.user, "dispatch")
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        codes = minimal_prefixes(
            scope_codes(request.user, Case.perm("supervise"))
            + scope_codes(request.user, Case.perm("dispatch"))
        )
        area_code = request.GET.get("area") or codes[0]
        if not any(area_code.startswith(c) for c in codes):
            raise Http404
        days = {"7": 7, "30": 30, "90": 90}.get(request.GET.get("days", "30"), 30)
        today = timezone.localdate()
        start, end = today - dt.timedelta(days=days - 1), today + dt.timedelta(days=1)
        visible = self.get_queryset().filter(area_code__startswith=area_code)
        overdue = (
            visible.filter(state__in=TIMED_STATES, resolve_by__lt=timezone.now())
            .select_related("department", "category")
            .order_by("resolve_by")[:20]
        )
        area = Area.objects.filter(code=area_code).first()
        totals, by_department = ind.overview(area_code, start, end)
        return render(
            request,
            "cases/supervise.html",
            {
                "area": area,
                "area_code": area_code,
                "codes": codes,
                "days": days,
                "totals": totals,
                "by_department": by_department,
                "spots": hot_spots(visible, days=min(days, 7), min_count=3),
                "overdue": overdue,
                "pending_extensions": ExtensionRequest.objects.filter(
                    area_code__startswith=area_code, decision="pending"
                ).select_related("case")[:20],
                **nav(request.user),
            },
        )
