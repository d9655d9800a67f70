import os

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")


@pytest.fixture
def city(db):
    from shequ.core.testing import build_city

    return build_city()


@pytest.fixture
def make_user(db):
    from shequ.core.testing import make_user

    return make_user
