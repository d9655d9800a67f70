"""Settings that come from the environment (docs/operations.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from shequ.settings import env_json

SRC = Path(__file__).resolve().parents[3]


def test_settings_read_the_classifier_file_from_the_environment(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, json; django.setup(); "
            "from django.conf import settings; "
            "from shequ.cases.classify import model_path; "
            "print(json.dumps([str(model_path()), settings.SHEQU_CLASSIFIER_KEYWORDS, "
            "settings.OPEN311_JURISDICTION]))",
        ],
        env={
            **os.environ,
            "PYTHONPATH": str(SRC),
            "DJANGO_SETTINGS_MODULE": "shequ.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "SHEQU_CLASSIFIER_MODEL": str(tmp_path / "city.npz"),
            "SHEQU_CLASSIFIER_KEYWORDS": '{"transport": ["共享单车"]}',
            "OPEN311_JURISDICTION": "510104",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    path, keywords, jurisdiction = json.loads(done.stdout.strip().splitlines()[-1])
    assert path == str(tmp_path / "city.npz")
    assert keywords == {"transport": ["共享单车"]}
    assert jurisdiction == "510104"


def test_malformed_json_in_the_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("SHEQU_CLASSIFIER_KEYWORDS", '{"transport": [共享单车]}')
    with pytest.raises(ImproperlyConfigured, match=r"SHEQU_CLASSIFIER_KEYWORDS .*column 16"):
        env_json("SHEQU_CLASSIFIER_KEYWORDS", {})
    monkeypatch.delenv("SHEQU_CLASSIFIER_KEYWORDS")
    assert env_json("SHEQU_CLASSIFIER_KEYWORDS", {}) == {}
