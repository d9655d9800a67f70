"""Services: one event per step, permissions by action at the case's area, intake routing."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from shequ.cases import services
from shequ.cases.models import Case, CaseEvent, Channel, EventKind, Notification
from shequ.cases.workflow import IllegalMove, Outcome, State
from shequ.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user, grid):
    street = grid.code[:9]
    dispatcher = make_user("disp", Role.STREET_STAFF, street)
    handler = make_user("dept", Role.DEPARTMENT_HANDLER, "5101")
    return dispatcher, handler


def events(case):
    return list(CaseEvent.objects.filter(case=case).order_by("id"))


def test_intake_routes_by_point_matrix_and_auto_dispatches(new_case, matrix, grid):
    case = new_case()
    assert case.area_code == grid.code
    assert case.number.startswith("SQ") and len(case.number) == 16
    assert case.category.code == "ENV.GARBAGE"  # keywords: the most specific category
    # The parent ENV rule applies; in Jinjiang its own bureau: the more specific area wins.
    assert case.department == matrix["departments"]["JJ-CG"]
    assert case.state == State.DISPATCHED
    kinds = [(e.kind, e.move, e.to_state) for e in events(case)]
    assert kinds == [
        (EventKind.CREATED, "", State.NEW),
        (EventKind.MOVE, "accept", State.ACCEPTED),
        (EventKind.MOVE, "register", State.REGISTERED),
        (EventKind.MOVE, "dispatch", State.DISPATCHED),
    ]
    assert case.respond_by and case.resolve_by > case.created_at


def test_numbers_count_per_day(new_case):
    a, b = new_case(), new_case(text="另一处路灯不亮了，晚上很黑")
    assert int(b.number[-6:]) == int(a.number[-6:]) + 1
    assert a.number[2:10] == timezone.localtime(a.created_at).strftime("%Y%m%d")


def test_the_case_goes_in_once_with_the_number_it_is_told(new_case, make_user, matrix):
    """The number is taken first and the row written once: no second write of the case (and
    of its indexes) to put the number in; the audit trail and the notifications hear of it
    as they would of a saved case."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shequ.governance.models import AuditEvent

    handler = make_user("dept", Role.DEPARTMENT_HANDLER, "5101")
    matrix["departments"]["JJ-CG"].members.add(handler)
    with CaptureQueriesContext(connection) as queries:
        case = new_case()
    import re

    case_table = Case._meta.db_table
    target = re.compile(rf'^\s*(INSERT INTO|UPDATE|DELETE FROM) "?{case_table}"?[ (]')
    writes = [
        m.group(1) for q in queries.captured_queries if (m := target.match(q["sql"])) is not None
    ]
    assert writes == ["INSERT INTO"]
    stored = Case.objects.get(pk=case.pk)
    assert stored.number == case.number and case.number.startswith("SQ")
    assert stored.reporter_phone == "13800138000"
    assert Case.objects.filter(reporter_phone_hash=stored.reporter_phone_hash).count() == 1
    assert stored.reporter_phone_hash  # derived on the way in, as save derives it
    created = AuditEvent.objects.get(object_type="cases.case", object_id=str(case.pk))
    assert created.kind == "created" and "reporter_phone" in created.changed_fields
    messages = set(Notification.objects.filter(case=case).values_list("message", flat=True))
    assert len(messages) == 2 and all(case.number in m for m in messages)


def test_no_rule_leaves_case_for_the_dispatcher(new_case):
    case = new_case(text="路灯坏了好几天，晚上很黑")  # ROAD: auto_dispatch off
    assert case.category.code == "ROAD" and case.state == State.NEW
    assert case.department is None


