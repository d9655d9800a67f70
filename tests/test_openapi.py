"""The committed OpenAPI schema (openapi.yaml) is the schema the code generates.

The schema is generated in-process exactly as ``make schema`` does (``manage.py spectacular
--validate --fail-on-warn --file openapi.yaml --lang en``, in English): it must validate,
and every drf-spectacular warning (a place where the published schema guesses) fails.
"""

import difflib
from pathlib import Path

from django.core.management import call_command
from django.utils import translation

COMMITTED = Path(__file__).resolve().parent.parent / "openapi.yaml"
REGENERATE = (
    "Regenerate it with `make schema` "
    "(manage.py spectacular --lang en --validate --fail-on-warn --file openapi.yaml) "
    "and commit openapi.yaml."
)


def generate(path: Path) -> str:
    # The published schema is in English (--lang en), so that a translation change cannot
    # make it drift; override too, as a test request may have left another language active.
    with translation.override("en"):
        call_command(
            "spectacular", "--lang", "en", "--file", str(path), "--validate", "--fail-on-warn"
        )
    return path.read_text(encoding="utf-8")


def test_committed_schema_matches_the_code(tmp_path):
    generated = generate(tmp_path / "openapi.yaml")
    assert COMMITTED.exists(), f"openapi.yaml is missing. {REGENERATE}"
    committed = COMMITTED.read_text(encoding="utf-8")
    if generated != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                generated.splitlines(keepends=True),
                "openapi.yaml (committed)",
                "openapi.yaml (generated)",
                n=2,
            )
        )
        lines = diff.splitlines()
        shown = "\n".join(lines[:80]) + (
            f"\n... {len(lines) - 80} more lines" if len(lines) > 80 else ""
        )
        raise AssertionError(f"The API schema has drifted from openapi.yaml. {REGENERATE}\n{shown}")


def test_schema_covers_the_api():
    import yaml

    schema = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    paths = schema["paths"]
    for name in ("areas", "places", "facilities", "persons", "households", "residences"):
        assert f"/api/v1/{name}/" in paths and "get" in paths[f"/api/v1/{name}/"]
    assert "post" in paths["/api/v1/persons/{id}/reveal/"]
    assert "post" in paths["/api/v1/auth/token/"]
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])
