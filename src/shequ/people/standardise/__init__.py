"""Standardisation of raw source records: names, ID numbers, phones, dates, ages, addresses.

The parsers are pure functions (no database); :class:`Standardiser` applies a source
definition to a raw row and returns a :class:`StandardRecord`.
"""

from .addresses import Address, parse_address, parse_spec
from .dates import DateError, birth_range_from_age, parse_age, parse_date
from .geography import Geography
from .names import Name, parse_name
from .numerals import replace_numbers, to_int
from .records import Standardiser, StandardRecord

__all__ = [
    "Address",
    "DateError",
    "Geography",
    "Name",
    "StandardRecord",
    "Standardiser",
    "birth_range_from_age",
    "parse_address",
    "parse_age",
    "parse_date",
    "parse_name",
    "parse_spec",
    "replace_numbers",
    "to_int",
]
