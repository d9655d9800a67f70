from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def shown(value):
    """A dashboard number for display: thousands separated; None (suppressed or none) as a
    dash or "<5"."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value


@register.filter
def numbers(section):
    return [i for i in section["indicators"] if i["chart"] in ("number", "rate")]


@register.filter
def charts(section):
    return [i for i in section["indicators"] if i["chart"] not in ("number", "rate", "time", "map")]


@register.filter
def stamp(section):
    for i in section["indicators"]:
        if i["chart"] == "time":
            return i
    return None


@register.simple_tag
def small_note():
    return _("fewer than 5")


@register.filter
def isotime(value):
    """'2026-11-21T14:46:18.5+00:00' -> '2026-11-21 22:46' in the current time zone."""
    import datetime as dt

    from django.utils import timezone

    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return value
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d %H:%M")
