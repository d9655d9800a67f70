"""Pages of data use: the audit trail (data stewards), export requests, open data.

Access as everywhere: anonymous -> sign-in page; no permission anywhere -> 403; a request or
area outside the user's scope -> 404, like a missing one. Every list goes through ``for_user``.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequ.core import personal, ratelimit
from shequ.core.scoping import code_in_scope, scope_codes

from . import datasets, opendata, services
from .filtersets import AuditEventFilterSet
from .forms import DecisionForm, ExportRequestForm
from .models import AuditEvent, ExportRequest, ExportStatus

PAGE_SIZE = 50
CSV_COLUMNS = [
    "at",
    "actor",
    "actor_roles",
    "kind",
    "object_type",
    "object_id",
    "area_code",
    "changed_fields",
    "reason",
    "detail",
]


def _require(user, model, action: str) -> None:
    if not model.user_may(user, action):
        raise PermissionDenied


def _page(request, template: str, context: dict, status: int | None = None):
    user = request.user
    nav = {
        "perms_audit": AuditEvent.user_may(user, "view"),
        "perms_approve": ExportRequest.user_may(user, "approve"),
    }
    return render(request, template, {**nav, **context}, status=status)


class _Echo:
    def write(self, value):
        return value


def _safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


# --------------------------------------------------------------------------- audit trail
def _audit_filtered(request):
    _require(request.user, AuditEvent, "view")
    queryset = AuditEvent.objects.for_user(request.user, "view").order_by("-at", "-id")
    filterset = AuditEventFilterSet(request.GET or None, queryset=queryset)
    if filterset.is_bound and not filterset.is_valid():
        return filterset, queryset.none()
    return filterset, filterset.qs


@login_required
def audit_page(request):
    filterset, events = _audit_filtered(request)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return _page(
        request,
        "governance/audit.html",
        {
            "filterset": filterset,
            "page": page,
            "query": query.urlencode(),
            "scope": scope_codes(request.user, AuditEvent.perm("view")),
        },
    )


@login_required
def audit_csv(request):
    _filterset, events = _audit_filtered(request)

    def rows():
        writer = csv.writer(_Echo())
        yield "\ufeff" + writer.writerow(CSV_COLUMNS)
        for e in events.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    _safe(v)
                    for v in (
                        timezone.localtime(e.at).isoformat(timespec="seconds"),
                        e.actor_label,
                        e.actor_roles,
                        e.kind,
                        e.object_type,
                        e.object_id,
                        e.area_code,
                        ",".join(e.changed_fields or []),
                        e.reason,
                        e.detail,
                    )
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


# --------------------------------------------------------------------------- export requests
@login_required
def export_list(request):
    """The user's own requests (and, for a data steward, a link to the queue)."""
    _require(request.user, ExportRequest, "view")
    mine = (
        ExportRequest.objects.for_user(request.user, "view")
        .filter(requester=request.user)
        .order_by("-created_at", "-id")
    )
    page = Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page"))
    return _page(
        request,
        "governance/export_list.html",
        {
            "page": page,
            "may_request": ExportRequest.user_may(request.user, "add"),
            "may_approve": ExportRequest.user_may(request.user, "approve"),
        },
    )


