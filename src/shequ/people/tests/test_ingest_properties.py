"""Ingest fed malformed files (Hypothesis): a clear refusal naming the file and nothing
written, or every row kept with its line and flags — never a crash, never half a file.

The files are a valid file of each format, damaged at random: bytes cut off or replaced, cells
replaced by any text, or no file at all but random bytes."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequ.people.ingest import IngestRefused, ingest_file
from shequ.people.models import Batch, BatchStatus, Person, RawRecord
from shequ.people.testing import (
    CLINIC_COLUMNS,
    POLICE_COLUMNS,
    clinic_rows,
    police_rows,
    write_csv,
    write_jsonl,
    write_xlsx,
)

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_names = itertools.count()


def counts():
    return Batch.objects.count(), RawRecord.objects.count(), Person.objects.count()


def check(source: str, path, before) -> None:
    """The property: refused with the file named and nothing written, or imported whole."""
    try:
        result = ingest_file(source, path, link=False)
    except IngestRefused as exc:
        assert path.name in str(exc), str(exc)
        assert counts() == before
        return
    batch = result.batch
    if not result.created:  # the same bytes were imported by an earlier example
        assert counts() == before
        return
    assert batch.status == BatchStatus.DONE
    kept = RawRecord.objects.filter(batch=batch)
    assert kept.count() == batch.rows > 0
    assert counts() == (before[0] + 1, before[1] + batch.rows, before[2])
    assert batch.flagged_rows == kept.filter(flagged=True).count()
    assert len(set(kept.values_list("row", flat=True))) == batch.rows


def valid_bytes(fmt: str, tmp_path) -> bytes:
    path = tmp_path / f"valid-{next(_names)}.{fmt}"
    if fmt == "csv":
        write_csv(path, POLICE_COLUMNS, police_rows())
    elif fmt == "jsonl":
        write_jsonl(path, clinic_rows())
    else:
        write_xlsx(path, CLINIC_COLUMNS, clinic_rows())
    return path.read_bytes()


SOURCE = {"csv": "police_hukou", "jsonl": "clinic", "xlsx": "clinic"}

damage = st.one_of(
    st.tuples(st.just("cut"), st.floats(0, 1)),
    st.tuples(st.just("replace"), st.floats(0, 1), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("noise"), st.binary(max_size=300)),
)


def damaged(data: bytes, how) -> bytes:
    if how[0] == "cut":
        return data[: int(len(data) * how[1])]
    if how[0] == "replace":
        at = int(len(data) * how[1])
        return data[:at] + how[2] + data[at + len(how[2]) :]
    return how[1]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
@PROPERTY
@given(how=damage)
def test_a_damaged_file_is_refused_whole_or_kept_row_by_row(city, tmp_path, fmt, how):
    path = tmp_path / f"f{next(_names)}.{fmt}"
    path.write_bytes(damaged(valid_bytes(fmt, tmp_path), how))
    check(SOURCE[fmt], path, counts())


cell_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=40,
)


@PROPERTY
@given(
    cells=st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from(POLICE_COLUMNS), cell_text),
        min_size=1,
        max_size=8,
    )
)
def test_any_cell_value_is_kept_and_flagged_never_a_crash(city, tmp_path, cells):
    rows = police_rows(prefix=f"H{next(_names)}-")
    for row, column, text in cells:
        rows[row][column] = text
    path = write_csv(tmp_path / f"cells{next(_names)}.csv", POLICE_COLUMNS, rows)
    check("police_hukou", path, counts())
