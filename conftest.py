import os

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are made by the dozen in tests; the production hasher costs 0.2 s each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def city(db):
    from shequ.core.testing import build_city

    return build_city()


@pytest.fixture
def make_user(db):
    from shequ.core.testing import make_user

    return make_user
