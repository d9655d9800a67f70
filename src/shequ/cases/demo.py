"""Demo data of the cases app: categories with time limits, departments, the routing matrix,
and a few thousand SYNTHETIC requests of the last 90 days in every state, written in bulk.

The texts come from templates written here (never from real requests). Deterministic for a
given seed and day: everything random comes from ``ctx.rng("cases")``; times are offsets from
the local midnight of the day the demo is seeded.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from shequ.areas.models import Place, PlaceKind

from .classify.categories import SECTORS
from .models import (
    Case,
    CaseCounter,
    CaseEvent,
    CaseType,
    Category,
    Channel,
    Department,
    EventKind,
    RoutingRule,
)
from .routing import refresh_extents
from .workcalendar import Calendar
from .workflow import Outcome, State

# The top level is the classifier's 15 sectors (``classify.categories.SECTORS``, the same
# codes), so that a suggestion names a category of the demo city; the finer categories below
# them carry their own keywords (``services.suggest_category`` picks the finer one when it lies
# under the sector the classifier chose).
SECTOR_LIMITS = (24, (1, 5, 15))  # respond_hours, (immediate, promised, coordinated)

# code, name, name_en, parent, keywords, respond_hours, (immediate, promised, coordinated)
CATEGORIES = [
    (
        "urban_rural.sanitation",
        "环境卫生",
        "Sanitation",
        "urban_rural",
        "垃圾 环境卫生 清扫 环卫",
        24,
        (1, 3, 10),
    ),
    (
        "urban_rural.sanitation.garbage",
        "垃圾清运",
        "Garbage collection",
        "urban_rural.sanitation",
        "垃圾 清运 垃圾桶",
        12,
        (1, 2, 5),
    ),
    (
        "urban_rural.sanitation.dog",
        "宠物粪便",
        "Dog waste",
        "urban_rural.sanitation",
        "狗 宠物 粪便",
        24,
        (1, 3, 5),
    ),
    (
        "urban_rural.housing",
        "房屋物业",
        "Housing and property",
        "urban_rural",
        "物业 房屋",
        24,
        (1, 5, 15),
    ),
    (
        "urban_rural.housing.lift",
        "电梯故障",
        "Lift failure",
        "urban_rural.housing",
        "电梯 困人",
        2,
        (1, 2, 10),
    ),
    (
        "urban_rural.housing.leak",
        "房屋漏水",
        "Leaking building",
        "urban_rural.housing",
        "漏水 渗水 外墙",
        24,
        (1, 5, 15),
    ),
    (
        "urban_rural.housing.property",
        "物业服务",
        "Property management",
        "urban_rural.housing",
        "物业 保安 物业费",
        24,
        (1, 5, 15),
    ),
    (
        "urban_rural.road",
        "道路设施",
        "Roads and street furniture",
        "urban_rural",
        "道路 人行道 地砖 坑洼",
        24,
        (1, 5, 15),
    ),
    (
        "urban_rural.road.light",
        "路灯故障",
        "Street lights",
        "urban_rural.road",
        "路灯 不亮",
        24,
        (1, 3, 10),
    ),
    (
        "urban_rural.road.cover",
        "井盖缺损",
        "Manhole covers",
        "urban_rural.road",
        "井盖",
        4,
        (1, 2, 5),
    ),
    (
        "urban_rural.water",
        "供水排水",
        "Water and drains",
        "urban_rural",
        "停水 水压 下水道 积水",
        4,
        (1, 3, 10),
    ),
    (
        "urban_rural.green",
        "园林绿化",
        "Trees and green spaces",
        "urban_rural",
        "树 绿化 草坪",
        24,
        (1, 5, 15),
    ),
    (
        "environment.noise",
        "噪声扰民",
        "Noise",
        "environment",
        "噪音 噪声 扰民 施工 音响",
        12,
        (1, 3, 10),
    ),
    (
        "transport.parking",
        "停车秩序",
        "Parking",
        "transport",
        "停车 乱停 僵尸车 消防通道",
        24,
        (1, 3, 10),
    ),
    (
        "commerce.market",
        "市场监管",
        "Shops and food safety",
        "commerce",
        "商家 小店 过期 食品 缺斤少两",
        24,
        (1, 5, 15),
    ),
    (
        "civil_affairs.elderly",
        "养老服务",
        "Care for the elderly",
        "civil_affairs",
        "老人 独居 养老",
        24,
        (1, 5, 15),
    ),
]

DEPARTMENTS = [
    ("ZJ", "市住建局", "Housing and Construction Bureau"),
    ("CG", "市城管委", "Urban Management Committee"),
    ("SW", "市水务局", "Water Authority"),
    ("JT", "市交通运输局", "Transport Bureau"),
    ("SJ", "市市场监管局", "Market Regulation Bureau"),
    ("HJ", "市生态环境局", "Ecology and Environment Bureau"),
    ("GA", "市公安局", "Public Security Bureau"),
    ("YL", "市公园城市局", "Park City Bureau"),
    ("MZ", "市民政局", "Civil Affairs Bureau"),
    ("RS", "市人社局", "Human Resources and Social Security Bureau"),
    ("JY", "市教育局", "Education Bureau"),
    ("WJ", "市卫生健康委", "Health Commission"),
]

# category -> department (city-wide). The sectors left out (agriculture, government, economy,
# discipline, land, technology) have no rule: their cases wait for a dispatcher's choice.
RULES = {
    "urban_rural": "ZJ",
    "urban_rural.sanitation": "CG",
    "urban_rural.road": "CG",
    "urban_rural.road.cover": "SW",
    "urban_rural.water": "SW",
    "urban_rural.green": "YL",
    "environment": "HJ",
    "transport": "JT",
    "transport.parking": "GA",
    "commerce": "SJ",
    "civil_affairs": "MZ",
    "labour": "RS",
    "education": "JY",
    "health": "WJ",
    "legal": "GA",
}
HOUSING = ["urban_rural.housing.lift", "urban_rural.housing.leak", "urban_rural.housing.property"]

# Templates of request texts (our own wording); {p} is a place, {t} a time, {n} a number.
TEXTS = {
    "urban_rural.sanitation.garbage": [
        "{p}门口的垃圾桶已经满了{n}天，没有人来清运，气味很大。",
        "{p}旁边有人乱堆建筑垃圾，占了半条路。",
        "{p}的垃圾分类点{t}没人收，苍蝇很多。",
    ],
    "urban_rural.sanitation.dog": [
        "{p}草坪上狗粪便很多，希望加强管理。",
        "{p}有人遛狗不牵绳也不清理粪便。",
    ],
    "urban_rural.housing.lift": [
        "{p}的电梯{t}又坏了，老人上下楼很困难。",
        "{p}电梯运行时有异响，担心安全问题。",
        "{p}电梯困人，物业半小时没人来。",
    ],
    "urban_rural.housing.leak": ["{p}楼顶漏水，家里天花板渗水{n}天了。", "{p}外墙渗水，墙面发霉。"],
    "urban_rural.housing.property": [
        "{p}物业不作为，楼道灯坏了{n}周没人修。",
        "{p}物业费收费标准不透明，希望核实。",
    ],
    "urban_rural.road.light": [
        "{p}附近的路灯{t}都不亮，晚上走路很黑。",
        "{p}路口有{n}盏路灯坏了。",
    ],
    "urban_rural.road.cover": [
        "{p}门口的井盖松动，车压过去响声很大。",
        "{p}人行道上井盖缺失，很危险。",
    ],
    "urban_rural.road": ["{p}人行道地砖破损，容易绊倒。", "{p}门口道路坑洼，下雨积水。"],
    "environment.noise": [
        "{p}附近工地{t}还在施工，噪音很大影响休息。",
        "{p}楼下商铺音响声音太大，严重扰民。",
        "{p}广场舞音乐声音过大，{t}还在跳。",
    ],
    "urban_rural.water": ["{p}{t}停水了，没有提前通知。", "{p}下水道堵塞，污水冒到路面上。"],
    "transport.parking": ["{p}门口乱停车，消防通道被堵。", "{p}路边长期停放僵尸车。"],
    "commerce.market": ["{p}旁边的小店卖过期食品。", "{p}附近商家缺斤少两。"],
    "urban_rural.green": ["{p}的行道树枝干快断了，担心砸到人。", "{p}绿化带杂草很久没修剪。"],
    "civil_affairs.elderly": [
        "{p}有独居老人需要帮助，希望社区上门看看。",
        "想咨询{p}附近的养老服务怎么申请。",
    ],
    # Sector-level requests: no finer category of the demo city fits them.
    "labour": ["{p}附近一家餐馆拖欠员工工资{n}个月了。", "在{p}旁边的工地干活，老板不给买社保。"],
    "education": ["{p}旁边的幼儿园收费不透明，希望核实。", "{p}附近的学校学位紧张，孩子入学难。"],
    "health": ["{p}附近的诊所卫生条件很差，希望检查。", "{p}社区卫生服务站{t}没有医生值班。"],
    "transport": ["{p}附近的公交站台没有遮雨棚。", "{p}门口的公交线路{t}班次太少。"],
    "legal": ["{p}附近{t}有人聚众赌博。", "{p}楼下电动车被偷了，希望派出所加强巡逻。"],
}
TIMES = ["昨晚", "今天早上", "这两天", "晚上十点后", "周末", "中午"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
NOTES_REPORT = ["已现场处理完毕", "已安排人员维修", "已联系物业整改", "已清理完毕并加强巡查"]
NOTES_RETURN = ["不属于本单位职责", "地址不清，无法核实"]


def _setup() -> tuple[dict, dict]:
    cats: dict[str, Category] = {}
    hours, (imm, prom, coord) = SECTOR_LIMITS
    for sector in SECTORS:
        cats[sector.code], _ = Category.objects.update_or_create(
            code=sector.code,
            defaults=dict(
                name=sector.name_zh,
                name_en=sector.english,
                parent=None,
                keywords="",  # the classifier knows the sectors' words
                respond_hours=hours,
                resolve_days_immediate=imm,
                resolve_days_promised=prom,
                resolve_days_coordinated=coord,
            ),
        )
    for code, name, en, parent, kw, hours, (imm, prom, coord) in CATEGORIES:
        cats[code], _ = Category.objects.update_or_create(
            code=code,
            defaults=dict(
                name=name,
                name_en=en,
                parent=cats.get(parent) if parent else None,
                keywords=kw,
                respond_hours=hours,
                resolve_days_immediate=imm,
                resolve_days_promised=prom,
                resolve_days_coordinated=coord,
            ),
        )
    depts = {}
    for code, name, en in DEPARTMENTS:
        depts[code], _ = Department.objects.update_or_create(
            code=code, defaults=dict(name=name, name_en=en, area_code="5101")
        )
    for cat, dept in RULES.items():
        RoutingRule.objects.update_or_create(
            category=cats[cat], area_prefix="5101", defaults={"department": depts[dept]}
        )
    return cats, depts


def _district_rules(cats, depts, district: str, name: str) -> Department:
    """The populated district's own urban-management bureau takes its sanitation cases."""
    dept, _ = Department.objects.update_or_create(
        code=f"{district}-CG", defaults=dict(name=f"{name}城管局", area_code=district)
    )
    RoutingRule.objects.update_or_create(
        category=cats["urban_rural.sanitation"], area_prefix=district, defaults={"department": dept}
    )
    return dept


