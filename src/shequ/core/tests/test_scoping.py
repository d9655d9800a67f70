import pytest

from shequ.core.roles import Role
from shequ.people.models import Person

pytestmark = pytest.mark.django_db


def test_grid_worker_sees_only_their_grid(city, make_user):
    grid = city["grids"][0]
    user = make_user("gw", Role.GRID_WORKER, grid.code)
    visible = set(Person.objects.for_user(user, "view").values_list("pk", flat=True))
    expected = {p.pk for p in city["persons"] if p.area_code.startswith(grid.code)}
    assert visible == expected and len(expected) == 4


def test_department_handler_sees_no_people(city, make_user):
    user = make_user("dept", Role.DEPARTMENT_HANDLER, "5101")
    assert not Person.user_may(user, "view")
    assert Person.objects.for_user(user, "view").count() == 0


def test_superuser_flag_does_not_widen_scope(city, make_user):
    user = make_user("root", Role.GRID_WORKER, city["grids"][0].code)
    user.is_superuser = True
    user.save()
    assert Person.objects.for_user(user, "view").count() == 4