def test_full_lifecycle_writes_one_event_per_step(new_case, staff, matrix):
    dispatcher, handler = staff
    case = new_case(text="楼道灯坏了请维修一下", auto_dispatch=False)
    assert case.state == State.NEW
    matrix["departments"]["CG"].members.add(handler)
    steps = [
        lambda c: services.accept_case(c, acting_user=dispatcher),
        lambda c: services.register_case(c, acting_user=dispatcher),
        lambda c: services.dispatch_case(
            c, matrix["departments"]["CG"], acting_user=dispatcher, note="manual"
        ),
        lambda c: services.start_case(c, acting_user=handler),
        lambda c: services.return_case(c, acting_user=handler, note="不属于我局"),
        lambda c: services.dispatch_case(c, matrix["departments"]["CG"], acting_user=dispatcher),
        lambda c: services.start_case(c, acting_user=handler),
        lambda c: services.report_case(c, acting_user=handler, note="已修好"),
        lambda c: services.rework_case(c, acting_user=dispatcher, note="灯还是不亮"),
        lambda c: services.report_case(c, acting_user=handler, note="换了灯管"),
        lambda c: services.verify_case(c, acting_user=dispatcher),
        lambda c: services.close_case(c, acting_user=dispatcher, outcome=Outcome.RESOLVED),
        lambda c: services.evaluate_case(c, satisfaction="satisfied", by_reporter=True),
    ]
    expected = [
        State.ACCEPTED,
        State.REGISTERED,
        State.DISPATCHED,
        State.IN_PROGRESS,
        State.RETURNED,
        State.DISPATCHED,
        State.IN_PROGRESS,
        State.REPORTED,
        State.IN_PROGRESS,
        State.REPORTED,
        State.VERIFIED,
        State.CLOSED,
        State.EVALUATED,
    ]
    for step, state in zip(steps, expected, strict=True):
        before = CaseEvent.objects.filter(case=case).count()
        case = step(case)
        assert case.state == state
        assert CaseEvent.objects.filter(case=case).count() == before + 1
        last = events(case)[-1]
        assert last.to_state == state
    case.refresh_from_db()
    assert case.outcome == Outcome.RESOLVED and case.closed_at and case.responded_at
    assert case.satisfaction == "satisfied"


def test_illegal_move_is_refused_and_writes_nothing(new_case, staff):
    dispatcher, _handler = staff
    case = new_case(text="楼道灯坏了请维修一下", auto_dispatch=False)
    with pytest.raises(IllegalMove) as exc:
        services.verify_case(case, acting_user=dispatcher)
    assert "Received" in str(exc.value) or "待" in str(exc.value) or "受理" in str(exc.value)
    case.refresh_from_db()
    assert case.state == State.NEW and CaseEvent.objects.filter(case=case).count() == 1


def test_resolved_only_after_a_check(new_case, staff):
    dispatcher, _h = staff
    case = new_case(text="楼道灯坏了请维修一下", auto_dispatch=False)
    with pytest.raises(ValidationError):
        services.close_case(case, acting_user=dispatcher, outcome=Outcome.RESOLVED)
    case = services.close_case(case, acting_user=dispatcher, outcome=Outcome.NOT_OURS)
    assert case.state == State.CLOSED and case.outcome == Outcome.NOT_OURS


def test_return_needs_a_reason(new_case, staff, matrix):
    _d, handler = staff
    case = new_case()
    matrix["departments"]["JJ-CG"].members.add(handler)
    with pytest.raises(ValidationError):
        services.return_case(case, acting_user=handler, note=" ")


def test_permission_by_action_and_department(new_case, staff, matrix, make_user, city):
    _dispatcher, handler = staff
    case = new_case()  # dispatched to JJ-CG
    # The handler is not a member of JJ-CG: may not act on it.
    with pytest.raises(PermissionDenied):
        services.start_case(case, acting_user=handler)
    # A member handles it, but a department handler never closes (no dispatch permission).
    matrix["departments"]["JJ-CG"].members.add(handler)
    case = services.return_case(case, acting_user=handler, note="不归我们")
    assert case.state == State.RETURNED
    with pytest.raises(PermissionDenied):
        services.close_case(case, acting_user=handler, outcome=Outcome.NOT_OURS)
    # Street staff of the other district may not act here.
    other = make_user("other", Role.STREET_STAFF, city["districts"][1].code)
    case.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.dispatch_case(case, matrix["departments"]["CG"], acting_user=other)
    assert CaseEvent.objects.filter(case=case, actor=other).count() == 0


def test_staff_intake_checks_scope(matrix, make_user, city, grid):
    gw = make_user("gw", Role.GRID_WORKER, grid.code)
    case = services.create_case(
        text="绿化带里有人乱倒建筑垃圾",
        channel=Channel.PATROL,
        lat=grid.lat,
        lng=grid.lng,
        acting_user=gw,
    )
    assert (
        case.channel == Channel.PATROL
        and CaseEvent.objects.get(case=case, kind=EventKind.CREATED).actor == gw
    )
    far = city["grids"][-1]
    with pytest.raises(PermissionDenied):
        services.create_case(
            text="这里也有垃圾堆放",
            channel=Channel.PATROL,
            lat=far.lat,
            lng=far.lng,
            acting_user=gw,
        )
    with pytest.raises(PermissionDenied):
        services.create_case(
            text="这里也有垃圾堆放", channel=Channel.HOTLINE, lat=far.lat, lng=far.lng
        )


def test_module_intake_needs_a_source_and_accepts_an_area_code(matrix, grid):
    with pytest.raises(ValidationError):
        services.create_case(
            text="筛查随访：独居老人需要上门", channel="module", area_code=grid.code
        )
    case = services.create_case(
        text="筛查随访：独居老人需要上门探访",
        channel="module",
        area_code=grid.code,
        source_ref="campaigns.visit:42",
    )
    assert case.area_code == grid.code and case.source_ref == "campaigns.visit:42"


