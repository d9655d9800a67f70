"""Every write to a case goes through here: one function per workflow move.

Each move locks the case, asks the workflow whether the move is legal from the current state
(``IllegalMove`` names both), checks the actor's permission for the move's action at the case's
area (``PermissionDenied``), writes the change and exactly one ``CaseEvent``, and schedules the
notifications for after the commit. ``create_case`` is the one intake for every channel,
including other modules (channel ``module`` with a ``source_ref``).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.areas.models import Area, Place
from shequ.core import phone as phones
from shequ.core import rows
from shequ.core.rows import insert as insert_rows

from . import reference, routing, workflow
from .models import (
    Attachment,
    Case,
    CaseCounter,
    CaseEvent,
    CaseType,
    Category,
    Channel,
    Department,
    EventKind,
    ExtensionRequest,
    Notification,
    Satisfaction,
)
from .workcalendar import Calendar, respond_deadline
from .workflow import MOVES, IllegalMove, Outcome, State

log = logging.getLogger(__name__)

MAX_UPLOAD = 5 * 1024 * 1024
MAX_PHOTOS = 6
IMAGE_MAGIC = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
DEFAULT_RESPOND_HOURS = 24
DEFAULT_RESOLVE_DAYS = {"immediate": 1, "promised": 5, "coordinated": 15}
AUTO_CATEGORY_CONFIDENCE = 0.5
STAFF_CHANNELS = {Channel.HOTLINE, Channel.PATROL, Channel.API}

__all__ = ["IllegalMove", "create_case"]


# --- intake ---------------------------------------------------------------------------------


def next_number(day: dt.date) -> str:
    """SQ + yyyymmdd + a 6-digit sequence of the day, from the day's counter row (its update
    locks the row until the case's transaction ends: numbers are unique and gap-free). Take it
    in the transaction that writes the case, after every read."""
    table = CaseCounter._meta.db_table
    for _attempt in range(3):
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET last = last + 1 WHERE day = %s RETURNING last", [day]
            )
            row = cursor.fetchone()
        if row:
            return f"SQ{day:%Y%m%d}{row[0]:06d}"
        try:
            with transaction.atomic():
                CaseCounter.objects.create(day=day, last=1)
            return f"SQ{day:%Y%m%d}000001"
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a case number")


def suggest_category(text: str, title: str = "") -> tuple[Category | None, float | None]:
    """The category to suggest for a request's text (and the title typed with it, if any).

    The classifier (``shequ.cases.classify.suggest``, given the title too: a typed title says
    most) names a category code, usually a top-level sector (``urban_rural``); the categories'
    own keywords may name a finer one. When the keywords' category lies under the
    classifier's (or the classifier names none that exists here), the finer one is suggested;
    when they disagree, the more confident of the two (the classifier on a tie)."""
    code, confidence = None, None
    try:
        from .classify import suggest
    except ImportError:
        suggest = None
    if suggest is not None:
        try:
            code, confidence = suggest(text, title)
        except Exception:  # the classifier must never stop an intake
            log.exception("classifier failed")
            code = None
    ref = reference.reference.get()
    predicted = ref.active(code) if code else None
    finer, finer_confidence = keyword_category(f"{title} {text}" if title else text)
    if predicted is None:
        return finer, finer_confidence
    if finer is None or finer.pk == predicted.pk or _under(predicted, finer):
        return predicted, confidence
    if _under(finer, predicted):
        return finer, max(confidence or 0.0, finer_confidence or 0.0)
    if (finer_confidence or 0.0) > (confidence or 0.0):
        return finer, finer_confidence
    return predicted, confidence


def _under(category: Category, ancestor: Category) -> bool:
    node = category.parent
    while node is not None:
        if node.pk == ancestor.pk:
            return True
        node = node.parent
    return False


def keyword_category(text: str) -> tuple[Category | None, float | None]:
    """The active category whose keywords the text holds most (the deeper one on a tie)."""
    best, hits = None, 0
    for category in reference.reference.get().with_keywords:
        n = sum(1 for word in category.keywords.split() if word and word in text)
        if n > hits or (n == hits and n and best and len(category.code) > len(best.code)):
            best, hits = category, n
    if best is None:
        return None, None
    return best, round(min(0.9, 0.3 + 0.2 * hits), 2)


def deadlines(category, case_type: str, start: dt.datetime, calendar: Calendar | None = None):
    hours = category.respond_hours if category else DEFAULT_RESPOND_HOURS
    days = category.resolve_days(case_type) if category else DEFAULT_RESOLVE_DAYS[case_type]
    calendar = calendar or Calendar.current()
    return respond_deadline(start, hours), calendar.deadline(start, days)


def check_image(upload) -> str:
    """The content type of an accepted photo, or a ValidationError naming the file."""
    name = getattr(upload, "name", "photo")
    if upload.size > MAX_UPLOAD:
        raise ValidationError(
            {"photos": _("%(name)s is larger than 5 MB.") % {"name": name}}, code="too_big"
        )
    head = upload.read(16)
    upload.seek(0)
    for magic, ctype in IMAGE_MAGIC.items():
        if head.startswith(magic):
            return ctype
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    raise ValidationError(
        {"photos": _("%(name)s is not a JPEG, PNG, GIF or WebP picture.") % {"name": name}},
        code="not_image",
    )


def _where(lat, lng, address, area_code, place):
    """(area_code, place) from a point, a place, an address, or a given area code."""
    if place is not None:
        return place.area_code, place
    if lat is not None and lng is not None:
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise ValidationError({"lat": _("The point is not a WGS84 latitude/longitude.")})
        code = routing.locate(lat, lng)
        if code is None:
            raise ValidationError({"lat": _("The point lies outside every area we serve.")})
        match = routing.parse_address(address, within=code) if address else None
        return code, match.place if match else None
    if address:
        match = routing.parse_address(address)
        if match is not None:
            return match.area_code, match.place
    if area_code:
        if not Area.objects.filter(code=area_code).exists():
            raise ValidationError({"area_code": _("No area has this code.")})
        return area_code, None
    raise ValidationError(
        {"address": _("Set the place on the map, or give an address we can find.")}
    )


def create_case(
    *,
    text: str,
    channel: str,
    title: str = "",
    category: Category | str | None = None,
    case_type: str = CaseType.PROMISED,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    area_code: str = "",
    place: Place | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    reporter_email: str = "",
    source_ref: str = "",
    photos=(),
    acting_user=None,
    now: dt.datetime | None = None,
    auto_dispatch: bool = True,
) -> Case:
    """Take in a request from any channel and route it. Returns the saved case.

    Everything that only reads (validation, place, permission, classification, deadlines,
    routing: reference data cached in the process) happens before the transaction; the
    transaction holds the writes only: the day's number, the case, its events, photos and
    notifications."""
    text = (text or "").strip()
    title = (title or "").strip()
    if len(text) < 4:
        raise ValidationError({"text": _("Describe the problem in a few words at least.")})
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    if channel == Channel.MODULE and not source_ref:
        raise ValidationError({"source_ref": _("A module's case names its source.")})
    if case_type not in CaseType.values:
        raise ValidationError({"case_type": _("Unknown case type.")})
    if reporter_phone:
        try:
            reporter_phone = phones.normalise(reporter_phone)
        except phones.PhoneError as exc:
            raise ValidationError({"reporter_phone": str(exc)}) from exc
    if isinstance(category, str) and category:
        found = reference.reference.get().active(category)
        if found is None:
            raise ValidationError({"category": _("No category has this code.")})
        category = found
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": _("At most 6 photos.")})
    photo_types = [check_image(p) for p in photos]

    code, place = _where(lat, lng, address, area_code, place)
    if acting_user is not None:
        if not Case.user_may(acting_user, "add"):
            raise PermissionDenied(_("Your role may not take in cases."))
        from shequ.core.scoping import code_in_scope

        if not code_in_scope(acting_user, Case.perm("add"), code):
            raise PermissionDenied(_("This place is outside your areas."))
    elif channel in STAFF_CHANNELS:
        raise PermissionDenied(_("Staff channels need a signed-in user."))

    suggested, confidence = suggest_category(text, title)
    if category is None and suggested is not None and (confidence or 0) >= AUTO_CATEGORY_CONFIDENCE:
        category = suggested
    now = now or timezone.now()
    respond_by, resolve_by = deadlines(category, case_type, now)
    # Routing: when the matrix dispatches automatically, the case is accepted, registered and
    # dispatched by "system" at once: three workflow steps, three events, one row written.
    steps: list[str] = []
    department = None
    if auto_dispatch and category is not None:
        department, auto = routing.department_for(category, code)
        if department is not None and auto:
            steps = ["accept", "register", "dispatch"]
    state = State.NEW
    for name in steps:
        state = workflow.check(state, name).target
    fields = dict(
        title=(title or text)[:60].strip(),
        text=text,
        category=category,
        suggested_category=suggested,
        confidence=confidence,
        channel=channel,
        source_ref=source_ref,
        case_type=case_type,
        state=state,
        department=department if steps else None,
        area_code=code,
        lat=lat,
        lng=lng,
        address=address[:200],
        place=place,
        reporter_name=reporter_name[:60],
        reporter_phone=reporter_phone,
        reporter_email=reporter_email,
        created_at=now,
        respond_by=respond_by,
        resolve_by=resolve_by,
    )
    with transaction.atomic():
        return _write_case(fields, steps, acting_user, list(zip(photos, photo_types, strict=True)))


def _write_case(fields: dict, steps: list[str], acting_user, photos: list) -> Case:
    """The writes of an intake, in its transaction; reads and routing happened before it.

    The case takes its number first: the day's counter row stays locked (gap-free numbers)
    until the commit, so every other intake of the day waits for these few INSERTs, not for
    any read. The case row goes in once, with its number (``core.rows.create``: its audit and
    rollup hooks run as on ``save``); a provisional number replaced at the end cost a second
    write of the row and of each of its sixteen indexes."""
    now, code, channel = fields["created_at"], fields["area_code"], fields["channel"]
    department = fields["department"]
    number = next_number(timezone.localtime(now).date())
    case = rows.create(Case(number=number, **fields))
    created = CaseEvent(
        case=case,
        area_code=code,
        kind=EventKind.CREATED,
        to_state=State.NEW,
        actor=acting_user,
        actor_label="" if acting_user else channel,
        at=now,
    )
    events, previous = [created], State.NEW
    for name in steps:
        target = MOVES[name].target
        events.append(
            CaseEvent(
                case=case,
                area_code=code,
                kind=EventKind.MOVE,
                move=name,
                from_state=previous,
                to_state=target,
                actor_label="system",
                at=now,
                department=department if name == "dispatch" else None,
            )
        )
        previous = target
    if photos:
        created.save()  # the photos' attachments refer to it
        _insert_events(events[1:])
    else:
        _insert_events(events)
    for upload, ctype in photos:
        Attachment.objects.create(
            case=case,
            event=created,
            area_code=code,
            file=upload,
            content_type=ctype,
            size=upload.size,
        )
    case.intake_events = events  # the whole timeline so far (Case.intake_events)
    _notify_intake(case, dispatched=bool(steps))
    return case


EVENT_COLUMNS = ("case", "area_code", "kind", "move", "from_state", "to_state", "actor",
                 "actor_label", "at", "note", "department", "public")  # fmt: skip


def _insert_events(events: list[CaseEvent]) -> None:
    """The intake's events in one written-out INSERT (``core.rows.insert``): the ORM's
    ``bulk_create`` took longer to build it than the database to run it. As with
    ``bulk_create``, no signals; the events' ids are not read back (nothing of the intake
    needs them)."""
    meta = CaseEvent._meta
    attnames = [meta.get_field(name).attname for name in EVENT_COLUMNS]
    insert_rows(
        CaseEvent,
        EVENT_COLUMNS,
        [tuple(getattr(event, a) for a in attnames) for event in events],
    )


# --- moves ----------------------------------------------------------------------------------


def _event(
    case,
    kind,
    actor,
    *,
    move="",
    from_state="",
    to_state="",
    note="",
    department=None,
    at=None,
    public=True,
    label="",
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        area_code=case.area_code,
        kind=kind,
        move=move,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        actor_label=label or ("" if actor else "system"),
        at=at or timezone.now(),
        note=note,
        department=department,
        public=public,
    )


def may(user, case: Case, move_name: str) -> bool:
    """Whether ``user`` may make the move on this case (state aside)."""
    move = MOVES[move_name]
    return Case.user_may(user, move.action) and case.in_scope_of(user, move.action)


def allowed_moves(user, case: Case) -> list[str]:
    actions = {}
    result = []
    for name in workflow.moves_from(case.state):
        action = MOVES[name].action
        if action not in actions:
            actions[action] = Case.user_may(user, action) and case.in_scope_of(user, action)
        if actions[action]:
            result.append(name)
    return result


def _apply(
    case: Case,
    move_name: str,
    user,
    *,
    note: str = "",
    now=None,
    department=None,
    target=None,
    label="",
    public=True,
    **changes,
) -> CaseEvent:
    move = workflow.check(case.state, move_name)
    if user is not None and not may(user, case, move_name):
        raise PermissionDenied(_("Your role may not “%(move)s” this case.") % {"move": move.label})
    note = (note or "").strip()
    if move.needs_note and not note:
        raise ValidationError({"note": _("“%(move)s” needs a reason.") % {"move": move.label}})
    from_state = case.state
    case.state = target or move.target
    fields = {"state", "updated_at", *changes}
    if department is not None:
        case.department = department
        fields.add("department")
    for field, value in changes.items():
        setattr(case, field, value)
    case.save(update_fields=sorted(fields))
    event = _event(
        case,
        EventKind.MOVE,
        user,
        move=move_name,
        from_state=from_state,
        to_state=case.state,
        note=note,
        department=department or case.department,
        at=now,
        label=label,
        public=public,
    )
    _notify_reporter(
        case, move_name, _("Your request %(number)s: %(state)s."), state=case.get_state_display()
    )
    return event


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


@transaction.atomic
def accept_case(case, *, acting_user, note="", case_type=None, category=None):
    case = _locked(case)
    changes = {}
    if case_type:
        changes["case_type"] = case_type
    if category is not None:
        changes["category"] = category
    _apply(case, "accept", acting_user, note=note, **changes)
    return case


@transaction.atomic
def register_case(case, *, acting_user, note="", category=None):
    case = _locked(case)
    _apply(
        case,
        "register",
        acting_user,
        note=note,
        **({"category": category} if category is not None else {}),
    )
    return case


@transaction.atomic
def dispatch_case(case, department: Department | None = None, *, acting_user, note=""):
    """派遣 / 改派: to the given department (manual override) or the matrix's."""
    case = _locked(case)
    if department is None:
        department, _auto = routing.department_for(case.category, case.area_code)
    if department is None:
        raise ValidationError(
            {"department": _("No routing rule covers this category here: choose a department.")}
        )
    _apply(case, "dispatch", acting_user, note=note, department=department)
    _notify_department(case)
    return case


