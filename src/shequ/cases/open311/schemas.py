"""The GeoReport v2 response shapes as JSON Schemas, and the XML structure check.

The tests check every answer of the API against these (``check``). An XML answer is read into
the same structure as its JSON twin, strictly (the root element, the item element of each
list, booleans as true/false, integers, decimals), then validated against the same schema, so
both formats are held to one definition of each response type.
"""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from jsonschema import Draft202012Validator

from .render import ITEM_TAGS

SPEC = "http://wiki.open311.org/GeoReport_v2"
W3C = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$"

STR = {"type": "string"}
NONEMPTY = {"type": "string", "minLength": 1}
OPT_STR = {"type": ["string", "null"]}
WHEN = {"type": "string", "pattern": W3C}
OPT_WHEN = {"type": ["string", "null"], "pattern": W3C}


def _object(properties: dict, required=None) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


DISCOVERY = _object(
    {
        "changeset": WHEN,
        "contact": NONEMPTY,
        "key_service": NONEMPTY,
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": _object(
                {
                    "specification": {"const": SPEC},
                    "url": {"type": "string", "pattern": r"^https?://"},
                    "changeset": WHEN,
                    "type": {"enum": ["production", "test"]},
                    "formats": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"enum": ["application/json", "text/xml"]},
                    },
                }
            ),
        },
    }
)

SERVICE = _object(
    {
        "service_code": NONEMPTY,
        "service_name": NONEMPTY,
        "description": OPT_STR,
        "metadata": {"type": "boolean"},
        "type": {"enum": ["realtime", "batch", "blackbox"]},
        "keywords": OPT_STR,
        "group": OPT_STR,
    }
)
SERVICES = {"type": "array", "items": SERVICE}

VALUE = _object({"key": NONEMPTY, "name": NONEMPTY})
LISTS = ["singlevaluelist", "multivaluelist"]
ATTRIBUTE = {
    **_object(
        {
            "variable": {"type": "boolean"},
            "code": NONEMPTY,
            "datatype": {"enum": ["string", "number", "datetime", "text", *LISTS]},
            "required": {"type": "boolean"},
            "datatype_description": OPT_STR,
            "order": {"type": "integer", "minimum": 0},
            "description": NONEMPTY,
            "values": {"type": "array", "items": VALUE},
        },
        required=[
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
        ],
    ),
    # List datatypes carry their values (at least one); the others carry none.
    "if": {"properties": {"datatype": {"enum": LISTS}}},
    "then": {"required": ["values"], "properties": {"values": {"minItems": 1}}},
    "else": {"not": {"required": ["values"]}},
}
SERVICE_DEFINITION = _object(
    {"service_code": NONEMPTY, "attributes": {"type": "array", "items": ATTRIBUTE}}
)

REQUEST = _object(
    {
        "service_request_id": NONEMPTY,
        "status": {"enum": ["open", "closed"]},
        "status_notes": OPT_STR,
        "service_name": OPT_STR,
        "service_code": OPT_STR,
        "description": OPT_STR,
        "agency_responsible": OPT_STR,
        "service_notice": OPT_STR,
        "requested_datetime": WHEN,
        "updated_datetime": OPT_WHEN,
        "expected_datetime": OPT_WHEN,
        "address": OPT_STR,
        "address_id": OPT_STR,
        "zipcode": OPT_STR,
        "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "long": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
        "media_url": {"type": ["string", "null"], "pattern": r"^https?://"},
    }
)
REQUESTS = {"type": "array", "maxItems": 1000, "items": REQUEST}

CREATED = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        **_object(
            {
                "service_request_id": NONEMPTY,
                "token": NONEMPTY,
                "service_notice": OPT_STR,
                "account_id": OPT_STR,
            },
            required=["service_notice", "account_id"],
        ),
        "anyOf": [{"required": ["service_request_id"]}, {"required": ["token"]}],
    },
}
TOKEN = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": _object({"service_request_id": NONEMPTY, "token": NONEMPTY}),
}
ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": _object({"code": {"type": "integer"}, "description": NONEMPTY}),
}

# kind: (schema, XML root element)
KINDS = {
    "discovery": (DISCOVERY, "discovery"),
    "services": (SERVICES, "services"),
    "service_definition": (SERVICE_DEFINITION, "service_definition"),
    "requests": (REQUESTS, "service_requests"),
    "created": (CREATED, "service_requests"),
    "token": (TOKEN, "service_requests"),
    "errors": (ERRORS, "errors"),
}
BOOL_TAGS = {"metadata", "variable", "required"}
INT_TAGS = {"order", "code"}  # "code" is an integer only inside <error>
FLOAT_TAGS = {"lat", "long"}


class StructureError(AssertionError):
    pass


def _leaf(element: ET.Element, parent_tag: str):
    text = element.text or ""
    tag = element.tag
    if text.strip() == "":
        if tag in BOOL_TAGS | FLOAT_TAGS or (tag == "code" and parent_tag == "error"):
            raise StructureError(f"<{tag}> is empty")
        return None
    if tag in BOOL_TAGS:
        if text not in ("true", "false"):
            raise StructureError(f"<{tag}> must be true or false, not {text!r}")
        return text == "true"
    if tag == "order" or (tag == "code" and parent_tag == "error"):
        try:
            return int(text)
        except ValueError as exc:
            raise StructureError(f"<{tag}> must be an integer, not {text!r}") from exc
    if tag in FLOAT_TAGS:
        try:
            return float(text)
        except ValueError as exc:
            raise StructureError(f"<{tag}> must be a number, not {text!r}") from exc
    return text


def _read(element: ET.Element, parent_tag: str = ""):
    children = list(element)
    if element.tag in ITEM_TAGS:
        item_tag = ITEM_TAGS[element.tag]
        for child in children:
            if child.tag != item_tag:
                raise StructureError(f"<{element.tag}> holds <{child.tag}>, not <{item_tag}>")
        return [_read(child, element.tag) for child in children]
    if not children:
        return _leaf(element, parent_tag)
    out: dict = {}
    for child in children:
        if child.tag in out:
            raise StructureError(f"<{element.tag}> repeats <{child.tag}>")
        out[child.tag] = _read(child, element.tag)
    return out


def parse_xml(body: bytes, root: str):
    element = ET.fromstring(body)
    if element.tag != root:
        raise StructureError(f"root element is <{element.tag}>, expected <{root}>")
    return _read(element)


def check(kind: str, fmt: str, body: bytes, content_type: str = ""):
    """The answer's data after checking it against the schema of ``kind``; raises otherwise."""
    schema, root = KINDS[kind]
    if fmt == "xml":
        if content_type and not content_type.startswith("text/xml"):
            raise StructureError(f"content type {content_type}")
        if not body.startswith(b"<?xml"):
            raise StructureError("no XML declaration")
        data = parse_xml(body, root)
    else:
        if content_type and not content_type.startswith("application/json"):
            raise StructureError(f"content type {content_type}")
        data = json.loads(body)
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        raise StructureError("; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5]))
    return data
