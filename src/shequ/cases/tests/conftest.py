import pytest


@pytest.fixture
def matrix(city):
    from shequ.cases.testing import build_matrix

    return build_matrix()


@pytest.fixture
def grid(city):
    return city["grids"][0]  # 510104001001G01 around (30.6, 104.0)


@pytest.fixture
def new_case(matrix, grid):
    """``new_case(**kw)``: a web request in the first grid, routed by the matrix."""
    from shequ.cases.services import create_case

    def make(**kw):
        kw.setdefault("text", "小区门口垃圾堆放三天没人清运，气味很大")
        kw.setdefault("channel", "web")
        kw.setdefault("lat", grid.lat)
        kw.setdefault("lng", grid.lng)
        kw.setdefault("reporter_phone", "13800138000")
        return create_case(**kw)

    return make


@pytest.fixture(autouse=True)
def _fresh_calendar():
    """The process-wide calendar may hold days of a rolled-back test: start each test clean."""
    from shequ.cases.workcalendar import Calendar

    Calendar.forget()
    yield
    Calendar.forget()
