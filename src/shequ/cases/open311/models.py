"""API clients, service attributes per category, and the Open311 side of each request.

* ``ApiClient``: an organisation allowed to POST requests. Only a SHA-256 hash of its key is
  stored (the key is shown once, when issued: ``shequ open311_key``); each client has its own
  rate limit.
* ``Service``: optional Open311 settings of a category (description, published or not); a
  category without one is published with its name as the description.
* ``ServiceAttribute``: the questions of a service definition (``services/{code}.json``).
* ``Open311Request``: what came with a request besides the case itself: the client, a
  token for ``tokens/{token}``, media_url, device and account ids, the attribute answers. It is
  never shown on the public GET endpoints except ``media_url`` and the submitted description.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(16)


class ApiClient(models.Model):
    name = models.CharField(_("name"), max_length=100)
    contact = models.CharField(
        _("contact"), max_length=200, blank=True, help_text=_("Who to call about this client.")
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    active = models.BooleanField(_("active"), default=True)
    max_per_minute = models.PositiveIntegerField(
        _("requests per minute"),
        default=60,
        help_text=_("POST requests accepted per minute with this key; more answer 429."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 API client")
        verbose_name_plural = _("Open311 API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def issue(cls, name: str, **fields) -> tuple[ApiClient, str]:
        """A new client and its key in plain text (shown once, never stored)."""
        key = secrets.token_urlsafe(24)
        client = cls.objects.create(name=name, key_hash=hash_key(key), key_prefix=key[:8], **fields)
        return client, key

    @classmethod
    def by_key(cls, key: str) -> ApiClient | None:
        if not key or len(key) > 200:
            return None
        return cls.objects.filter(key_hash=hash_key(key), active=True).first()


class ServiceType(models.TextChoices):
    REALTIME = "realtime", "realtime"
    BATCH = "batch", "batch"
    BLACKBOX = "blackbox", "blackbox"


class Service(models.Model):
    category = models.OneToOneField(
        "cases.Category", on_delete=models.CASCADE, related_name="open311_service"
    )
    description = models.CharField(_("description"), max_length=400, blank=True)
    description_en = models.CharField(_("English description"), max_length=400, blank=True)
    type = models.CharField(
        _("type"), max_length=10, choices=ServiceType.choices, default=ServiceType.REALTIME
    )
    published = models.BooleanField(
        _("published"), default=True, help_text=_("Listed in services.json and accepted by POST.")
    )

    class Meta:
        verbose_name = _("Open311 service")
        verbose_name_plural = _("Open311 services")

    def __str__(self) -> str:
        return str(self.category)


class Datatype(models.TextChoices):
    STRING = "string", _("string (one line)")
    NUMBER = "number", _("number")
    DATETIME = "datetime", _("date and time")
    TEXT = "text", _("text (several lines)")
    SINGLEVALUELIST = "singlevaluelist", _("one value from a list")
    MULTIVALUELIST = "multivaluelist", _("values from a list")


class ServiceAttribute(models.Model):
    category = models.ForeignKey(
        "cases.Category", on_delete=models.CASCADE, related_name="open311_attributes"
    )
    code = models.SlugField(_("code"), max_length=40)
    variable = models.BooleanField(
        _("asks for input"),
        default=True,
        help_text=_("Unticked: the attribute only shows information to the user."),
    )
    datatype = models.CharField(_("datatype"), max_length=16, choices=Datatype.choices)
    required = models.BooleanField(_("required"), default=False)
    datatype_description = models.CharField(_("datatype description"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    description = models.CharField(_("question"), max_length=400)
    description_en = models.CharField(_("English question"), max_length=400, blank=True)
    values = models.JSONField(
        _("values"),
        default=list,
        blank=True,
        help_text=_('For list datatypes: [{"key": "...", "name": "..."}, ...]'),
    )

    class Meta:
        verbose_name = _("Open311 service attribute")
        verbose_name_plural = _("Open311 service attributes")
        ordering = ["category", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="unique_open311_attribute")
        ]

    def __str__(self) -> str:
        return f"{self.category.code}:{self.code}"

    @property
    def is_list(self) -> bool:
        return self.datatype in (Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST)

    def value_keys(self) -> list[str]:
        return [str(v.get("key")) for v in self.values or [] if isinstance(v, dict)]


class Open311Request(models.Model):
    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, related_name="open311_request"
    )
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="requests")
    token = models.CharField(max_length=40, unique=True, default=new_token)
    description = models.TextField(blank=True)
    media_url = models.URLField(max_length=500, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.case_id} via {self.client_id}"
