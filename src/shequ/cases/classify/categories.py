"""The top-level sectors (一级分类) of the message-board taxonomy, with stable codes.

The 15 sectors are the first level of the three-level tree used by Chinese government message
boards and 12345 hotlines (劳动和社会保障, 城乡建设, 教育文体 ...). The classifier predicts one of
these codes; the cases app keys its ``Category`` rows on the same codes, so a suggestion can be
turned into a category without a lookup table. Codes never change once published: rename the
display names freely, never the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _


@dataclass(frozen=True)
class Sector:
    code: str
    name_zh: str  # the taxonomy's own label, used to read labelled files
    english: str  # English source name (marked for translation)

    @property
    def name_en(self) -> str:
        return gettext(self.english) if translation.get_language() else self.english

    @property
    def name(self) -> str:
        """The name in the active language: the taxonomy's Chinese label, else English."""
        language = translation.get_language() or "zh-hans"
        return self.name_zh if language.lower().startswith("zh") else self.name_en

    def __str__(self) -> str:
        return self.name


SECTORS: tuple[Sector, ...] = (
    Sector("labour", "劳动和社会保障", _("Labour and social security")),
    Sector("urban_rural", "城乡建设", _("Urban and rural construction")),
    Sector("education", "教育文体", _("Education, culture and sports")),
    Sector("health", "卫生计生", _("Health and family planning")),
    Sector("transport", "交通运输", _("Transport")),
    Sector("commerce", "商贸旅游", _("Commerce and tourism")),
    Sector("environment", "环境保护", _("Environmental protection")),
    Sector("agriculture", "农村农业", _("Agriculture and rural affairs")),
    Sector("legal", "政法", _("Public security and justice")),
    Sector("civil_affairs", "民政", _("Civil affairs")),
    Sector("government", "党务政务", _("Party and government affairs")),
    Sector("economy", "经济管理", _("Economic management")),
    Sector("discipline", "纪检监察", _("Discipline inspection and supervision")),
    Sector("land", "国土资源", _("Land and resources")),
    Sector("technology", "科技与信息产业", _("Science, technology and IT")),
)

CODES: tuple[str, ...] = tuple(s.code for s in SECTORS)
BY_CODE: dict[str, Sector] = {s.code: s for s in SECTORS}
_BY_LABEL: dict[str, str] = {}
for _sector in SECTORS:
    _BY_LABEL[_sector.code] = _sector.code
    _BY_LABEL[_sector.name_zh] = _sector.code
    _BY_LABEL[_sector.english.casefold()] = _sector.code


def code_for_label(label: str) -> str | None:
    """The sector code for a label written as a code, the Chinese name or the English name."""
    label = (label or "").strip()
    if not label:
        return None
    return _BY_LABEL.get(label) or _BY_LABEL.get(label.casefold())


def choices() -> list[tuple[str, str]]:
    """(code, name) pairs for forms and model fields, in the active language."""
    return [(s.code, s.name) for s in SECTORS]
