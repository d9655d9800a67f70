import copy

import pytest
from django.core.exceptions import ValidationError

from shequ.campaigns import formschema
from shequ.campaigns.formschema import DEFAULT_FORM, FormError, clean_answers, validate_schema

BASE = {
    "temperature": 36.6,
    "came_from_outside": False,
    "people_home": 2,
    "elderly_alone": False,
    "disability_needs_help": False,
}


def test_the_default_form_is_valid():
    assert validate_schema(DEFAULT_FORM) is DEFAULT_FORM


def test_travel_history_is_asked_only_if_someone_came_from_outside():
    asked = [q["id"] for q in formschema.asked(DEFAULT_FORM, BASE)]
    assert "travel_from" not in asked
    asked = [q["id"] for q in formschema.asked(DEFAULT_FORM, {**BASE, "came_from_outside": True})]
    assert "travel_from" in asked and "arrived_on" in asked
    # Required only when asked; an answer to a question not asked is dropped.
    assert clean_answers(DEFAULT_FORM, {**BASE, "travel_from": "武汉"}) == BASE
    with pytest.raises(ValidationError) as exc:
        clean_answers(DEFAULT_FORM, {**BASE, "came_from_outside": True})
    assert exc.value.message_dict == {"travel_from": ["This question is required."]}
    cleaned = clean_answers(
        DEFAULT_FORM,
        {**BASE, "came_from_outside": "yes", "travel_from": " 武汉 ", "arrived_on": "2020-02-01"},
    )
    assert cleaned["came_from_outside"] is True
    assert cleaned["travel_from"] == "武汉"
    assert cleaned["arrived_on"] == "2020-02-01"


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("temperature", 45, "Between 34.0 and 43.0."),
        ("temperature", "hot", "A number."),
        ("people_home", 31, "Between 0 and 30."),
        ("people_home", True, "A number."),
        ("elderly_alone", "maybe", "Answer yes or no."),
        ("symptoms", ["cough", "headache"], "Choose among: cough, fatigue, sore_throat."),
        ("people_home", None, "This question is required."),
    ],
)
def test_answers_are_checked_by_type_and_range(question, value, message):
    with pytest.raises(ValidationError) as exc:
        clean_answers(DEFAULT_FORM, {**BASE, question: value})
    assert exc.value.message_dict == {question: [message]}


def test_numbers_and_temperatures_are_cleaned():
    cleaned = clean_answers(DEFAULT_FORM, {**BASE, "temperature": "37.25", "people_home": "3"})
    assert cleaned["temperature"] == 37.2 or cleaned["temperature"] == 37.3
    assert cleaned["people_home"] == 3
    assert clean_answers(DEFAULT_FORM, {**BASE, "symptoms": ["cough"]})["symptoms"] == ["cough"]


def _form(*questions):
    return {"questions": list(questions)}


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({}, "A form is an object with a list of questions."),
        (_form({"id": "A", "type": "text", "label": "x"}), "questions[0].id"),
        (_form({"id": "a", "type": "colour", "label": "x"}), "questions[0] (a).type"),
        (_form({"id": "a", "type": "choice", "label": "x"}), "questions[0] (a).options"),
        (
            _form({"id": "a", "type": "number", "label": "x", "min": 5, "max": 1}),
            "min is above max",
        ),
        (
            _form(
                {"id": "a", "type": "text", "label": "x", "when": {"question": "b", "equals": 1}},
                {"id": "b", "type": "yesno", "label": "y"},
            ),
            "not an earlier question",
        ),
        (
            _form(
                {"id": "a", "type": "yesno", "label": "x"},
                {"id": "a", "type": "yesno", "label": "x"},
            ),
            "used twice",
        ),
    ],
)
def test_bad_forms_are_refused_naming_the_question_and_field(schema, message):
    with pytest.raises(FormError) as exc:
        validate_schema(schema)
    assert message in exc.value.messages[0]


def test_combined_conditions():
    schema = copy.deepcopy(
        _form(
            {"id": "fever", "type": "temperature", "label": "t"},
            {"id": "outside", "type": "yesno", "label": "o"},
            {
                "id": "isolate",
                "type": "yesno",
                "label": "i",
                "required": True,
                "when": {
                    "any": [
                        {"question": "fever", "gte": 37.3},
                        {"question": "outside", "equals": True},
                    ]
                },
            },
        )
    )
    validate_schema(schema)
    assert clean_answers(schema, {"fever": 36.5, "outside": False}) == {
        "fever": 36.5,
        "outside": False,
    }
    with pytest.raises(ValidationError):
        clean_answers(schema, {"fever": 37.5, "outside": False})
    with pytest.raises(ValidationError):
        clean_answers(schema, {"fever": 36.5, "outside": True})