def test_bad_input_names_the_field(matrix):
    with pytest.raises(ValidationError) as exc:
        services.create_case(text="垃圾没人收", channel="web", lat=10.0, lng=10.0)
    assert "lat" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_case(text="垃圾没人收", channel="web", address="火星基地")
    assert "address" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_case(
            text="垃圾没人收", channel="web", area_code="510104001001G01", reporter_phone="12"
        )
    assert "reporter_phone" in exc.value.message_dict
    assert not Case.objects.exists()


def test_address_parse_finds_the_compound(matrix, city):
    dwelling = city["dwellings"][4]
    compound = dwelling.parent.parent.parent
    case = services.create_case(
        text="电梯坏了老人上不了楼", channel="web", address=f"成都市{compound.name}3栋"
    )
    assert case.place == compound and case.area_code == compound.area_code
    assert case.category.code == "HOUSING.LIFT"
    assert case.department.code == "ZJ"  # the parent category's rule applies


def test_merge_and_everyone_is_told_when_the_master_closes(new_case, staff, matrix):
    dispatcher, _h = staff
    master = new_case(text="人民路路口垃圾堆满了没人清运", reporter_phone="13800000001")
    dup = new_case(text="人民路路口的垃圾堆满了，一直没人清运", reporter_phone="13800000002")
    from shequ.cases.similarity import similar_open_cases

    matches = similar_open_cases(dup)
    assert [m.case for m in matches] == [master]
    services.merge_case(dup, master, acting_user=dispatcher)
    dup.refresh_from_db()
    assert dup.state == State.CLOSED and dup.outcome == Outcome.DUPLICATE
    assert dup.master == master
    assert CaseEvent.objects.filter(case=master, kind=EventKind.MERGED).count() == 1
    # Far away or unrelated text: not offered.
    other = new_case(text="邻居装修噪音太大，晚上十点还在施工")
    assert similar_open_cases(other) == []
    master.refresh_from_db()
    for move in ("start", "report"):
        matrix["departments"]["JJ-CG"].members.add(_h)
        master = services.MOVE_FUNCTIONS[move](master, acting_user=_h)
    master = services.verify_case(master, acting_user=dispatcher)
    services.close_case(master, acting_user=dispatcher, outcome=Outcome.RESOLVED)
    told = Notification.objects.filter(kind="master_closed")
    assert [n.case for n in told] == [dup]


def test_dissatisfied_goes_to_review_and_can_reopen(new_case, staff, matrix):
    dispatcher, handler = staff
    matrix["departments"]["JJ-CG"].members.add(handler)
    case = new_case()
    case = services.start_case(case, acting_user=handler)
    case = services.report_case(case, acting_user=handler, note="清运完毕")
    case = services.verify_case(case, acting_user=dispatcher)
    case = services.close_case(case, acting_user=dispatcher, outcome=Outcome.RESOLVED)
    case = services.evaluate_case(
        case, satisfaction="dissatisfied", comment="还有垃圾", by_reporter=True
    )
    assert case.state == State.REVIEW
    with pytest.raises(ValidationError):
        services.reopen_case(case, acting_user=dispatcher, note="")
    case = services.reopen_case(case, acting_user=dispatcher, note="复核属实")
    assert case.state == State.DISPATCHED and case.outcome == "" and case.closed_at is None


def test_extension_approved_by_the_dispatcher_moves_the_deadline(new_case, staff, matrix):
    dispatcher, handler = staff
    matrix["departments"]["JJ-CG"].members.add(handler)
    case = new_case()
    before = case.resolve_by
    request = services.request_extension(case, acting_user=handler, days=3, reason="需要协调物业")
    with pytest.raises(PermissionDenied):
        services.decide_extension(request, acting_user=handler, approve=True)
    services.decide_extension(request, acting_user=dispatcher, approve=True)
    case.refresh_from_db()
    assert case.resolve_by > before and case.extended_days == 3


def test_deadlines_warn_remind_escalate_once(new_case, staff, matrix):
    from shequ.cases import deadlines

    dispatcher, handler = staff
    matrix["departments"]["JJ-CG"].members.add(handler)
    with time_machine.travel(dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC), tick=False):
        case = new_case()
    due = case.resolve_by
    r = deadlines.run(now=due - dt.timedelta(hours=2))
    assert (r.warned, r.reminded, r.escalated) == (1, 0, 0)
    assert deadlines.run(now=due - dt.timedelta(hours=1)).warned == 0  # idempotent
    r = deadlines.run(now=due + dt.timedelta(hours=1))
    assert (r.warned, r.reminded, r.escalated) == (0, 1, 0)
    r = deadlines.run(now=due + dt.timedelta(hours=30))
    assert (r.reminded, r.escalated) == (0, 1)
    assert deadlines.run(now=due + dt.timedelta(hours=40)).escalated == 0
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds.count("warning") == kinds.count("reminder") == kinds.count("escalation") == 1
    # The escalation goes to the street's dispatcher (the level above the department).
    assert Notification.objects.filter(kind="escalation", user=dispatcher).count() == 1
    assert Notification.objects.filter(kind="reminder", user=handler).count() == 1


