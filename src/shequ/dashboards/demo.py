"""The demo city's rollups: built once the city and every other app's demo data exist
(``dashboards`` comes after ``cases`` and ``campaigns`` in INSTALLED_APPS)."""

from . import rollups


def seed_demo(ctx) -> str:
    report = rollups.rebuild()
    rows = sum(r["rows"] for r in report.values())
    return f"{rows} rollup rows ({', '.join(report)})"