@transaction.atomic
def start_case(case, *, acting_user, note=""):
    case = _locked(case)
    now = timezone.now()
    changes = {} if case.responded_at else {"responded_at": now}
    _apply(case, "start", acting_user, note=note, now=now, **changes)
    return case


@transaction.atomic
def return_case(case, *, acting_user, note):
    case = _locked(case)
    _apply(case, "return", acting_user, note=note)
    return case


@transaction.atomic
def report_case(case, *, acting_user, note="", photos=()):
    case = _locked(case)
    types = [check_image(p) for p in photos]
    event = _apply(case, "report", acting_user, note=note)
    for upload, ctype in zip(photos, types, strict=True):
        Attachment.objects.create(
            case=case,
            event=event,
            area_code=case.area_code,
            file=upload,
            content_type=ctype,
            size=upload.size,
        )
    return case


@transaction.atomic
def verify_case(case, *, acting_user, note=""):
    case = _locked(case)
    _apply(case, "verify", acting_user, note=note)
    return case


@transaction.atomic
def rework_case(case, *, acting_user, note):
    case = _locked(case)
    _apply(case, "rework", acting_user, note=note)
    return case


@transaction.atomic
def close_case(case, *, acting_user, outcome: str, note=""):
    case = _locked(case)
    workflow.check(case.state, "close")
    allowed = workflow.CLOSE_OUTCOMES.get(case.state, set())
    if outcome not in allowed:
        raise ValidationError(
            {
                "outcome": _("From “%(state)s” a case may be closed as: %(allowed)s.")
                % {
                    "state": case.get_state_display(),
                    "allowed": ", ".join(str(Outcome(o).label) for o in sorted(allowed)),
                }
            }
        )
    now = timezone.now()
    _apply(case, "close", acting_user, note=note, now=now, outcome=outcome, closed_at=now)
    _notify_merged(case)
    return case


