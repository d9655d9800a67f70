"""Categories, departments and a routing matrix for tests (on top of ``build_city()``)."""

from __future__ import annotations

from .models import Category, Department, RoutingRule

CATEGORIES = [
    # code, name, name_en, parent, keywords, respond_hours, (immediate, promised, coordinated)
    ("ENV", "环境卫生", "Sanitation", None, "垃圾 清运 卫生", 24, (1, 3, 10)),
    ("ENV.GARBAGE", "垃圾清运", "Garbage collection", "ENV", "垃圾 清运", 12, (1, 2, 5)),
    ("HOUSING", "房屋建筑", "Housing and buildings", None, "漏水 电梯 房屋", 24, (1, 5, 15)),
    ("HOUSING.LIFT", "电梯故障", "Lift failure", "HOUSING", "电梯", 4, (1, 2, 10)),
    ("ROAD", "道路设施", "Roads", None, "路灯 井盖 道路", 24, (1, 5, 15)),
    ("NOISE", "噪声扰民", "Noise", None, "噪音 噪声 扰民", 24, (1, 5, 15)),
]

DEPARTMENTS = [
    ("CG", "市城管委", "City Management Committee", "5101"),
    ("ZJ", "市住建局", "Housing Bureau", "5101"),
    ("JJ-CG", "锦江区城管局", "Jinjiang Urban Management", "510104"),
    ("GA", "公安分局", "Police", "5101"),
]

RULES = [
    ("ENV", "5101", "CG", True),
    ("ENV", "510104", "JJ-CG", True),  # more specific: Jinjiang's own bureau
    ("HOUSING", "5101", "ZJ", True),
    ("ROAD", "5101", "CG", False),  # dispatched by hand
    ("NOISE", "5101", "GA", True),
]


def build_matrix() -> dict:
    cats: dict[str, Category] = {}
    for code, name, en, parent, kw, hours, (imm, prom, coord) in CATEGORIES:
        cats[code] = Category.objects.create(
            code=code,
            name=name,
            name_en=en,
            parent=cats.get(parent) if parent else None,
            keywords=kw,
            respond_hours=hours,
            resolve_days_immediate=imm,
            resolve_days_promised=prom,
            resolve_days_coordinated=coord,
        )
    depts = {
        code: Department.objects.create(code=code, name=name, name_en=en, area_code=area)
        for code, name, en, area in DEPARTMENTS
    }
    for cat, prefix, dept, auto in RULES:
        RoutingRule.objects.create(
            category=cats[cat], area_prefix=prefix, department=depts[dept], auto_dispatch=auto
        )
    return {"categories": cats, "departments": depts}


def access_cases(city) -> tuple:
    """(in-scope, out-of-scope) cases for the generic API access matrix: one in the first grid
    of district 510104, one in the last grid of 510105, both dispatched by the matrix."""
    from .services import create_case

    build_matrix()
    inside, outside = city["grids"][0], city["grids"][-1]
    return tuple(
        create_case(
            text="小区门口垃圾堆放没人清运",
            channel="web",
            lat=grid.lat,
            lng=grid.lng,
            reporter_phone="13800138000",
        )
        for grid in (inside, outside)
    )


def join_department(user, case) -> None:
    """A department handler sees only their departments' cases: make them a member of the
    department the case went to."""
    from shequ.core.roles import Role

    if user.assignments.filter(role=Role.DEPARTMENT_HANDLER).exists():
        case.department.members.add(user)
