"""Code tables (统一数据格式): national standards rather than codes of our own."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):  # GB/T 2261.1-2003
    UNKNOWN = "0", _("Unknown")
    MALE = "1", _("Male")
    FEMALE = "2", _("Female")
    UNSPECIFIED = "9", _("Unspecified")


class ResidentType(models.TextChoices):
    REGISTERED = "registered", _("Registered resident (户籍常住)")
    FLOATING = "floating", _("Floating population (流动人口)")
    FOREIGN = "foreign", _("Foreign resident (境外)")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID card (GB 11643)")
    FOREIGN_PERMANENT = "foreign_permanent", _("Foreigner's permanent residence ID")
    PASSPORT = "passport", _("Passport")
    OTHER = "other", _("Other")


class ResidenceKind(models.TextChoices):
    REGISTERED = "registered", _("Registered (户籍)")
    LIVING = "living", _("Living (居住)")
    FLOATING = "floating", _("Floating (流动)")


class Relation(models.TextChoices):  # GB/T 4761-2008, relation to the head of household
    HEAD = "02", _("Head of household")
    SPOUSE = "10", _("Spouse")
    SON = "20", _("Son")
    DAUGHTER = "30", _("Daughter")
    GRANDCHILD = "40", _("Grandchild")
    FATHER = "51", _("Father")
    MOTHER = "52", _("Mother")
    GRANDPARENT = "60", _("Grandparent")
    SIBLING = "70", _("Sibling")
    OTHER_RELATIVE = "80", _("Other relative")
    NON_RELATIVE = "99", _("Non-relative")
