"""A one-page PDF summary of an area's dashboard (ReportLab, its built-in Chinese CID font)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from .data import table

FONT = "STSong-Light"
MARGIN = 40
ROWS_PER_INDICATOR = 4


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _cell(value) -> str:
    if value is None:
        return "<5"
    if isinstance(value, float):
        return f"{value:.1%}" if 0 <= value <= 1 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def summary_pdf(data: dict) -> bytes:
    """Every indicator's headline numbers on one A4 page; what does not fit is cut, and the
    page says so (the dashboard and its CSV downloads hold the rest)."""
    font = _font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{data['name']} {data['code']}")
    # STSong-Light has no "·": labels use it as a separator, the PDF a plain space.
    _width, height = A4
    y = height - MARGIN

    def line(text: str, size: float, indent: float = 0, gap: float = 1.35) -> bool:
        nonlocal y
        if y < MARGIN + size:
            return False
        pdf.setFont(font, size)
        pdf.drawString(MARGIN + indent, y, text.replace("·", " ")[:110])
        y -= size * gap
        return True

    line(f"{data['name']}  {data['code']}", 16)
    line(f"{_('Summary')}  {data['today']}", 9, gap=2)
    complete = True
    for section in data["sections"]:
        if not line(str(section["label"]), 12, gap=1.5):
            complete = False
            break
        for ind in section["indicators"]:
            header, rows = table(data, ind)
            if len(rows) == 1 and len(rows[0]) == 2:
                ok = line(f"{ind['label']}: {_cell(rows[0][1])}", 9, indent=8)
            else:
                ok = line(f"{ind['label']}: {' / '.join(str(h) for h in header)}", 9, indent=8)
                for row in rows[:ROWS_PER_INDICATOR]:
                    ok = ok and line("  ".join(_cell(v) for v in row), 8, indent=20, gap=1.25)
                if ok and len(rows) > ROWS_PER_INDICATOR:
                    ok = line(f"… {len(rows) - ROWS_PER_INDICATOR} " + _("more rows"), 7, 20)
            if not ok:
                complete = False
                break
        if not complete:
            break
    pdf.setFont(font, 7)
    note = _("Small numbers (<5) are suppressed for roles without access to individuals.")
    if not complete:
        note += " " + _("Cut to one page: the dashboard and its CSV downloads hold the rest.")
    pdf.drawString(MARGIN, MARGIN / 2, note)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
