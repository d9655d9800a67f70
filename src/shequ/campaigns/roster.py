"""A team's printable roster (PDF) for work without phones: its dwellings in walking order,
the residents known there (names only; no ID numbers or phones on paper) and boxes to tick.

ReportLab's built-in ``STSong-Light`` CID font renders Chinese on any machine without a font
file (the PDF viewer supplies the glyphs).
"""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from shequ.people.models import Person

from .models import TaskStatus, VisitTask

FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def render(team, round_, user) -> bytes:
    font = _font()
    text = ParagraphStyle("text", fontName=font, fontSize=9, leading=12)
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=20)
    tasks = list(
        VisitTask.objects.filter(round=round_, team=team)
        .select_related("dwelling__parent__parent__parent")
        .order_by("route_order", "id")
    )
    names: dict[int, list[str]] = {}
    persons = Person.objects.for_user(user, "view").filter(
        dwelling_id__in=[t.dwelling_id for t in tasks]
    )
    for dwelling_id, name in persons.order_by("dwelling_id", "id").values_list(
        "dwelling_id", "name"
    ):
        names.setdefault(dwelling_id, []).append(name)
    members = "、".join(m.display_name for m in team.members.select_related("user"))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"{team.campaign.name} · {team.name}",
    )
    story = [
        Paragraph(f"{team.campaign.name} · {team.name}", title),
        Paragraph(
            _("Round %(n)s (%(start)s – %(end)s) · members: %(members)s · %(count)s dwellings")
            % {
                "n": round_.number,
                "start": round_.start,
                "end": round_.end,
                "members": members,
                "count": len(tasks),
            },
            text,
        ),
        Spacer(1, 4 * mm),
    ]
    header = [
        _("#"),
        _("Dwelling"),
        _("Residents"),
        _("Visited"),
        _("Not home"),
        _("Refused"),
        _("Empty"),
        _("°C"),
        _("Note"),
    ]
    rows = [[Paragraph(h, text) for h in header]]
    for i, task in enumerate(tasks, start=1):
        d = task.dwelling
        unit = d.parent
        building = unit.parent if unit else None
        compound = building.parent if building else None
        where = " ".join(p.name for p in (compound, building, unit, d) if p is not None)
        done = "√ " + str(task.get_status_display()) if task.status != TaskStatus.PENDING else ""
        rows.append(
            [
                str(i),
                Paragraph(where, text),
                Paragraph("、".join(names.get(d.pk, [])) or "—", text),
                Paragraph(done, text) if done else "□",
                "□",
                "□",
                "□",
                "",
                "",
            ]
        )
    table = Table(
        rows,
        colWidths=[8 * mm, 52 * mm, 45 * mm, 14 * mm, 14 * mm, 14 * mm, 12 * mm, 10 * mm, 17 * mm],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (3, 1), (6, -1), "CENTER"),
            ]
        )
    )
    story.append(table)
    doc.build(story)
    return buf.getvalue()
