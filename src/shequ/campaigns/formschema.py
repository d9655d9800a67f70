"""Visit forms defined as data.

A form is ``{"questions": [question, ...]}``; a question::

    {"id": "temperature", "type": "temperature", "required": true,
     "label": {"zh-hans": "体温", "en": "Temperature"},
     "min": 34, "max": 43,                      # number and temperature
     "options": [{"value": "cough", "label": {...}}], "multiple": false,   # choice
     "max_length": 200,                         # text
     "when": {"question": "came_from_outside", "equals": true},   # ask only if ...
     "tag": "fever"}                            # what the follow-up rules look at

Types: ``yesno``, ``choice``, ``number``, ``text``, ``temperature`` (°C, one decimal),
``date`` (YYYY-MM-DD). A condition names an *earlier* question and one of ``equals``, ``in``
(a list), ``gte`` or ``lte``; ``{"all": [cond, ...]}`` and ``{"any": [...]}`` combine them.
A question whose condition is not met is not asked: it may not be required and its answer,
if the phone sent one, is dropped.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

TYPES = ("yesno", "choice", "number", "text", "temperature", "date")
TAGS = ("fever", "travel", "elderly_alone", "disability")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TEMPERATURE_RANGE = (34.0, 43.0)


def _label(text_zh: str, text_en: str) -> dict:
    return {"zh-hans": text_zh, "en": text_en}


DEFAULT_FORM = {
    "questions": [
        {
            "id": "temperature",
            "type": "temperature",
            "required": True,
            "label": _label("体温（°C）", "Body temperature (°C)"),
            "tag": "fever",
        },
        {
            "id": "symptoms",
            "type": "choice",
            "multiple": True,
            "required": False,
            "label": _label("症状", "Symptoms"),
            "options": [
                {"value": "cough", "label": _label("咳嗽", "Cough")},
                {"value": "fatigue", "label": _label("乏力", "Fatigue")},
                {"value": "sore_throat", "label": _label("咽痛", "Sore throat")},
            ],
        },
        {
            "id": "came_from_outside",
            "type": "yesno",
            "required": True,
            "label": _label("近14天是否有人从外地来蓉/返蓉", "Anyone came from outside in 14 days"),
            "tag": "travel",
        },
        {
            "id": "travel_from",
            "type": "text",
            "required": True,
            "max_length": 100,
            "label": _label("从何地来", "Came from where"),
            "when": {"question": "came_from_outside", "equals": True},
        },
        {
            "id": "arrived_on",
            "type": "date",
            "required": False,
            "label": _label("抵达日期", "Arrived on"),
            "when": {"question": "came_from_outside", "equals": True},
        },
        {
            "id": "people_home",
            "type": "number",
            "required": True,
            "min": 0,
            "max": 30,
            "label": _label("实际居住人数", "People actually living here"),
        },
        {
            "id": "elderly_alone",
            "type": "yesno",
            "required": True,
            "label": _label("是否有独居老人", "An elderly person living alone"),
            "tag": "elderly_alone",
        },
        {
            "id": "disability_needs_help",
            "type": "yesno",
            "required": True,
            "label": _label("是否有需要帮助的残疾人", "A person with a disability needing help"),
            "tag": "disability",
        },
    ]
}


class FormError(ValidationError):
    pass


def _check_condition(cond, earlier: dict, where: str) -> None:
    if not isinstance(cond, dict):
        raise FormError(_("%(where)s: a condition is an object.") % {"where": where})
    for combinator in ("all", "any"):
        if combinator in cond:
            parts = cond[combinator]
            if not isinstance(parts, list) or not parts:
                raise FormError(
                    _("%(where)s: '%(c)s' needs a list of conditions.")
                    % {"where": where, "c": combinator}
                )
            for part in parts:
                _check_condition(part, earlier, where)
            return
    ref = cond.get("question")
    if ref not in earlier:
        raise FormError(
            _("%(where)s: the condition refers to '%(ref)s', which is not an earlier question.")
            % {"where": where, "ref": ref}
        )
    ops = [op for op in ("equals", "in", "gte", "lte") if op in cond]
    if len(ops) != 1:
        raise FormError(
            _("%(where)s: a condition has exactly one of equals, in, gte, lte.") % {"where": where}
        )
    if ops[0] == "in" and not isinstance(cond["in"], list):
        raise FormError(_("%(where)s: 'in' needs a list.") % {"where": where})


def validate_schema(schema) -> dict:
    """Check a form definition; raise ``FormError`` naming the question and the field."""
    if not isinstance(schema, dict) or not isinstance(schema.get("questions"), list):
        raise FormError(_("A form is an object with a list of questions."))
    if not schema["questions"]:
        raise FormError(_("A form needs at least one question."))
    seen: dict[str, dict] = {}
    for i, q in enumerate(schema["questions"]):
        where = f"questions[{i}]"
        if not isinstance(q, dict):
            raise FormError(_("%(where)s: a question is an object.") % {"where": where})
        qid = q.get("id")
        if not isinstance(qid, str) or not _ID.match(qid):
            raise FormError(
                _("%(where)s.id: lower-case letters, digits and _ (e.g. travel_from).")
                % {"where": where}
            )
        where = f"questions[{i}] ({qid})"
        if qid in seen:
            raise FormError(_("%(where)s.id: used twice.") % {"where": where})
        qtype = q.get("type")
        if qtype not in TYPES:
            raise FormError(
                _("%(where)s.type: one of %(types)s.") % {"where": where, "types": ", ".join(TYPES)}
            )
        label = q.get("label")
        if not (isinstance(label, str) and label) and not (
            isinstance(label, dict) and label and all(isinstance(v, str) for v in label.values())
        ):
            raise FormError(_("%(where)s.label: a text, or texts by language.") % {"where": where})
        if qtype == "choice":
            options = q.get("options")
            if not isinstance(options, list) or not options:
                raise FormError(_("%(where)s.options: a choice needs options.") % {"where": where})
            values = [o.get("value") if isinstance(o, dict) else None for o in options]
            if any(not isinstance(v, str) or not v for v in values) or len(set(values)) != len(
                values
            ):
                raise FormError(
                    _("%(where)s.options: each option has its own text value.") % {"where": where}
                )
        if qtype in ("number", "temperature"):
            lo, hi = q.get("min"), q.get("max")
            for key, bound in (("min", lo), ("max", hi)):
                if bound is not None and (
                    isinstance(bound, bool) or not isinstance(bound, int | float)
                ):
                    raise FormError(
                        _("%(where)s.%(key)s: a number.") % {"where": where, "key": key}
                    )
            if lo is not None and hi is not None and lo > hi:
                raise FormError(_("%(where)s: min is above max.") % {"where": where})
        if "tag" in q and q["tag"] not in TAGS:
            raise FormError(
                _("%(where)s.tag: one of %(tags)s.") % {"where": where, "tags": ", ".join(TAGS)}
            )
        if "when" in q:
            _check_condition(q["when"], seen, where + ".when")
        seen[qid] = q
    return schema


def _holds(cond, answers: dict) -> bool:
    if "all" in cond:
        return all(_holds(c, answers) for c in cond["all"])
    if "any" in cond:
        return any(_holds(c, answers) for c in cond["any"])
    value = answers.get(cond["question"])
    if value is None:
        return False
    if "equals" in cond:
        if isinstance(value, list):
            return cond["equals"] in value
        return value == cond["equals"]
    if "in" in cond:
        if isinstance(value, list):
            return any(v in cond["in"] for v in value)
        return value in cond["in"]
    try:
        if "gte" in cond:
            return float(value) >= float(cond["gte"])
        return float(value) <= float(cond["lte"])
    except (TypeError, ValueError):
        return False


def asked(schema: dict, answers: dict) -> list[dict]:
    """The questions that are asked given these answers (conditions only look back)."""
    shown, cleaned = [], {}
    for q in schema["questions"]:
        if "when" in q and not _holds(q["when"], cleaned):
            continue
        shown.append(q)
        if q["id"] in answers:
            cleaned[q["id"]] = answers[q["id"]]
    return shown


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def _clean_value(q: dict, value):
    qtype = q["type"]
    if qtype == "yesno":
        if isinstance(value, bool):
            return value
        if value in ("yes", "true", "1", 1):
            return True
        if value in ("no", "false", "0", 0):
            return False
        raise ValueError(_("Answer yes or no."))
    if qtype == "choice":
        allowed = [o["value"] for o in q["options"]]
        values = value if isinstance(value, list) else [value]
        if not q.get("multiple") and len(values) != 1:
            raise ValueError(_("Choose one."))
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValueError(
                _("Choose among: %(allowed)s.") % {"allowed": ", ".join(map(str, allowed))}
            )
        return values if q.get("multiple") else values[0]
    if qtype in ("number", "temperature"):
        if isinstance(value, bool):
            raise ValueError(_("A number."))
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(_("A number.")) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(_("A number."))
        lo, hi = q.get("min"), q.get("max")
        if qtype == "temperature":
            lo = TEMPERATURE_RANGE[0] if lo is None else lo
            hi = TEMPERATURE_RANGE[1] if hi is None else hi
            number = round(number, 1)
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise ValueError(_("Between %(lo)s and %(hi)s.") % {"lo": lo, "hi": hi})
        if qtype == "number" and number == int(number):
            return int(number)
        return number
    if qtype == "text":
        if not isinstance(value, str):
            raise ValueError(_("A text."))
        value = value.strip()
        limit = q.get("max_length", 500)
        if len(value) > limit:
            raise ValueError(_("At most %(n)s characters.") % {"n": limit})
        return value
    if qtype == "date":
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(_("A date as YYYY-MM-DD.")) from None
    raise ValueError(qtype)  # pragma: no cover - validate_schema admits only TYPES


def clean_answers(schema: dict, answers) -> dict:
    """The answers to the questions asked, cleaned; ``ValidationError({question: [msg]})``.

    Answers to questions that were not asked (their condition failed) or that the form does
    not have are dropped.
    """
    if not isinstance(answers, dict):
        raise ValidationError({"answers": [_("Answers are an object by question.")]})
    cleaned: dict = {}
    errors: dict[str, list[str]] = {}
    for q in schema["questions"]:
        if "when" in q and not _holds(q["when"], cleaned):
            continue
        value = answers.get(q["id"])
        if _empty(value):
            if q.get("required"):
                errors[q["id"]] = [_("This question is required.")]
            continue
        try:
            cleaned[q["id"]] = _clean_value(q, value)
        except ValueError as exc:
            errors[q["id"]] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return cleaned


def label(q_or_option: dict, language: str) -> str:
    text = q_or_option.get("label", "")
    if isinstance(text, str):
        return text
    lang = "en" if (language or "").startswith("en") else "zh-hans"
    return text.get(lang) or next(iter(text.values()), "")