@transaction.atomic
def withdraw_case(case, *, acting_user=None, note="", by_reporter=False):
    """The reporter (through the tracking link) or staff withdraws an open request."""
    case = _locked(case)
    if acting_user is None and not by_reporter:
        raise PermissionDenied(_("Only the reporter or staff may withdraw a request."))
    now = timezone.now()
    _apply(
        case,
        "withdraw",
        acting_user,
        note=note,
        now=now,
        outcome=Outcome.WITHDRAWN,
        closed_at=now,
        label="reporter" if by_reporter else "",
    )
    _notify_merged(case)
    return case


@transaction.atomic
def evaluate_case(case, *, satisfaction: str, comment="", acting_user=None, by_reporter=False):
    """满意 / 基本满意 close the loop; 不满意 puts the case under review."""
    case = _locked(case)
    if acting_user is None and not by_reporter:
        raise PermissionDenied(_("Only the reporter or staff may rate a case."))
    if satisfaction not in Satisfaction.values:
        raise ValidationError({"satisfaction": _("Choose satisfied, basically or dissatisfied.")})
    target = (
        workflow.EVALUATE_DISSATISFIED_TARGET
        if satisfaction == Satisfaction.DISSATISFIED
        else State.EVALUATED
    )
    _apply(
        case,
        "evaluate",
        acting_user,
        note=comment,
        target=target,
        label="reporter" if by_reporter else "",
        satisfaction=satisfaction,
        satisfaction_comment=comment[:2000],
    )
    return case


