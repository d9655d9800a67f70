"""Pages: the resident's intake, tracking and rating; the staff pages' access matrix."""

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shequ.cases import services
from shequ.cases.models import Attachment, Case, CaseEvent
from shequ.cases.workflow import Outcome, State
from shequ.core.models import PersonalDataAccess
from shequ.core.roles import Role

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()


def intake(client, grid, **kw):
    data = {
        "text": "小区门口垃圾堆放三天没人清运",
        "lat": grid.lat,
        "lng": grid.lng,
        "reporter_phone": "13912345678",
        **kw,
    }
    return client.post(reverse("cases:report"), data)


class TestResident:
    def test_intake_answers_number_and_tracking_link(self, client, matrix, grid):
        page = client.get(reverse("cases:report"))
        assert page.status_code == 200 and b"pin-map" in page.content
        photo = SimpleUploadedFile("p.png", PNG, content_type="image/png")
        response = intake(client, grid, photos=[photo])
        case = Case.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("cases:track_case", args=[case.token])
        page = client.get(response["Location"])
        body = page.content.decode()
        assert case.number in body and case.token in body
        assert "13912345678" not in body and "139****5678" not in body
        assert Attachment.objects.filter(case=case).count() == 1

    def test_not_an_image_is_refused_and_nothing_saved(self, client, matrix, grid):
        bad = SimpleUploadedFile("x.png", b"MZ not a picture", content_type="image/png")
        response = intake(client, grid, photos=[bad])
        assert response.status_code == 200 and "x.png" in response.content.decode()
        assert not Case.objects.exists()

    def test_without_a_place_the_form_says_so(self, client, matrix):
        response = client.post(reverse("cases:report"), {"text": "垃圾没有人清运"})
        assert response.status_code == 200 and not Case.objects.exists()

    def test_rate_limited_per_connection(self, client, matrix, grid):
        for _i in range(5):
            assert intake(client, grid).status_code == 302
        assert intake(client, grid).status_code == 200
        assert Case.objects.count() == 5

    def test_tracking_by_number_and_contact(self, client, new_case):
        case = new_case()
        url = reverse("cases:track")
        wrong = client.post(url, {"number": case.number, "contact": "13900000000"})
        assert wrong.status_code == 200
        right = client.post(url, {"number": case.number.lower(), "contact": "138-0013-8000"})
        assert right["Location"] == reverse("cases:track_case", args=[case.token])
        page = client.get(right["Location"]).content.decode()
        assert "13800138000" not in page and "138****8000" not in page
        assert client.get(reverse("cases:track_case", args=["nope"])).status_code == 404

    def test_dissatisfied_rating_sends_to_review_then_reopen(
        self, client, new_case, make_user, matrix, grid
    ):
        disp = make_user("d", Role.STREET_STAFF, grid.code[:9])
        handler = make_user("h", Role.DEPARTMENT_HANDLER, "5101")
        matrix["departments"]["JJ-CG"].members.add(handler)
        case = new_case()
        for step in ("start", "report"):
            case = services.MOVE_FUNCTIONS[step](case, acting_user=handler)
        case = services.verify_case(case, acting_user=disp)
        services.close_case(case, acting_user=disp, outcome=Outcome.RESOLVED)
        url = reverse("cases:track_case", args=[case.token])
        assert "rate-form" in client.get(url).content.decode()
        client.post(url, {"do": "rate", "satisfaction": "dissatisfied", "comment": "没扫干净"})
        case.refresh_from_db()
        assert case.state == State.REVIEW and case.satisfaction == "dissatisfied"
        staff = client.__class__()
        staff.force_login(disp)
        staff.post(reverse("cases:detail", args=[case.number]), {"do": "reopen", "note": "复核"})
        case.refresh_from_db()
        assert case.state == State.DISPATCHED

    def test_withdraw_by_the_reporter(self, client, new_case):
        case = new_case()
        client.post(reverse("cases:track_case", args=[case.token]), {"do": "withdraw"})
        case.refresh_from_db()
        assert case.state == State.CLOSED and case.outcome == Outcome.WITHDRAWN


STAFF_PAGES = ["cases:worklist", "cases:hotline", "cases:patrol", "cases:supervise"]


