"""The site header leads each role to the data-use pages it may use."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_header_links_to_the_data_use_pages_by_role(client, city, make_user):
    from django.urls import reverse

    from shequ.core.roles import Role

    expected = {
        Role.DATA_STEWARD: {"governance:audit", "governance:exports", "two_factor"},
        Role.STREET_STAFF: {"governance:exports", "two_factor"},
        Role.DEPARTMENT_HANDLER: set(),
    }
    for role, names in expected.items():
        client.force_login(make_user(f"u-{role}", role, "5101"))
        html = client.get(reverse("areas:area", args=["5101"])).content.decode()
        header = html.split('<header class="site-header">', 1)[1].split("</header>", 1)[0]
        for name in ("governance:audit", "governance:exports", "two_factor"):
            assert (f'href="{reverse(name)}"' in header) == (name in names), (role, name)
