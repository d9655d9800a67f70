import pytest


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate-limit counters live in the cache, keyed by user id: start every test at zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def english(settings):
    """Messages are checked in English (the source text); the catalogue test checks zh_Hans."""
    settings.LANGUAGE_CODE = "en"
