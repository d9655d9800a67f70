"""Errors whose message reaches people: translated when shown, stable when stored.

``ParseError(gettext_lazy("... %(n)s ..."), n=3)`` keeps the lazy message and its named
parameters apart. ``str(exc)`` renders it in the language active at that moment (the page's or
the API caller's), so a form or an API answer shows it in 简体中文 or English; ``exc.source_text``
renders the source (English) text whatever the language, for values that are stored as data
(ingest flags) rather than shown at once.
"""

from __future__ import annotations

from django.utils import translation


class ParseError(ValueError):
    """A value that cannot be read; the message says what is wrong with it."""

    def __init__(self, message, **params):
        super().__init__(message)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text

    @property
    def source_text(self) -> str:
        with translation.override(None):
            return str(self)