@login_required
def export_new(request):
    _require(request.user, ExportRequest, "add")
    form = ExportRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            req = services.request_export(
                request.user,
                dataset=data["dataset"],
                fields=form.chosen_fields(),
                area_code=data["area_code"].strip(),
                purpose=data["purpose"],
                recipient=data["recipient"],
                period_start=data["period_start"],
                period_end=data["period_end"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                target = f"fields_{data['dataset']}" if field == "fields" else field
                for error in errors:
                    form.add_error(target if target in form.fields else None, error)
        except ratelimit.RateLimited as exc:
            return _page(
                request, "governance/export_new.html", _new_context(request, form, exc), status=429
            )
        else:
            messages.success(
                request,
                _("Request %(number)s sent: a data steward of the area will decide.")
                % {"number": req.number},
            )
            return redirect("governance:export_detail", number=req.number)
    return _page(request, "governance/export_new.html", _new_context(request, form))


def _new_context(request, form, limited=None) -> dict:
    return {
        "form": form,
        "scope": scope_codes(request.user, services.ADD_PERM),
        "limited": str(limited) if limited else "",
    }


@login_required
def export_queue(request):
    """The data steward's queue: requests waiting in their areas, then the latest decided."""
    _require(request.user, ExportRequest, "approve")
    visible = ExportRequest.objects.for_user(request.user, "approve").select_related(
        "requester", "approver"
    )
    waiting = visible.filter(status=ExportStatus.REQUESTED).order_by("created_at", "id")
    decided = visible.exclude(status=ExportStatus.REQUESTED).order_by("-decided_at", "-id")[:20]
    return _page(
        request,
        "governance/export_queue.html",
        {"waiting": list(waiting), "decided": list(decided)},
    )


def _visible_request(user, number: str) -> ExportRequest:
    _require(user, ExportRequest, "view")
    return get_object_or_404(
        ExportRequest.objects.for_user(user, "view").select_related("requester", "approver"),
        number=number,
    )


@login_required
def export_detail(request, number: str):
    req = _visible_request(request.user, number)
    ds = datasets.get(req.dataset)
    may_decide = (
        req.status == ExportStatus.REQUESTED
        and code_in_scope(request.user, services.APPROVE_PERM, req.area_code)
        and req.requester_id != request.user.pk
    )
    columns = [ds.column_map[f] for f in req.fields if ds and f in ds.column_map]
    return _page(
        request,
        "governance/export_detail.html",
        {
            "req": req,
            "dataset": ds,
            "columns": columns,
            "may_decide": may_decide,
            "own": req.requester_id == request.user.pk,
            "may_produce": req.requester_id == request.user.pk
            and req.status == ExportStatus.APPROVED,
            "form": DecisionForm(),
        },
    )


@login_required
@require_POST
def export_decide(request, number: str):
    _require(request.user, ExportRequest, "approve")
    req = get_object_or_404(ExportRequest.objects.for_user(request.user, "approve"), number=number)
    decision = request.POST.get("decision")
    form = DecisionForm(request.POST)
    if decision not in ("approve", "refuse") or not form.is_valid():
        messages.error(request, _("Choose approve or refuse and give a reason."))
        return redirect("governance:export_detail", number=number)
    try:
        services.decide(
            req, request.user, approve=decision == "approve", reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except services.ExportRefused as exc:
        messages.error(request, str(exc))
    else:
        if decision == "approve":
            messages.success(request, _("Approved: the requester may now produce the export."))
        else:
            messages.success(request, _("Refused."))
    return redirect("governance:export_detail", number=number)


def export_response(result: services.ExportFile) -> FileResponse:
    response = FileResponse(
        result.file,
        as_attachment=True,
        filename=result.filename,
        content_type="text/csv; charset=utf-8",
    )
    response["X-Export-Rows"] = str(result.rows)
    response["X-Export-SHA256"] = result.sha256
    if result.plain_personal:
        response["X-Personal-Data"] = "revealed"
    return response


@login_required
@require_POST
def export_download(request, number: str):
    req = _visible_request(request.user, number)
    try:
        result = services.produce(req, request.user)
    except PermissionDenied:
        raise
    except personal.TwoFactorRequired as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("governance:export_detail", number=number)
    except services.ExportRefused as exc:
        messages.error(request, str(exc))
        return redirect("governance:export_detail", number=number)
    except ratelimit.RateLimited as exc:
        return HttpResponse(str(exc), status=429, content_type="text/plain; charset=utf-8")
    return export_response(result)


# --------------------------------------------------------------------------- open data
@login_required
def open_data(request, code: str):
    from shequ.dashboards import access

    area, _place = access.resolve(request.user, code, place=False)
    if area is None:
        raise Http404
    data = opendata.table(request.user, area)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="open-data-{area.code}-{timezone.localdate().isoformat()}.csv"'
    )
    response.write("\ufeff" + opendata.title(area, data) + "\r\n")
    writer = csv.writer(response)
    writer.writerow(opendata.HEADER)
    for row in data["rows"]:
        writer.writerow([_safe(v) for v in row])
    if data["hidden"]:
        response.write(opendata.footnote() + "\r\n")
    return response
