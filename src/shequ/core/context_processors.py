from .scoping import assignments


def shequ(request):
    user = getattr(request, "user", None)
    return {"user_assignments": assignments(user) if user is not None else []}
