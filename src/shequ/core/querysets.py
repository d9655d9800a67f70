from django.db import models

from .scoping import scope_q, user_holds


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(f"{self.model.__name__} rows are append-only")

    def delete(self):
        raise PermissionError(f"{self.model.__name__} rows are append-only")


class ScopedQuerySet(models.QuerySet):
    """The one way to list or fetch scoped rows (NetBox's RestrictedQuerySet).

    ``Model.objects.for_user(user, "view")`` keeps the rows whose ``scope_field`` lies under
    one of the areas where the user holds ``<app>.view_<model>``. Nothing else widens it:
    neither ``is_superuser`` nor ``is_staff``.
    """

    def for_user(self, user, action: str):
        perm = self.model.perm(action)
        q = scope_q(user, perm, self.model.scope_field, self.model)
        if q is None:
            return self.none()
        return self.filter(q)

    def under(self, code: str):
        """Everything under one area: one indexed prefix query."""
        return self.filter(**{f"{self.model.scope_field}__startswith": code})


class ScopedModel(models.Model):
    """A row that belongs somewhere: it carries the code of the deepest area it belongs to."""

    scope_field = "area_code"
    # Related models may share one model's permissions ("case" for Case, CaseEvent ...).
    perm_model: str | None = None

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def perm(cls, action: str) -> str:
        return f"{cls._meta.app_label}.{action}_{cls.perm_model or cls._meta.model_name}"

    @classmethod
    def role_scope(cls, role: str, user):
        """A further condition for one role within its areas (a Q), or None for none."""
        return None

    @classmethod
    def user_may(cls, user, action: str) -> bool:
        """Whether the user holds the permission anywhere (decides 403 before scope's 404)."""
        return user_holds(user, cls.perm(action))

    def in_scope_of(self, user, action: str) -> bool:
        return type(self).objects.for_user(user, action).filter(pk=self.pk).exists()
