"""Account endpoints of the API (tokens)."""

urlpatterns: list = []