@transaction.atomic
def reopen_case(case, *, acting_user, note):
    """After review of a 不满意 rating: back to the department, with a new deadline."""
    case = _locked(case)
    now = timezone.now()
    _respond, resolve_by = deadlines(case.category, case.case_type, now)
    _apply(
        case,
        "reopen",
        acting_user,
        note=note,
        now=now,
        outcome="",
        closed_at=None,
        resolve_by=resolve_by,
        satisfaction="",
        warned_at=None,
        reminded_at=None,
        escalated_at=None,
    )
    _notify_department(case)
    return case


@transaction.atomic
def uphold_case(case, *, acting_user, note):
    case = _locked(case)
    _apply(case, "uphold", acting_user, note=note)
    return case


MOVE_FUNCTIONS = {
    "accept": accept_case,
    "register": register_case,
    "dispatch": dispatch_case,
    "start": start_case,
    "return": return_case,
    "report": report_case,
    "verify": verify_case,
    "rework": rework_case,
    "close": close_case,
    "evaluate": evaluate_case,
    "reopen": reopen_case,
    "uphold": uphold_case,
    "withdraw": withdraw_case,
}  # "merge" is merge_case(case, master, ...)


# --- same incident, notes, extensions --------------------------------------------------------


@transaction.atomic
def merge_case(case, master, *, acting_user, note=""):
    """Close ``case`` as a duplicate of ``master`` (the same incident). Its reporter is told
    when the master closes."""
    case, master = _locked(case), _locked(master)
    if master.pk == case.pk or master.master_id:
        raise ValidationError({"master": _("Merge into an open case that is not itself merged.")})
    if not master.is_open:
        raise ValidationError({"master": _("The case to merge into is already closed.")})
    if not may(acting_user, master, "merge"):
        raise PermissionDenied(_("Your role may not merge cases here."))
    now = timezone.now()
    _apply(
        case,
        "merge",
        acting_user,
        note=note or master.number,
        now=now,
        outcome=Outcome.DUPLICATE,
        closed_at=now,
        master=master,
    )
    _event(master, EventKind.MERGED, acting_user, note=case.number, at=now)
    return case