def seed_demo(ctx) -> str:
    rng = ctx.rng("cases")
    refresh_extents()
    cats, depts = _setup()
    district = ctx.street[:6]
    from shequ.areas.models import Area

    dname = Area.objects.filter(code=district).values_list("name", flat=True).first() or ""
    local_cg = _district_rules(cats, depts, district, dname)
    User = get_user_model()
    dept_user = User.objects.filter(username="dept").first()
    if dept_user is not None:
        depts["ZJ"].members.add(dept_user)

    compounds = list(
        Place.objects.filter(kind=PlaceKind.COMPOUND, area_code__startswith=district)
        .exclude(lat=None)
        .values_list("pk", "name", "area_code", "lat", "lng", "address")
    )
    if not compounds:
        return "no compounds with coordinates: no cases"
    mine = [c for c in compounds if c[2].startswith(ctx.grid)]
    community = [c for c in compounds if c[2].startswith(ctx.community)]
    street = [c for c in compounds if c[2].startswith(ctx.street)]

    total = max(300, min(4000, ctx.residents // 5))
    cal = Calendar()
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    ref = timezone.make_aware(dt.datetime.combine(today, dt.time.min), tz)
    now = timezone.now()
    leaves = list(TEXTS)
    rule_dept = {}
    for code in leaves:
        node = cats[code]
        while node.code not in RULES and node.parent is not None:
            node = node.parent
        rule_dept[code] = depts[RULES[node.code]] if node.code in RULES else None
    rule_dept["urban_rural.sanitation.garbage"] = local_cg
    rule_dept["urban_rural.sanitation.dog"] = local_cg

    specs = []
    for i in range(total):
        pool = (
            mine
            if mine and i % 10 == 0
            else community
            if community and i % 10 in (1, 2)
            else street
            if street and i % 10 in (3, 4)
            else compounds
        )
        pk, pname, area, lat, lng, addr = rng.choice(pool)
        # Ages skew recent: more requests in the last weeks.
        age_h = min(90 * 24 - 1, int(rng.expovariate(1 / (24 * 25))))
        created = max(
            ref - dt.timedelta(days=89), now - dt.timedelta(hours=age_h, minutes=rng.randrange(60))
        )
        code = rng.choice(leaves)
        if i % 9 == 0:  # the dept demo user should find plenty of housing cases
            code = rng.choice(HOUSING)
        specs.append((created, pk, pname, area, lat, lng, addr, code))
    specs.sort(key=lambda s: s[0])

    counters: dict[dt.date, int] = {}
    cases, plans = [], []
    for created, pk, pname, area, lat, lng, addr, code in specs:
        cat = cats[code]
        text = rng.choice(TEXTS[code]).format(p=pname, t=rng.choice(TIMES), n=rng.randint(2, 6))
        case_type = rng.choices(
            [CaseType.IMMEDIATE, CaseType.PROMISED, CaseType.COORDINATED], [2, 6, 2]
        )[0]
        day = timezone.localtime(created).date()
        counters[day] = counters.get(day, 0) + 1
        resolve_by = cal.deadline(created, cat.resolve_days(case_type))
        respond_by = created + dt.timedelta(hours=cat.respond_hours)
        channel = rng.choices(
            [Channel.HOTLINE, Channel.WEB, Channel.PATROL, Channel.API, Channel.MODULE],
            [50, 30, 14, 4, 2],
        )[0]
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        case = Case(
            number=f"SQ{day:%Y%m%d}{counters[day]:06d}",
            title=text[:30],
            text=text,
            category=cat,
            suggested_category=cat,
            confidence=round(rng.uniform(0.55, 0.98), 2),
            channel=channel,
            source_ref="campaigns.followup:demo" if channel == Channel.MODULE else "",
            case_type=case_type,
            area_code=area,
            lat=lat + rng.uniform(-0.0008, 0.0008),
            lng=lng + rng.uniform(-0.0008, 0.0008),
            address=f"{addr}{pname}".strip(),
            place_id=pk,
            reporter_name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN]),
            reporter_phone=phone if channel != Channel.PATROL else "",
            created_at=created,
            respond_by=respond_by,
            resolve_by=resolve_by,
        )
        plan = _lifecycle(rng, case, rule_dept[code], now, cal)
        cases.append(case)
        plans.append(plan)
    Case.objects.bulk_create(cases, batch_size=1000)
    if connection_needs_pks(cases):
        by_number = dict(
            Case.objects.filter(number__in=[c.number for c in cases]).values_list("number", "pk")
        )
        for c in cases:
            c.pk = by_number[c.number]
    for day, last in counters.items():
        CaseCounter.objects.update_or_create(day=day, defaults={"last": last})

    events = []
    for case, plan in zip(cases, plans, strict=True):
        for kind, move, from_s, to_s, at, note, dept, label in plan:
            events.append(
                CaseEvent(
                    case_id=case.pk,
                    area_code=case.area_code,
                    kind=kind,
                    move=move,
                    from_state=from_s,
                    to_state=to_s,
                    actor_label=label,
                    at=at,
                    note=note,
                    department=dept,
                )
            )
    CaseEvent.objects.bulk_create(events, batch_size=2000)
    merged = _merge_some(rng, cases, now)
    states: dict[str, int] = {}
    for c in cases:
        states[c.state] = states.get(c.state, 0) + 1
    overdue = sum(1 for c in cases if c.is_overdue(now))
    summary = ", ".join(f"{k} {v}" for k, v in sorted(states.items()))
    return (
        f"{len(cases):,} cases ({summary}); {overdue} overdue; {merged} merged; "
        f"{len(events):,} events; {len(depts) + 1} departments, {len(cats)} categories"
    )