def test_case_deadlines_command_is_idempotent(new_case):
    from io import StringIO

    from django.core.management import call_command

    with time_machine.travel(dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC), tick=False):
        new_case()
    with time_machine.travel(dt.datetime(2026, 11, 10, 1, 0, tzinfo=dt.UTC), tick=False):
        out = StringIO()
        call_command("case_deadlines", stdout=out)  # long past the deadline
        assert "reminded 1, escalated 1" in out.getvalue()
        out = StringIO()
        call_command("case_deadlines", stdout=out)
        assert "warned 0, reminded 0, escalated 0" in out.getvalue()


# --- classification at intake ----------------------------------------------------------------


@pytest.fixture
def sectors(city):
    """A city on the classifier's taxonomy: sector codes at the top, finer ones below."""
    from shequ.cases.models import Category, Department, RoutingRule

    def cat(code, parent=None, keywords=""):
        return Category.objects.create(code=code, name=code, parent=parent, keywords=keywords)

    urban = cat("urban_rural")
    cats = {
        "urban_rural": urban,
        "urban_rural.lift": cat("urban_rural.lift", urban, "电梯 困人"),
        "transport": cat("transport"),
        "environment": cat("environment"),
        "shops": cat("shops", keywords="过期 食品 小店"),
    }
    jt = Department.objects.create(code="JT", name="市交通运输局", area_code="5101")
    zj = Department.objects.create(code="ZJ", name="市住建局", area_code="5101")
    RoutingRule.objects.create(category=cats["transport"], area_prefix="5101", department=jt)
    RoutingRule.objects.create(category=urban, area_prefix="5101", department=zj)
    return cats


def _web(grid, **kw):
    return services.create_case(channel="web", lat=grid.lat, lng=grid.lng, **kw)


def test_the_typed_title_reaches_the_classifier(sectors, grid):
    text = "这个问题已经拖了很久了，希望有关部门尽快解决"  # no keyword of any sector
    assert _web(grid, text=text).suggested_category is None
    case = _web(grid, text=text, title="公交线路班次太少，站台没有遮雨棚")
    # Only the classifier knows "transport" (the category has no keywords of its own).
    assert case.suggested_category == sectors["transport"]
    assert case.title == "公交线路班次太少，站台没有遮雨棚"


def test_a_finer_category_under_the_classifiers_sector_is_suggested(sectors, grid):
    case = _web(grid, text="小区电梯坏了，有人被困人在里面")
    # The classifier says urban_rural (电梯); the city's keywords name a category under it.
    assert case.suggested_category == sectors["urban_rural.lift"]
    assert case.category == sectors["urban_rural.lift"]  # confident enough to be used
    assert case.department.code == "ZJ" and case.state == State.DISPATCHED  # parent's rule


def test_when_they_disagree_the_more_confident_wins(sectors, monkeypatch):
    # The keyword rules' weak guess (health: 过期食品, no such category here; then none)
    # loses to three keywords of a category outside the classifier's sector...
    from shequ.cases import classify

    monkeypatch.setattr(classify, "suggest", lambda text, title="": ("environment", 0.3))
    assert services.suggest_category("门口小店卖过期食品") == (sectors["shops"], 0.9)
    # ... and a trained model's confident answer wins over them.
    monkeypatch.setattr(classify, "suggest", lambda text, title="": ("environment", 0.95))
    assert services.suggest_category("门口小店卖过期食品") == (sectors["environment"], 0.95)


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_get_unique_gap_free_numbers(matrix, grid):
    """Intakes committing at once each hold the day's counter only for their own writes, and
    every number of the day is handed out once, with none skipped."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    numbers, errors = [], []

    def take_in(worker: int) -> None:
        try:
            for i in range(5):
                case = services.create_case(
                    text=f"小区门口垃圾堆放没人清运 {worker}-{i}",
                    channel="web",
                    lat=grid.lat,
                    lng=grid.lng,
                )
                numbers.append(case.number)
        except Exception as exc:  # reported below, with the others
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take_in, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sequence = sorted(int(n[-6:]) for n in numbers)
    assert sequence == list(range(1, 21))
    assert set(Case.objects.values_list("number", flat=True)) == set(numbers)