@transaction.atomic
def add_note(case, *, acting_user, note: str, public=False):
    if not (may(acting_user, case, "start") or may(acting_user, case, "dispatch")):
        raise PermissionDenied(_("Your role may not add notes to this case."))
    if not note.strip():
        raise ValidationError({"note": _("The note is empty.")})
    return _event(case, EventKind.NOTE, acting_user, note=note.strip(), public=public)


@transaction.atomic
def request_extension(case, *, acting_user, days: int, reason: str):
    case = _locked(case)
    if case.state not in (State.DISPATCHED, State.IN_PROGRESS):
        raise IllegalMove(
            _("A case in state “%(state)s” cannot ask for more time.")
            % {"state": case.get_state_display()}
        )
    if not may(acting_user, case, "start"):
        raise PermissionDenied(_("Your role may not ask for more time on this case."))
    if not 1 <= int(days) <= 30 or not reason.strip():
        raise ValidationError({"days": _("Ask for 1 to 30 working days, with a reason.")})
    if case.extensions.filter(decision=ExtensionRequest.Decision.PENDING).exists():
        raise ValidationError({"days": _("An extension request is already pending.")})
    now = timezone.now()
    request = ExtensionRequest.objects.create(
        case=case,
        area_code=case.area_code,
        days=days,
        reason=reason.strip(),
        requested_by=acting_user,
        requested_at=now,
    )
    _event(
        case,
        EventKind.EXTENSION_REQUESTED,
        acting_user,
        note=f"+{days}: {reason.strip()}",
        at=now,
        public=False,
    )
    return request