def connection_needs_pks(cases) -> bool:
    return any(c.pk is None for c in cases)


def _lifecycle(rng, case: Case, dept, now, cal) -> list[tuple]:
    """Walk a case along the workflow with plausible delays; stop at ``now``. Returns the
    events and leaves the case's fields at its last state."""
    events = [(EventKind.CREATED, "", "", State.NEW, case.created_at, "", None, case.channel)]
    t = case.created_at
    state = State.NEW
    late = rng.random() < 0.12  # some departments are slow

    def step(move, to, hours, note="", department=None, label="system"):
        nonlocal t, state
        t = t + dt.timedelta(hours=hours)
        if t > now:
            raise StopIteration
        events.append(
            (EventKind.MOVE, move, state, to, t, note, department or case.department, label)
        )
        state = to
        case.state = to

    try:
        if rng.random() < 0.03:
            step("withdraw", State.CLOSED, rng.uniform(0.5, 6), label="reporter")
            case.outcome, case.closed_at = Outcome.WITHDRAWN, t
            return events
        step("accept", State.ACCEPTED, rng.uniform(0.05, 2))
        if rng.random() < 0.05:
            step("close", State.CLOSED, rng.uniform(0.2, 4), note="非本市职责范围")
            case.outcome, case.closed_at = Outcome.NOT_OURS, t
            return events
        step("register", State.REGISTERED, rng.uniform(0.05, 1))
        case.department = dept
        step("dispatch", State.DISPATCHED, rng.uniform(0.05, 2), department=dept)
        if rng.random() < 0.06:
            step("return", State.RETURNED, rng.uniform(1, 10), note=rng.choice(NOTES_RETURN))
            step("dispatch", State.DISPATCHED, rng.uniform(1, 8), note="改派", department=dept)
        respond = rng.uniform(0.5, 30 if late else 10)
        step("start", State.IN_PROGRESS, respond)
        case.responded_at = t
        budget = (case.resolve_by - t).total_seconds() / 3600
        work = budget * (rng.uniform(1.1, 2.5) if late else rng.uniform(0.1, 0.8))
        step("report", State.REPORTED, max(0.5, work), note=rng.choice(NOTES_REPORT))
        if rng.random() < 0.08:
            step("rework", State.IN_PROGRESS, rng.uniform(2, 20), note="现场核查未整改到位")
            step("report", State.REPORTED, rng.uniform(4, 30), note=rng.choice(NOTES_REPORT))
        step("verify", State.VERIFIED, rng.uniform(1, 12))
        outcome = Outcome.RESOLVED if rng.random() < 0.9 else Outcome.UNRESOLVABLE
        step("close", State.CLOSED, rng.uniform(0.2, 4))
        case.outcome, case.closed_at = outcome, t
        if rng.random() < 0.75:
            sat = rng.choices(["satisfied", "basically", "dissatisfied"], [70, 20, 10])[0]
            to = State.REVIEW if sat == "dissatisfied" else State.EVALUATED
            step("evaluate", to, rng.uniform(1, 48), label="reporter")
            case.satisfaction = sat
            if sat == "dissatisfied" and rng.random() < 0.5:
                step("uphold", State.EVALUATED, rng.uniform(4, 48), note="复核：已按规定办理")
    except StopIteration:
        pass
    return events


def _merge_some(rng, cases, now) -> int:
    """A few open requests are the same incident as an earlier open one nearby: merge them."""
    merged = 0
    open_cases = [c for c in cases if c.state in (State.NEW, State.ACCEPTED, State.REGISTERED)]
    by_place: dict[int, Case] = {}
    for case in open_cases:
        first = by_place.get(case.place_id)
        if first is not None and first.category_id == case.category_id and merged < 30:
            from_state = case.state
            case.master, case.state, case.outcome = first, State.CLOSED, Outcome.DUPLICATE
            case.closed_at = min(now, case.created_at + dt.timedelta(hours=1))
            Case.objects.filter(pk=case.pk).update(
                master=first,
                state=State.CLOSED,
                outcome=Outcome.DUPLICATE,
                closed_at=case.closed_at,
            )
            CaseEvent.objects.create(
                case=case,
                area_code=case.area_code,
                kind=EventKind.MOVE,
                move="merge",
                from_state=from_state,
                to_state=State.CLOSED,
                actor_label="system",
                at=case.closed_at,
                note=first.number,
            )
            merged += 1
        else:
            by_place.setdefault(case.place_id, case)
    return merged
