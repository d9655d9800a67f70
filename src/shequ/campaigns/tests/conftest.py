import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english(settings):
    """These tests read the messages users get in English: the default language is 简体中文,
    so they ask for English the way a user would (the language setting) and in services."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