@transaction.atomic
def decide_extension(request: ExtensionRequest, *, acting_user, approve: bool, note=""):
    request = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
    case = _locked(request.case)
    if request.decision != ExtensionRequest.Decision.PENDING:
        raise ValidationError({"decision": _("This request has been decided already.")})
    if not may(acting_user, case, "dispatch"):
        raise PermissionDenied(_("Only a dispatcher may decide on more time."))
    now = timezone.now()
    request.decision = (
        ExtensionRequest.Decision.APPROVED if approve else ExtensionRequest.Decision.REFUSED
    )
    request.decided_by, request.decided_at = acting_user, now
    request.save()
    if approve:
        start = case.resolve_by or now
        case.resolve_by = Calendar.current().deadline(start, request.days)
        case.extended_days += request.days
        case.warned_at = case.reminded_at = case.escalated_at = None
        case.save()
    _event(
        case,
        EventKind.EXTENSION_DECIDED,
        acting_user,
        at=now,
        public=False,
        note=f"{request.get_decision_display()} +{request.days} {note}".strip(),
    )
    return request


# --- notifications ---------------------------------------------------------------------------


def _notify_reporter(case: Case, kind: str, template: str, **extra) -> None:
    if not (case.reporter_phone or case.reporter_email):
        return
    message = template % {"number": case.number, **extra}
    Notification.objects.create(
        case=case, audience=Notification.Audience.REPORTER, kind=kind, message=message[:300]
    )


def _notify_merged(master: Case) -> None:
    """Everyone who reported the same incident hears that it is closed."""
    for dup in master.merged.all():
        _notify_reporter(
            dup,
            "master_closed",
            _("The incident you reported (%(number)s) is closed: %(outcome)s."),
            outcome=master.get_outcome_display(),
        )


def _notify_intake(case: Case, *, dispatched: bool) -> None:
    """An intake's notifications, "received" to the reporter (who left a contact) and, when
    dispatched, "dispatched" to each member of the department: as ``_notify_reporter`` and
    ``_notify_department`` write them, in one ``INSERT … SELECT`` (it runs while the day's
    number is locked: one round trip instead of two)."""
    selects, params = [], []
    now = timezone.now()
    if case.reporter_phone or case.reporter_email:
        message = _("We received your request %(number)s.") % {"number": case.number}
        selects.append("SELECT %s, %s, NULL, %s, %s, %s")
        params += [case.pk, Notification.Audience.REPORTER, "received", message[:300], now]
    if dispatched and case.department_id is not None:
        select, more = _department_select(case, now)
        selects.append(select)
        params += more
    if selects:
        with connection.cursor() as cursor:
            cursor.execute(f"{_notification_insert()} {' UNION ALL '.join(selects)}", params)


def _notification_insert() -> str:
    qn = connection.ops.quote_name
    columns = ", ".join(
        qn(Notification._meta.get_field(f).column)
        for f in ("case", "audience", "user", "kind", "message", "created_at")
    )
    return f"INSERT INTO {qn(Notification._meta.db_table)} ({columns})"


def _department_select(case: Case, now) -> tuple[str, list]:
    """The SELECT of one "dispatched" notification row per member of the case's department."""
    qn = connection.ops.quote_name
    members = qn(Department.members.through._meta.db_table)
    return (
        f"SELECT %s, %s, {qn('user_id')}, %s, %s, %s FROM {members} "
        f"WHERE {qn('department_id')} = %s",
        [
            case.pk,
            Notification.Audience.USER,
            "dispatched",
            f"{case.number} {case.title}"[:300],
            now,
            case.department_id,
        ],
    )


def _notify_department(case: Case) -> None:
    """Tell the members of the case's department: one ``INSERT ... SELECT`` in the case's
    transaction (the notifications are the outbox: nothing is told of a rolled-back case)."""
    if case.department_id is None:
        return
    select, params = _department_select(case, timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(f"{_notification_insert()} {select}", params)
