"""The GeoReport v2 endpoints. Reads are public and show no personal data (``privacy``);
POST needs an api_key, is rate-limited per key and creates the case through ``create_case``."""

from __future__ import annotations

import datetime as dt
import math
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from shequ.areas.models import Place
from shequ.cases.models import Case, CaseEvent, Category, Channel, EventKind
from shequ.cases.services import create_case
from shequ.cases.workflow import DONE_STATES, OPEN_STATES, State

from . import privacy
from .models import ApiClient, Datatype, Open311Request, Service, ServiceAttribute
from .render import errors, respond

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-01-15T00:00:00+08:00"  # the last change of this API's shape
MAX_REQUESTS = 1000
DEFAULT_DAYS = 90
MAX_DESCRIPTION = 4000
PUBLIC_KINDS = (EventKind.CREATED, EventKind.MOVE, EventKind.MERGED)
# Cases raised by other modules (a screening follow-up ...) concern one household: never public.
PRIVATE_CHANNELS = (Channel.MODULE,)
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")


def jurisdiction() -> str:
    return getattr(settings, "OPEN311_JURISDICTION", "510100")


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _named(row_name: str, row_name_en: str) -> str:
    return row_name_en if _english() and row_name_en else row_name or ""


def w3c(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _wrong_jurisdiction(request, fmt):
    given = (
        request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or ""
    ).strip()
    if given and given != jurisdiction():
        return errors(fmt, 404, _("jurisdiction_id %(id)s is not served here.") % {"id": given})
    return None


def _only(request, fmt, *methods):
    if request.method not in methods:
        response = errors(fmt, 405, _("Method %(m)s is not allowed here.") % {"m": request.method})
        response["Allow"] = ", ".join(methods)
        return response
    return _wrong_jurisdiction(request, fmt)


# --- discovery and services -------------------------------------------------------------------


def discovery(request, fmt):
    if refused := _only(request, fmt, "GET"):
        return refused
    data = {
        "changeset": CHANGESET,
        "contact": getattr(settings, "OPEN311_CONTACT", "") or _("See the city's 12345 hotline."),
        "key_service": getattr(settings, "OPEN311_KEY_SERVICE", "")
        or _("Ask the city's 12345 hotline office for an api_key."),
        "endpoints": [
            {
                "specification": SPEC,
                "url": request.build_absolute_uri("/open311/v2"),
                "changeset": CHANGESET,
                "type": getattr(settings, "OPEN311_ENDPOINT_TYPE", "production"),
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return respond(fmt, "discovery", data)


def _published_categories():
    hidden = Service.objects.filter(published=False).values("category_id")
    return Category.objects.filter(active=True).exclude(pk__in=hidden)


def _service_row(category: Category, services: dict, with_attributes: set, names: dict) -> dict:
    service = services.get(category.pk)
    top = category
    while top.parent_id and top.parent_id in names:
        top = names[top.parent_id]
    description = ""
    if service is not None:
        description = _named(service.description, service.description_en)
    if not description:
        parent = names.get(category.parent_id)
        description = (
            f"{parent.display_name} › {category.display_name}" if parent else category.display_name
        )
    return {
        "service_code": category.code,
        "service_name": category.display_name,
        "description": description,
        "metadata": category.pk in with_attributes,
        "type": service.type if service is not None else "realtime",
        "keywords": ",".join(category.keywords.split()),
        "group": top.display_name,
    }


def services(request, fmt):
    if refused := _only(request, fmt, "GET"):
        return refused
    categories = list(_published_categories())
    names = {c.pk: c for c in Category.objects.all()}
    rows = {s.category_id: s for s in Service.objects.all()}
    with_attributes = set(ServiceAttribute.objects.values_list("category_id", flat=True))
    data = [_service_row(c, rows, with_attributes, names) for c in categories]
    return respond(fmt, "services", data)


def _attribute_row(attribute: ServiceAttribute) -> dict:
    row = {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": attribute.datatype_description or None,
        "order": attribute.order,
        "description": _named(attribute.description, attribute.description_en),
    }
    if attribute.is_list:
        row["values"] = [
            {"key": str(v.get("key")), "name": _named(v.get("name", ""), v.get("name_en", ""))}
            for v in attribute.values or []
            if isinstance(v, dict)
        ]
    return row


def service_definition(request, code, fmt):
    if refused := _only(request, fmt, "GET"):
        return refused
    category = _published_categories().filter(code=code).first()
    if category is None:
        return errors(fmt, 404, _("No service has the code %(code)s.") % {"code": code})
    attributes = ServiceAttribute.objects.filter(category=category).order_by("order", "code")
    data = {"service_code": category.code, "attributes": [_attribute_row(a) for a in attributes]}
    return respond(fmt, "service_definition", data)


# --- reading requests (public, no personal data) ---------------------------------------------


def _public_cases():
    last_public = CaseEvent.objects.filter(
        case=OuterRef("pk"), public=True, kind__in=PUBLIC_KINDS
    ).order_by("-at", "-id")
    return (
        Case.objects.exclude(channel__in=PRIVATE_CHANNELS)
        .annotate(
            last_note=Subquery(last_public.values("note")[:1]),
            last_at=Subquery(last_public.values("at")[:1]),
        )
        # Only what the feed shows; the reporter's name is read to mask it in free text.
        .values(
            "pk",
            "number",
            "state",
            "outcome",
            "text",
            "address",
            "lat",
            "lng",
            "created_at",
            "updated_at",
            "resolve_by",
            "reporter_name",
            "category__code",
            "category__name",
            "category__name_en",
            "department__name",
            "department__name_en",
            "place__code",
            "open311_request__description",
            "open311_request__media_url",
            "last_note",
            "last_at",
        )
    )


def _status_notes(row) -> str:
    parts = [str(State(row["state"]).label)]
    if row["outcome"]:
        from shequ.cases.workflow import Outcome

        parts.append(str(Outcome(row["outcome"]).label))
    note = privacy.scrub(row["last_note"] or "", (row["reporter_name"],))
    if note:
        parts.append(note)
    return " — ".join(parts)


def _request_row(row) -> dict:
    names = (row["reporter_name"],)
    description = row["open311_request__description"]
    if description is None:  # not an Open311 request: the case's own text
        description = row["text"]
    return {
        "service_request_id": row["number"],
        "status": "closed" if row["state"] in DONE_STATES else "open",
        "status_notes": _status_notes(row),
        "service_name": _named(row["category__name"], row["category__name_en"]),
        "service_code": row["category__code"] or "",
        "description": privacy.scrub(description, names),
        "agency_responsible": _named(row["department__name"], row["department__name_en"]),
        "service_notice": "",
        "requested_datetime": w3c(row["created_at"]),
        "updated_datetime": w3c(row["last_at"] or row["updated_at"]),
        "expected_datetime": w3c(row["resolve_by"]),
        "address": privacy.public_address(row["address"], names),
        "address_id": privacy.public_address_id(row["place__code"]),
        "zipcode": None,
        "lat": privacy.public_coordinate(row["lat"]),
        "long": privacy.public_coordinate(row["lng"]),
        "media_url": row["open311_request__media_url"] or None,
    }


def _parse_when(value: str, name: str, *, end: bool = False) -> dt.datetime:
    value = value.strip()
    parsed = None
    try:
        parsed = parse_datetime(value)
        if parsed is None and (day := parse_date(value)) is not None:
            parsed = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError(
            _("%(name)s must be a W3C date-time such as 2026-01-31T08:00:00+08:00.")
            % {"name": name}
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _filtered(request):
    """The public cases the query asks for, or a ValidationError naming the parameter."""
    qs = _public_cases()
    ids = [i.strip() for i in request.GET.get("service_request_id", "").split(",") if i.strip()]
    if ids:  # "This overrides all other arguments."
        return qs.filter(number__in=ids[:MAX_REQUESTS])
    codes = [c.strip() for c in request.GET.get("service_code", "").split(",") if c.strip()]
    if codes:
        qs = qs.filter(category__code__in=codes)
    statuses = {s.strip().lower() for s in request.GET.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise ValidationError(_("status must be open, closed or both (comma separated)."))
    if statuses == {"open"}:
        qs = qs.filter(state__in=OPEN_STATES)
    elif statuses == {"closed"}:
        qs = qs.filter(state__in=DONE_STATES)
    start = request.GET.get("start_date", "")
    end = request.GET.get("end_date", "")
    span = dt.timedelta(days=DEFAULT_DAYS)
    end_at = _parse_when(end, "end_date", end=True) if end else None
    start_at = _parse_when(start, "start_date") if start else None
    if start_at and end_at:
        if end_at < start_at:
            raise ValidationError(_("end_date is before start_date."))
        if end_at - start_at > span + dt.timedelta(days=1):
            raise ValidationError(_("start_date and end_date may not span more than 90 days."))
    elif start_at:
        end_at = start_at + span
    elif end_at:
        start_at = end_at - span
    else:
        end_at = timezone.now()
        start_at = end_at - span
    return qs.filter(created_at__gte=start_at, created_at__lte=end_at)


def _read_requests(request, fmt):
    try:
        qs = _filtered(request)
    except ValidationError as exc:
        return errors(fmt, 400, *exc.messages)
    rows = [_request_row(r) for r in qs.order_by("-created_at", "-pk")[:MAX_REQUESTS]]
    return respond(fmt, "service_requests", rows)


@csrf_exempt
def service_requests(request, fmt):
    if refused := _only(request, fmt, "GET", "POST"):
        return refused
    if request.method == "POST":
        return _create_request(request, fmt)
    return _read_requests(request, fmt)


def request_detail(request, number, fmt):
    if refused := _only(request, fmt, "GET"):
        return refused
    row = _public_cases().filter(number=number).first()
    if row is None:
        return errors(fmt, 404, _("No request has the id %(id)s.") % {"id": number})
    return respond(fmt, "service_requests", [_request_row(row)])


def token(request, token, fmt):
    if refused := _only(request, fmt, "GET"):
        return refused
    found = (
        Open311Request.objects.filter(token=token)
        .exclude(case__channel__in=PRIVATE_CHANNELS)
        .values_list("case__number", flat=True)
        .first()
    )
    if found is None:
        return errors(fmt, 404, _("No request has this token."))
    return respond(fmt, "service_requests", [{"service_request_id": found, "token": token}])


def not_found(request, path=""):
    fmt = "xml" if path.endswith(".xml") else "json"
    return errors(fmt, 404, _("No such Open311 endpoint: %(path)s") % {"path": path[:100]})


# --- creating requests ------------------------------------------------------------------------


def _rate_limited(client: ApiClient) -> bool:
    window = int(time.time() // 60)
    key = f"open311:rl:{client.pk}:{window}"
    cache.add(key, 0, 120)
    try:
        used = cache.incr(key)
    except ValueError:
        cache.set(key, 1, 120)
        used = 1
    return used > client.max_per_minute


def _float(value: str, name: str, low: float, high: float, problems: list) -> float | None:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        problems.append(
            _("%(name)s must be a number from %(low)s to %(high)s (WGS84).")
            % {"name": name, "low": low, "high": high}
        )
        return None
    return number


def _attribute_answers(request, attributes: list[ServiceAttribute], problems: list) -> dict:
    given: dict[str, list[str]] = {}
    for key in request.POST:
        match = _ATTRIBUTE.match(key)
        if match:
            values = [v.strip() for v in request.POST.getlist(key) if v.strip()]
            given.setdefault(match.group(1), []).extend(values)
    by_code = {a.code: a for a in attributes if a.variable}
    for code in sorted(set(given) - set(by_code)):
        problems.append(
            _("attribute[%(code)s] is not an attribute of this service.") % {"code": code}
        )
    answers: dict = {}
    for attribute in sorted(by_code.values(), key=lambda a: (a.order, a.code)):
        values = given.get(attribute.code, [])
        label = f"attribute[{attribute.code}]"
        if not values:
            if attribute.required:
                problems.append(_("%(label)s is required.") % {"label": label})
            continue
        kind = attribute.datatype
        if kind != Datatype.MULTIVALUELIST and len(values) > 1:
            problems.append(_("%(label)s takes one value.") % {"label": label})
            continue
        value = values[0]
        if kind == Datatype.NUMBER:
            try:
                number = float(value)
                if not math.isfinite(number):
                    raise ValueError(value)
            except ValueError:
                problems.append(_("%(label)s must be a number.") % {"label": label})
                continue
            answers[attribute.code] = value
        elif kind == Datatype.DATETIME:
            try:
                answers[attribute.code] = w3c(_parse_when(value, label))
            except ValidationError as exc:
                problems.extend(exc.messages)
        elif kind in (Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST):
            keys = attribute.value_keys()
            wrong = [v for v in values if v not in keys]
            if wrong:
                problems.append(
                    _("%(label)s: %(wrong)s is not one of %(keys)s.")
                    % {"label": label, "wrong": ", ".join(wrong), "keys": ", ".join(keys)}
                )
                continue
            answers[attribute.code] = values if kind == Datatype.MULTIVALUELIST else value
        else:
            limit = 200 if kind == Datatype.STRING else 2000
            if len(value) > limit or (kind == Datatype.STRING and "\n" in value):
                problems.append(
                    _("%(label)s must be one line of at most %(n)s characters.")
                    % {"label": label, "n": limit}
                    if kind == Datatype.STRING
                    else _("%(label)s is longer than %(n)s characters.")
                    % {"label": label, "n": limit}
                )
                continue
            answers[attribute.code] = value
    return answers


def _answers_text(attributes: list[ServiceAttribute], answers: dict) -> str:
    """The answers as lines for the handlers, who read the case's text."""
    lines = []
    for attribute in attributes:
        if attribute.code not in answers:
            continue
        value = answers[attribute.code]
        names = {str(v.get("key")): v.get("name", "") for v in attribute.values or []}
        shown = [names.get(v, v) for v in (value if isinstance(value, list) else [value])]
        lines.append(f"{attribute.description}: {', '.join(shown)}")
    return "\n".join(lines)


FIELD_NAMES = {
    "lat": "lat",
    "lng": "long",
    "address": "address_string",
    "reporter_phone": "phone",
    "reporter_email": "email",
    "reporter_name": "first_name",
    "text": "description",
    "category": "service_code",
}


def _create_request(request, fmt):
    post = request.POST
    client = ApiClient.by_key(post.get("api_key", "").strip())
    if client is None:
        return errors(fmt, 403, _("api_key is missing or not valid."))
    if _rate_limited(client):
        response = errors(
            fmt, 429, _("Too many requests with this api_key; try again in a minute.")
        )
        response["Retry-After"] = "60"
        return response

    code = post.get("service_code", "").strip()
    if not code:
        return errors(fmt, 400, _("service_code is required."))
    category = _published_categories().filter(code=code).first()
    if category is None:
        return errors(fmt, 400, _("service_code %(code)s is not a service here.") % {"code": code})

    problems: list[str] = []
    lat = lng = place = None
    has_lat, has_long = bool(post.get("lat", "").strip()), bool(post.get("long", "").strip())
    if has_lat != has_long:
        problems.append(_("lat and long go together: give both or neither."))
    elif has_lat:
        lat = _float(post["lat"], "lat", -90, 90, problems)
        lng = _float(post["long"], "long", -180, 180, problems)
    address = post.get("address_string", "").strip()
    address_id = post.get("address_id", "").strip()
    if address_id:
        place = Place.objects.filter(code=address_id).first()
        if place is None:
            problems.append(_("address_id %(id)s is not a known address.") % {"id": address_id})
    if not (has_lat or address or address_id):
        problems.append(_("A location is required: lat and long, address_string or address_id."))
    if len(address) > 200:
        problems.append(_("address_string is longer than 200 characters."))

    description = post.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        problems.append(_("description is longer than 4000 characters."))
    email = post.get("email", "").strip()
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            problems.append(_("email is not an e-mail address."))
    media_url = post.get("media_url", "").strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
            if len(media_url) > 500:
                raise ValidationError("too long")
        except ValidationError:
            problems.append(_("media_url must be an http(s) URL of at most 500 characters."))
    first, last = post.get("first_name", "").strip(), post.get("last_name", "").strip()
    cjk = any("\u4e00" <= ch <= "\u9fff" for ch in first + last)
    name = (last + first) if cjk else " ".join(p for p in (first, last) if p)
    if len(name) > 60:
        problems.append(_("first_name and last_name are longer than 60 characters together."))
    ids = {k: post.get(k, "").strip() for k in ("device_id", "account_id")}
    for key, value in ids.items():
        if len(value) > 100:
            problems.append(_("%(name)s is longer than 100 characters.") % {"name": key})

    attributes = list(ServiceAttribute.objects.filter(category=category).order_by("order", "code"))
    answers = _attribute_answers(request, attributes, problems)
    if problems:
        return errors(fmt, 400, *problems)

    text = description or category.name
    trailer = _answers_text(attributes, answers)
    if media_url:
        trailer = "\n".join(filter(None, [trailer, f"media_url: {media_url}"]))
    if trailer:
        text = f"{text}\n\n{trailer}"
    try:
        with transaction.atomic():
            case = create_case(
                text=text,
                title=(description or category.name)[:60],
                channel=Channel.OPEN311,
                category=category,
                lat=lat,
                lng=lng,
                address=address,
                place=place,
                reporter_name=name,
                reporter_phone=post.get("phone", "").strip(),
                reporter_email=email,
            )
            o311 = Open311Request.objects.create(
                case=case,
                client=client,
                description=description,
                media_url=media_url,
                attributes=answers,
                **ids,
            )
    except ValidationError as exc:
        messages = []
        if hasattr(exc, "error_dict"):
            for field, errs in exc.message_dict.items():
                messages.extend(f"{FIELD_NAMES.get(field, field)}: {e}" for e in errs)
        else:
            messages = exc.messages
        return errors(fmt, 400, *messages)

    notice = _("Received as %(number)s; to be resolved by %(when)s.") % {
        "number": case.number,
        "when": timezone.localtime(case.resolve_by).strftime("%Y-%m-%d %H:%M")
        if case.resolve_by
        else "—",
    }
    data = [
        {
            "service_request_id": case.number,
            "token": o311.token,
            "service_notice": notice,
            "account_id": ids["account_id"] or None,
        }
    ]
    return respond(fmt, "service_requests", data, status=201)
