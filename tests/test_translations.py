"""The Simplified Chinese catalogue is complete, and the committed .mo is compiled from the .po.

There is one catalogue for the whole project, ``src/shequ/locale`` (no app has a ``locale``
directory of its own), and it holds every string the code and templates mark for translation.
To refresh it, from ``src/shequ``::

    ../../.venv/bin/python ../../manage.py makemessages -l zh_Hans -l en \
        --add-location=file --no-obsolete
    ../../.venv/bin/python ../../manage.py compilemessages

A fresh machine has no gettext, so the compiled ``django.mo`` is committed; this test reads both
with the standard library. "Up to date" is checked on content, not on file times (a git checkout
sets arbitrary modification times): every entry of the .po must be in the .mo with the same
translation, and the .mo must hold nothing else. The check that the catalogue covers the code
runs Django's makemessages, which needs GNU gettext (``xgettext``); without it that test is
skipped and says so.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PROJECT = SRC / "shequ"
LOCALE = PROJECT / "locale"
LANGUAGES = ("zh_Hans", "en")
PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.mo"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdrif]|\{(\w*)\}")


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr {index: text}, flags."""
    entries, entry, key = [], None, None

    def finish():
        if entry is not None and (entry["msgid"] or entry["msgstr"]):
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            entry, key = None, None
            continue
        if entry is None:
            entry = {"msgctxt": None, "msgid": "", "msgid_plural": None, "msgstr": {}, "flags": []}
        if line.startswith("#~"):
            entry["obsolete"] = True
            continue
        if line.startswith("#,"):
            entry["flags"] += [f.strip() for f in line[2:].split(",")]
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if match:
            name, index, text = match.groups()
            value = ast.literal_eval(text)
            if name.startswith("msgstr"):
                key = ("msgstr", int(index or 0))
                entry["msgstr"][key[1]] = value
            else:
                key = name
                entry[name] = value
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(key, tuple):
                entry["msgstr"][key[1]] += value
            else:
                entry[key] += value
        else:
            raise ValueError(f"{path}: cannot read line {raw!r}")
    finish()
    return entries


@pytest.fixture(scope="module")
def entries():
    assert PO.exists(), f"{PO} is missing: run makemessages (see docs)"
    found = [e for e in parse_po(PO) if e["msgid"] and not e.get("obsolete")]
    assert len(found) > 100
    return found


def label(entry) -> str:
    return f"{PO.name}: msgid {entry['msgid']!r}"


def test_every_message_has_a_chinese_translation(entries):
    problems = []
    for entry in entries:
        if "fuzzy" in entry["flags"]:
            problems.append(f"{label(entry)} is fuzzy")
        if not entry["msgstr"] or not all(v.strip() for v in entry["msgstr"].values()):
            problems.append(f"{label(entry)} has no translation")
    assert problems == []


def test_translations_keep_the_placeholders(entries):
    problems = []
    for entry in entries:
        wanted = set(PLACEHOLDER.findall(entry["msgid"]))
        if entry["msgid_plural"]:
            wanted |= set(PLACEHOLDER.findall(entry["msgid_plural"]))
        for text in entry["msgstr"].values():
            if set(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"{label(entry)}: placeholders differ in {text!r}")
    assert problems == []


def test_chinese_catalogue_header():
    header = next(e for e in parse_po(PO) if e["msgid"] == "")
    text = header["msgstr"][0]
    assert "Language: zh_Hans" in text
    assert "Plural-Forms: nplurals=1; plural=0;" in text
    assert "charset=UTF-8" in text


def test_compiled_catalogue_matches_the_po(entries):
    assert MO.exists(), f"{MO} is missing: run compilemessages and commit the .mo"
    with MO.open("rb") as handle:
        catalog = dict(gettext.GNUTranslations(handle)._catalog)
    catalog.pop("", None)
    expected = {}
    for entry in entries:
        msgid = entry["msgid"]
        if entry["msgctxt"] is not None:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if entry["msgid_plural"]:
            for index, text in entry["msgstr"].items():
                expected[(msgid, index)] = text
        else:
            expected[msgid] = entry["msgstr"][0]
    stale = sorted(
        str(k) for k in set(expected) | set(catalog) if expected.get(k) != catalog.get(k)
    )
    assert stale == [], f"{MO} is older than {PO}: run compilemessages ({len(stale)} differ)"


def test_pages_speak_chinese_by_default_and_english_on_request():
    from django.utils import translation

    from shequ.core.roles import Role

    with translation.override("zh-hans"):
        assert str(Role.GRID_WORKER.label) == "网格员"
    with translation.override("en"):
        assert str(Role.GRID_WORKER.label) == "Grid worker"


def msgids(path: Path) -> set[tuple]:
    """(msgctxt, msgid, msgid_plural) of every live entry of a .po file, header left out."""
    return {
        (e["msgctxt"], e["msgid"], e["msgid_plural"])
        for e in parse_po(path)
        if e["msgid"] and not e.get("obsolete")
    }


def test_only_the_project_has_a_locale_directory():
    strays = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*")
        if (path.is_dir() and path.name == "locale" and path != LOCALE)
        or (path.suffix in {".po", ".mo"} and LOCALE not in path.parents)
    )
    assert strays == [], (
        f"translations belong in {LOCALE.relative_to(SRC)} only; merge these into it and "
        f"delete them: {strays}"
    )


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The catalogues makemessages writes today from a copy of the code (the tree is untouched)."""
    if shutil.which("xgettext") is None:
        pytest.skip(
            "GNU gettext (xgettext) is not installed, so this machine cannot check that the "
            "catalogue holds every translatable string: apt-get install gettext"
        )
    from django.core.management import call_command

    copy = tmp_path_factory.mktemp("extract") / "shequ"
    shutil.copytree(
        PROJECT,
        copy,
        ignore=shutil.ignore_patterns("locale", "__pycache__", "*.po", "*.mo", "var"),
    )
    (copy / "locale").mkdir()
    mp = pytest.MonkeyPatch()
    mp.chdir(copy)
    try:
        call_command(
            "makemessages", locale=list(LANGUAGES), no_location=True, no_obsolete=True, verbosity=0
        )
    finally:
        mp.undo()
    return {
        lang: msgids(copy / "locale" / lang / "LC_MESSAGES" / "django.po") for lang in LANGUAGES
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogue_holds_every_translatable_string(extracted, lang):
    assert len(extracted[lang]) > 100
    have = msgids(LOCALE / lang / "LC_MESSAGES" / "django.po")
    missing = sorted(extracted[lang] - have, key=lambda m: (m[1], m[0] or ""))
    shown = "\n".join(
        (f"[{ctxt}] " if ctxt else "") + repr(msgid) for ctxt, msgid, _plural in missing[:40]
    )
    assert missing == [], (
        f"{len(missing)} translatable strings are not in the {lang} catalogue; from src/shequ run "
        f"makemessages -l zh_Hans -l en --add-location=file --no-obsolete, translate, "
        f"compilemessages:\n{shown}"
    )
