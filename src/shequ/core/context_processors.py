from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .roles import role_grants
from .scoping import assignments
from .twofactor import role_may_reveal

# The header's links to the pages that are not reached by drilling down an area:
# (url name, label, permission the user must hold somewhere; None: any signed-in user
# whose role may reveal personal data, for whom two-factor sign-in is set up).
HEADER_LINKS = (
    ("governance:audit", _("Audit trail"), "governance.view_auditevent"),
    ("governance:exports", _("Export requests"), "governance.view_exportrequest"),
    ("two_factor", _("Two-factor sign-in"), None),
)


def shequ(request):
    user = getattr(request, "user", None)
    held = assignments(user) if user is not None else []
    links = []
    if held:
        roles = {role for role, _code in held}
        for name, label, perm in HEADER_LINKS:
            if perm is None:
                shown = any(role_may_reveal(role) for role in roles)
            else:
                shown = any(role_grants(role, perm) for role in roles)
            if shown:
                links.append({"url": reverse(name), "label": label})
    return {"user_assignments": held, "header_links": links}
