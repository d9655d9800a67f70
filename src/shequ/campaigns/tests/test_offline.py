"""The visit page's service worker: served under /campaigns/ (its scope covers the visit
pages), and it keeps every asset the page loads (the browser test proves the offline load)."""

import json
import re

import pytest
from django.urls import reverse

from shequ.campaigns.testing import campaign_for
from shequ.campaigns.views import offline_config
from shequ.core.roles import Role

pytestmark = pytest.mark.django_db


def test_the_service_worker_is_served_with_its_config(client):
    response = client.get(reverse("campaigns:sw"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert reverse("campaigns:sw") == "/campaigns/sw.js"  # scope /campaigns/
    body = response.content.decode()
    config = json.loads(re.search(r"const CONFIG = (\{.*?\});", body).group(1))
    assert config == offline_config()
    assert re.match(config["page"], "/campaigns/12/visit/")
    assert not re.match(config["page"], "/campaigns/12/")


def test_the_worker_keeps_every_asset_the_visit_page_loads(client, city, make_user):
    campaign = campaign_for(city, 0, rounds=1)
    client.force_login(make_user("st", Role.STREET_STAFF, campaign.area_code))
    page = client.get(reverse("campaigns:visit", args=[campaign.pk])).content.decode()
    loaded = set(re.findall(r'<link rel="(?:stylesheet|icon)" href="([^"]+)"', page))
    loaded |= set(re.findall(r'<script src="([^"]+)"', page))
    assert loaded and loaded <= set(offline_config()["precache"])
    data = json.loads(
        re.search(r'<script id="visit-data" type="application/json">(.*?)</script>', page).group(1)
    )
    assert data["serviceWorker"] == "/campaigns/sw.js"
