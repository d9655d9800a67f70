"""Token authentication in one query: the token, its user and the user's role assignments.

DRF's ``TokenAuthentication`` reads the token with its user, and the first scope check then
reads the user's role assignments (``core.scoping.assignments``): two queries, each built by
the ORM, on every API request. Phones syncing visits and the hotline console send many small
requests, where that is a large share of the work. This class reads all three with one
statement (the token joined to its user, left-joined to the assignments) whose SQL is built
once per process, and hands the assignments to the scoping cache of the user object. Nothing
is kept between requests: a revoked token or role takes effect on the next request.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from ..models import RoleAssignment
from ..scoping import remember_assignments


@cache
def _sql(vendor: str) -> tuple[str, list[str], list[tuple]]:
    """The statement, the user's column attnames in the order they are selected, and per
    column the converters the ORM would apply to its values (SQLite's dates come as text)."""
    qn = connection.ops.quote_name
    user_model = get_user_model()
    u, t, a = (
        qn(user_model._meta.db_table),
        qn(Token._meta.db_table),
        qn(RoleAssignment._meta.db_table),
    )
    fields = [f for f in user_model._meta.concrete_fields]
    columns = ", ".join(f"{u}.{qn(f.column)}" for f in fields)
    sql = (
        f"SELECT {columns}, {t}.{qn('created')}, {a}.{qn('role')}, {a}.{qn('area_code')} "
        f"FROM {t} INNER JOIN {u} ON {u}.{qn('id')} = {t}.{qn('user_id')} "
        f"LEFT JOIN {a} ON {a}.{qn('user_id')} = {u}.{qn('id')} "
        f"WHERE {t}.{qn('key')} = %s"
    )
    converters = []
    for f in [*fields, Token._meta.get_field("created")]:
        col = f.get_col(f.model._meta.db_table)
        converters.append(
            (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
        )
    return sql, [f.attname for f in fields], converters


def _convert(row, converters) -> list:
    values = list(row[: len(converters)])
    for i, (col, funcs) in enumerate(converters):
        for func in funcs:
            values[i] = func(values[i], col, connection)
    return values


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``, answered as DRF's class answers it."""

    def authenticate_credentials(self, key):
        sql, attnames, converters = _sql(connection.vendor)
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            rows = cursor.fetchall()
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        n = len(attnames)
        values = _convert(rows[0], converters)
        user = get_user_model().from_db(connection.alias, attnames, values[:n])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = Token(key=key, user=user, created=values[n])
        remember_assignments(user, [(row[n + 1], row[n + 2]) for row in rows if row[n + 1]])
        return user, token
