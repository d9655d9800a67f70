"""Dashboard pages: one design at every level (城市大脑 · 街道中脑 · 社区小脑 · 小区微脑), the
big screen (大屏), a printable one-page summary, and CSV downloads of every indicator."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from . import access
from .data import dashboard, indicator, table

SCREEN_REFRESH_SECONDS = 60
PRINT_CHILDREN = 24


def _strings() -> dict:
    return {
        "suppressed": _("fewer than 5"),
        "none": _("No data"),
        "updated": _("Updated"),
        "offline": _("Could not refresh; showing the last numbers."),
        "open": _("Open the dashboard of %(name)s"),
        "facility": _("Facility"),
        "hot_spot": _("Hot spot:"),
        "overdue": _("overdue"),
    }


def _api_url(data: dict) -> str:
    return reverse("dashboard-detail", args=[data["code"]])


def _render(request, area, place, template: str, **extra):
    data = dashboard(request.user, area=area, place=place)
    base = (
        reverse("dashboards:place", args=[data["code"]])
        if place is not None
        else reverse("dashboards:area", args=[data["code"]])
    )
    context = {
        "data": data,
        "crumbs": data["crumbs"],
        "base_url": base,
        "page_config": {
            "api": _api_url(data),
            "csv": base + "csv/",
            "refresh": SCREEN_REFRESH_SECONDS,
            "big": bool(extra.get("big")),
        },
        "strings": _strings(),
        **extra,
    }
    return render(request, template, context)


@login_required
def index(request):
    code = access.home_code(request.user)
    access.resolve(request.user, code or "-")  # 403 without the permission
    return redirect("dashboards:area", code=code)


@login_required
def area_page(request, code):
    area, place = access.resolve(request.user, code, place=False)
    if request.GET.get("screen") == "big":
        return _render(request, area, place, "dashboards/screen.html", big=True)
    return _render(request, area, place, "dashboards/dashboard.html")


@login_required
def place_page(request, code):
    area, place = access.resolve(request.user, code, place=True)
    if request.GET.get("screen") == "big":
        return _render(request, area, place, "dashboards/screen.html", big=True)
    return _render(request, area, place, "dashboards/dashboard.html")


@login_required
def screen(request, code):
    area, place = access.resolve(request.user, code)
    return _render(request, area, place, "dashboards/screen.html", big=True)


@login_required
def print_page(request, code):
    area, place = access.resolve(request.user, code)
    data = dashboard(request.user, area=area, place=place)
    pyramid_rows = []
    for section in data["sections"]:
        for ind in section["indicators"]:
            if ind["chart"] == "pyramid":
                rows = list(zip(ind["bands"], ind["male"], ind["female"], strict=True))
                half = (len(rows) + 1) // 2
                for left, right in zip(rows[:half], [*rows[half:], ("", "", "")], strict=False):
                    pyramid_rows.append([*left, *right])
    metrics = data["map"]["metrics"]
    children_rows = [
        {"name": c["name"], "values": [m["values"].get(c["code"]) for m in metrics]}
        for c in data["children"][:PRINT_CHILDREN]
    ]
    base = (
        reverse("dashboards:place", args=[data["code"]])
        if place is not None
        else reverse("dashboards:area", args=[data["code"]])
    )
    return render(
        request,
        "dashboards/print.html",
        {
            "data": data,
            "base_url": base,
            "pyramid_rows": pyramid_rows,
            "children_rows": children_rows,
            "children_more": max(0, len(data["children"]) - PRINT_CHILDREN),
        },
    )


@login_required
def summary_pdf(request, code):
    """The one-page summary as a PDF file, for the same user and scope as the page."""
    from .pdf import summary_pdf as render_pdf

    area, place = access.resolve(request.user, code)
    data = dashboard(request.user, area=area, place=place)
    response = HttpResponse(render_pdf(data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{data["code"]}-{data["today"]}.pdf"'
    return response


@login_required
def csv_download(request, code, key):
    area, place = access.resolve(request.user, code)
    data = dashboard(request.user, area=area, place=place)
    ind = indicator(data, key)
    if ind is None:
        raise Http404
    header, rows = table(data, ind)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{data['code']}-{key}-{data['today']}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # Excel reads UTF-8 with a BOM
    writer = csv.writer(response)
    writer.writerow([f"# {ind['label']} · {data['name']} ({data['code']}) · {data['today']}"])
    writer.writerow(header)
    for row in rows:
        writer.writerow(["<5" if v is None and ind.get("personal") else v for v in row])
    if data["suppressed"] and ind.get("personal"):
        writer.writerow([_("# <5: fewer than 5 people, not shown.")])
    return response
