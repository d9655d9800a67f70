"""Area-code scoping: who may do what, where. ``for_user`` on every scoped queryset calls this."""

from django.db.models import Q

from .roles import role_grants

_CACHE_ATTR = "_shequ_assignments"


def assignments(user) -> list[tuple[str, str]]:
    """(role, area_code) pairs of the user, loaded once per user object (one query)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(user.assignments.values_list("role", "area_code"))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def remember_assignments(user, pairs: list[tuple[str, str]]) -> None:
    """Give the user object its (role, area_code) pairs, read with the user (one query)."""
    setattr(user, _CACHE_ATTR, list(pairs))


def forget_assignments(user) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def minimal_prefixes(codes) -> list[str]:
    """Drop codes already covered by a shorter one: {'5101', '510104'} -> ['5101']."""
    result: list[str] = []
    for code in sorted(set(codes), key=lambda c: (len(c), c)):
        if not any(code.startswith(kept) for kept in result):
            result.append(code)
    return sorted(result)


def scope_codes(user, perm: str) -> list[str]:
    """The area codes under which ``user`` holds ``perm``."""
    return minimal_prefixes(code for role, code in assignments(user) if role_grants(role, perm))


def user_holds(user, perm: str) -> bool:
    return any(role_grants(role, perm) for role, _code in assignments(user))


def scope_q(user, perm: str, field: str = "area_code", model=None) -> Q | None:
    """A filter for the rows under the user's areas for ``perm``; None when there are none.

    Per role, the area condition may be narrowed by the model's ``role_scope(role, user)``
    (e.g. a department handler sees only the cases of their own departments).
    """
    by_role: dict[str, list[str]] = {}
    for role, code in assignments(user):
        if role_grants(role, perm):
            by_role.setdefault(role, []).append(code)
    if not by_role:
        return None
    q = Q()
    for role, codes in sorted(by_role.items()):
        area_q = Q()
        for code in minimal_prefixes(codes):
            area_q |= Q(**{f"{field}__startswith": code})
        extra = model.role_scope(role, user) if model is not None else None
        q |= area_q & extra if extra is not None else area_q
    return q


def code_in_scope(user, perm: str, area_code: str) -> bool:
    return any(area_code.startswith(code) for code in scope_codes(user, perm))
