"""The demo hook on the small test city."""

import pytest

from shequ.cases.demo import seed_demo
from shequ.cases.models import Case, CaseEvent, EventKind
from shequ.cases.workflow import State
from shequ.core.roles import Role
from shequ.demo.hooks import DemoContext

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_consistent_cases_in_the_demo_users_scope(city, make_user):
    dept = make_user("dept", Role.DEPARTMENT_HANDLER, "5101")
    grid = city["grids"][0].code
    ctx = DemoContext(
        seed=1, residents=100, street=grid[:9], community=grid[:12], grid=grid, log=lambda _m: None
    )
    summary = seed_demo(ctx)
    assert "300 cases" in summary
    assert Case.objects.under(grid).exists()
    assert Case.objects.for_user(dept, "view").exists()  # linked to the housing bureau
    states = set(Case.objects.values_list("state", flat=True))
    assert {State.CLOSED, State.EVALUATED, State.IN_PROGRESS} <= states
    assert Case.objects.exclude(satisfaction="").exists()
    # Every case starts with its intake event and its last move ends in its state.
    for case in Case.objects.all()[:100]:
        events = list(case.events.order_by("at", "id"))
        assert events[0].kind == EventKind.CREATED
        moves = [e for e in events if e.kind == EventKind.MOVE]
        if moves:
            assert moves[-1].to_state == case.state, case.number
    assert CaseEvent.objects.count() > Case.objects.count()
    # Texts come from our templates, each naming the compound.
    for case in Case.objects.select_related("place")[:50]:
        assert case.place.name in case.text


def test_demo_categories_are_the_classifiers_sectors_with_finer_ones_below(city):
    from shequ.cases import demo
    from shequ.cases.classify import CODES
    from shequ.cases.models import Category

    demo._setup()
    tops = set(Category.objects.filter(parent=None).values_list("code", flat=True))
    assert tops == set(CODES)  # every code the classifier can answer is a category here
    for category in Category.objects.exclude(parent=None):
        root = category
        while root.parent is not None:
            root = root.parent
        assert category.code.startswith(root.code + "."), category.code


def test_every_demo_text_is_suggested_its_own_category_at_intake(city):
    """The demo's templates, through the same suggestion as an intake (the classifier's sector,
    refined by the categories' keywords), land on the category they were written for (or,
    for one generic wording, its sector)."""
    from shequ.cases import demo, services

    demo._setup()
    for code, templates in demo.TEXTS.items():
        for template in templates:
            text = template.format(p="锦华苑", t="昨晚", n=3)
            category, _confidence = services.suggest_category(text)
            assert category is not None, text
            assert code == category.code or code.startswith(category.code + "."), (text, code)


def test_an_intake_in_the_demo_city_is_routed_by_the_classifiers_sector(city):
    from shequ.cases import demo, services

    demo._setup()
    grid = city["grids"][0]
    case = services.create_case(
        text="我在公司干了两年，老板拖欠工资三个月，社保也没有交，讨薪无果",
        channel="web",
        lat=grid.lat,
        lng=grid.lng,
    )
    # No demo category has labour words: the classifier's sector is the category, its rule
    # sends the case to the human-resources bureau.
    assert case.category.code == "labour"
    assert case.department.code == "RS" and case.state == State.DISPATCHED