class TestStaffAccess:
    def test_anonymous_goes_to_login(self, client, city):
        for name in STAFF_PAGES:
            response = client.get(reverse(name))
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_no_permission_is_403(self, client, new_case, make_user):
        case = new_case()
        client.force_login(make_user("nobody"))
        for url in [reverse(n) for n in STAFF_PAGES] + [
            reverse("cases:detail", args=[case.number])
        ]:
            assert client.get(url).status_code == 403, url
        dept = make_user("dept", Role.DEPARTMENT_HANDLER, "5101")
        client.force_login(dept)
        for name in ("cases:hotline", "cases:patrol", "cases:supervise"):
            assert client.get(reverse(name)).status_code == 403, name

    def test_out_of_scope_is_404_in_scope_200(self, client, new_case, make_user, city):
        case = new_case()
        client.force_login(make_user("o", Role.STREET_STAFF, city["districts"][1].code))
        assert client.get(reverse("cases:detail", args=[case.number])).status_code == 404
        assert case.number not in client.get(reverse("cases:worklist")).content.decode()
        client.force_login(make_user("s", Role.STREET_STAFF, case.area_code[:9]))
        for name in STAFF_PAGES:
            assert client.get(reverse(name)).status_code == 200, name
        page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
        assert case.number in page and "138****8000" in page and "13800138000" not in page

    def test_department_handler_sees_only_their_department(
        self, client, new_case, make_user, matrix
    ):
        mine = new_case()  # → JJ-CG
        theirs = new_case(text="电梯坏了三天了老人下不了楼", lat=mine.lat + 0.001)  # → ZJ
        handler = make_user("h", Role.DEPARTMENT_HANDLER, "5101")
        matrix["departments"]["JJ-CG"].members.add(handler)
        client.force_login(handler)
        page = client.get(reverse("cases:worklist")).content.decode()
        assert mine.number in page and theirs.number not in page
        assert client.get(reverse("cases:detail", args=[theirs.number])).status_code == 404
        page = client.get(reverse("cases:detail", args=[mine.number])).content.decode()
        assert "138****8000" in page and 'do" value="reveal' not in page
        client.post(reverse("cases:detail", args=[mine.number]), {"do": "start"})
        mine.refresh_from_db()
        assert mine.state == State.IN_PROGRESS

    def test_reveal_with_reason_is_recorded(self, client, new_case, make_user):
        from shequ.core.testing import verify_session

        case = new_case()
        verify_session(client, make_user("s", Role.STREET_STAFF, case.area_code[:9]))
        url = reverse("cases:detail", args=[case.number])
        page = client.post(url, {"do": "reveal", "reason": "回访核实情况"}).content.decode()
        assert "13800138000" in page
        assert PersonalDataAccess.objects.filter(model="cases.case").count() == 1


def test_worklist_bulk_accept(client, new_case, make_user):
    a = new_case(text="楼道灯坏了请维修一下", auto_dispatch=False)
    b = new_case(text="井盖松动有安全隐患", auto_dispatch=False)
    client.force_login(make_user("s", Role.STREET_STAFF, a.area_code[:9]))
    client.post(reverse("cases:worklist"), {"move": "accept", "numbers": [a.number, b.number]})
    assert set(Case.objects.values_list("state", flat=True)) == {State.ACCEPTED}
    assert CaseEvent.objects.filter(move="accept").count() == 2


def test_worklist_counts_up_to_a_cap_and_says_so(client, new_case, make_user, monkeypatch):
    from shequ.cases import views

    cases = [new_case(text=f"第{i}处路灯不亮了，晚上很黑") for i in range(3)]
    client.force_login(make_user("s", Role.STREET_STAFF, cases[0].area_code[:9]))
    page = client.get(reverse("cases:worklist"))
    assert page.context["page"].paginator.count == 3 and not page.context["page"].paginator.capped
    monkeypatch.setattr(views, "COUNT_CAP", 2)
    page = client.get(reverse("cases:worklist"))
    paginator = page.context["page"].paginator
    assert paginator.capped and paginator.count == 2
    body = page.content.decode()
    assert '<span class="count">2+</span>' in body and '<p class="hint">' in body
    # Newest first; the third (oldest) case is beyond the cap and not listed.
    assert cases[2].number in body and cases[0].number not in body


def test_hotline_looks_up_the_caller_by_post(client, new_case, make_user, grid):
    old = new_case()
    client.force_login(make_user("op", Role.CITY_OPERATOR, "5101"))
    page = client.post(reverse("cases:hotline"), {"do": "lookup", "phone": "138 0013 8000"})
    body = page.content.decode()
    assert old.number in body and 'value="13800138000"' in body
    response = client.post(
        reverse("cases:hotline"),
        {
            "text": "来电反映路灯不亮",
            "lat": grid.lat,
            "lng": grid.lng,
            "case_type": "promised",
            "reporter_phone": "13800138000",
        },
    )
    case = Case.objects.exclude(pk=old.pk).get()
    assert response["Location"] == reverse("cases:detail", args=[case.number])
    assert case.channel == "hotline"


def test_supervise_shows_indicators(client, new_case, make_user):
    case = new_case()
    client.force_login(make_user("op", Role.CITY_OPERATOR, "5101"))
    page = client.get(reverse("cases:supervise"), {"days": "7"})
    assert page.status_code == 200
    assert page.context["totals"]["received"] == 1 and case.area_code.startswith("5101")
    assert client.get(reverse("cases:supervise"), {"area": "5102"}).status_code == 404


def test_two_roles_do_not_duplicate_rows(new_case, make_user, matrix):
    from shequ.core.models import RoleAssignment

    case = new_case()  # → JJ-CG
    user = make_user("both", Role.DEPARTMENT_HANDLER, "5101")
    RoleAssignment.objects.create(user=user, role=Role.STREET_STAFF, area_code=case.area_code[:9])
    for other in ("m1", "m2"):
        matrix["departments"]["JJ-CG"].members.add(make_user(other))
    matrix["departments"]["JJ-CG"].members.add(user)
    assert list(Case.objects.for_user(user, "view")) == [case]
