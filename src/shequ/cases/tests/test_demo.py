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
