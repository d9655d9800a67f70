"""Personal names: clean forms and comparison keys.

A name arrives as typed by a clerk: with spaces or full-width letters, in traditional characters,
in pinyin (``WANG XIAOMING``, ``wang xiao ming``, ``Xiaoming Wang``; ü written v, u or yu), as a
foreigner's Latin-script name (``SMITH JOHN``, ``SMITH/JOHN``), as a minority or
transliterated name with a middle dot (``曲比·日哈``), or only as a surname and a title
(``刘女士``, ``Mr. Wilson``).

``parse_name`` turns any of these into a :class:`Name` with

* ``text``: the cleaned name (simplified characters, no spaces; Latin in upper case),
* ``surname`` / ``given``: split with the compound-surname list (欧阳, 司马 …),
* ``key``: a toneless pinyin key with the surname read as a surname (单 shan, 曾 zeng, 解 xie),
  ü folded into u, so that homophones, traditional characters and pinyin spellings meet,
* ``fuzzy_key``: the key with the sound distinctions Sichuan speakers (and tired typists) merge
  (n/l, f/h, zh/z, ch/c, sh/s, -ng/-n, r/l) folded,
* ``kind``: ``han``, ``latin``, ``title`` (surname + title only) or ``blank``,
* ``sex_hint``: from a title (先生 -> 1, 女士 -> 2), otherwise empty.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

try:  # zhconv is a dependency; keep the module importable for the type checker without it
    from zhconv import convert as _zhconv
except ImportError:  # pragma: no cover
    _zhconv = None

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
DOTS = re.compile(r"[·•・‧∙.．。]")

COMPOUND_SURNAMES = frozenset(
    """欧阳 司马 诸葛 上官 东方 皇甫 令狐 慕容 尉迟 公孙 长孙 宇文 司徒 夏侯 轩辕 端木 独孤 南宫
    西门 百里 呼延 万俟 澹台 公冶 东郭 申屠 太史 闻人 赫连 钟离 宗政 濮阳 淳于 单于 公羊 仲孙
    拓跋 左丘 第五 谷梁 司空 亓官 司寇 子车 颛孙 壤驷 公良 乐正 漆雕 巫马""".split()  # noqa: SIM905
)

# Characters whose reading as a surname differs from the everyday (most frequent) reading.
SURNAME_READINGS = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "查": "zha",
    "朴": "piao",
    "覃": "qin",
    "翟": "zhai",
    "秘": "bi",
    "缪": "miao",
    "乐": "yue",
    "召": "shao",
    "种": "chong",
    "盖": "ge",
    "尉": "yu",
    "繁": "po",
    "员": "yun",
    "折": "she",
    "黑": "he",
    "宓": "fu",
    "牟": "mou",
    "隗": "wei",
    "句": "gou",
    "能": "nai",
    "蕃": "pi",
    "褚": "chu",
    "柏": "bai",
    "薄": "bo",
    "纪": "ji",
    "任": "ren",
    "华": "hua",
    "燕": "yan",
    "过": "guo",
    "祭": "zhai",
    "都": "du",
    "重": "chong",
    "占": "zhan",
    "车": "che",
    "盛": "sheng",
    "沈": "shen",
    "石": "shi",
    "冼": "xian",
    "谌": "chen",
    "郇": "huan",
    "阚": "kan",
    "恽": "yun",
    "藏": "zang",
    "长孙": "zhangsun",
    "尉迟": "yuchi",
    "万俟": "moqi",
    "单于": "chanyu",
}

TITLES_MALE = ("先生", "老先生", "师傅", "大爷", "大伯", "老汉", "爷爷")
TITLES_FEMALE = ("女士", "小姐", "太太", "阿姨", "婆婆", "奶奶", "大妈", "老太")
LATIN_TITLES = {"MR": "1", "MRS": "2", "MS": "2", "MISS": "2", "MADAM": "2", "DR": ""}

# Pinyin spellings of common surnames, to tell given-name-first Latin names from surname-first.
_COMMON_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘"
    "祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟"
    "艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞"
    "姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)


def _fold_u(syllable: str) -> str:
    """ü is written v, u, yu or ü: fold every spelling after n/l into u (lv, lyu, lü -> lu)."""
    syllable = syllable.replace("ü", "v")
    if syllable[:1] in ("l", "n"):
        if syllable[1:3] == "yu":
            syllable = syllable[0] + "u" + syllable[3:]
        syllable = syllable.replace("v", "u")
    return syllable.replace("v", "u")


_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("r", "l"))
_FUZZY_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"), ("ong", "on"), ("uan", "an"))


def fuzzy_syllable(syllable: str) -> str:
    """Fold the distinctions Sichuanese merges: n/l, f/h (hu->fu), zh/z, ch/c, sh/s, -ng/-n."""
    s = syllable
    for a, b in _FUZZY_INITIALS:
        if s.startswith(a):
            s = b + s[len(a) :]
            break
    if s == "hu":  # hu- is said f- (湖 fu, 黄 fang, 灰 fei)
        s = "fu"
    elif s.startswith("hu"):
        rest = s[2:]
        s = "f" + ("ei" if rest == "i" else rest)
    for a, b in _FUZZY_FINALS:
        if s.endswith(a):
            s = s[: -len(a)] + b
            break
    return s


@lru_cache(maxsize=8192)
def _char_pinyin(chars: str) -> tuple[str, ...]:
    return tuple(_fold_u(p) for p in lazy_pinyin(chars, style=Style.NORMAL, errors="ignore"))


def han_pinyin(text: str, *, surname_len: int = 0) -> list[str]:
    """Toneless pinyin syllables of a Han name; the first ``surname_len`` characters are read as
    a surname (单 shan, not dan)."""
    out: list[str] = []
    if surname_len:
        surname = text[:surname_len]
        reading = SURNAME_READINGS.get(surname)
        if reading is None and surname_len == 1:
            reading = SURNAME_READINGS.get(surname)
        if reading is not None:
            out.append(reading)
        else:
            out.extend(_char_pinyin(surname))
        text = text[surname_len:]
    # Read given names character by character: phrase readings do not apply to names.
    for ch in text:
        out.extend(_char_pinyin(ch))
    return out


@lru_cache(maxsize=1)
def _surname_syllables() -> frozenset[str]:
    out = set()
    for ch in _COMMON_SURNAMES:
        out.add(SURNAME_READINGS.get(ch) or _char_pinyin(ch)[0])
    return frozenset(out)


def to_simplified(text: str) -> str:
    if _zhconv is None or not HAN.search(text):
        return text
    return _zhconv(text, "zh-cn")


def clean_text(raw: str) -> str:
    """NFKC (full-width letters and digits to half width), collapse whitespace."""
    text = unicodedata.normalize("NFKC", raw or "")
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True, slots=True)
class Name:
    text: str = ""
    kind: str = "blank"  # han | latin | title | blank
    surname: str = ""
    given: str = ""
    key: str = ""
    surname_key: str = ""
    given_key: str = ""
    fuzzy_key: str = ""
    sex_hint: str = ""
    alt_key: str = ""  # a Latin name read in the other order (given name first or last)


BLANK = Name()


def split_han(text: str) -> tuple[str, str]:
    """Surname and given name of a Han name (compound surnames first)."""
    if "·" in text:  # minority or transliterated name: the part before the dot leads
        head, _, tail = text.partition("·")
        return head, tail
    if len(text) >= 3 and text[:2] in COMPOUND_SURNAMES:
        return text[:2], text[2:]
    return text[:1], text[1:]


def _latin_tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[\s/,_\-]+", text.lower().replace(".", " ")) if t]


_PINYIN_SYLLABLE = re.compile(
    r"^(?:[bpmfdtnlgkhjqxrzcsyw]|zh|ch|sh)?(?:[aeiouv]|ai|ei|ao|ou|an|en|ang|eng|ong|er|ia|ie|iao"
    r"|iu|ian|in|iang|ing|iong|ua|uo|uai|ui|uan|un|uang|ue|ve|van|vn|yu)$"
)


def _is_pinyin_word(word: str) -> bool:
    """True when ``word`` can be cut into pinyin syllables (xiaoming, zhang, lyu)."""
    word = word.replace("ü", "v")
    n = len(word)
    ok = [False] * (n + 1)
    ok[0] = True
    for i in range(n):
        if not ok[i]:
            continue
        for j in range(i + 1, min(n, i + 6) + 1):
            if _PINYIN_SYLLABLE.match(word[i:j]):
                ok[j] = True
    return ok[n]


def _fold_word(word: str) -> str:
    """Fold ü spellings inside a multi-syllable pinyin word (lvxiaoming, nyu...)."""
    word = word.replace("ü", "v")
    word = re.sub(r"(?<![a-z])([ln])(?:yu|v)", r"\1u", word)
    word = re.sub(r"(?<=[aeiou])([ln])(?:yu|v)", r"\1u", word)
    return word.replace("v", "u")


def _fuzzy_word(word: str) -> str:
    # Fuzzy keys of Latin words fold per syllable where the word can be segmented.
    syllables = _segment(word)
    if not syllables:
        return word
    return "".join(fuzzy_syllable(s) for s in syllables)


def _segment(word: str) -> list[str]:
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(min(n, i + 6), i, -1):
            if _PINYIN_SYLLABLE.match(word[i:j]) and (
                best[j] is None or len(best[j]) > len(best[i]) + 1
            ):
                best[j] = [*best[i], word[i:j]]
    return best[n] or []


def _latin(text: str) -> Name:
    tokens = _latin_tokens(text)
    sex = ""
    if tokens and tokens[0].upper() in LATIN_TITLES:
        sex = LATIN_TITLES[tokens[0].upper()]
        tokens = tokens[1:]
        if len(tokens) == 1:
            surname = tokens[0]
            key = _fold_word(surname)
            return Name(
                text=surname.upper(),
                kind="title",
                surname=surname.upper(),
                key=key,
                surname_key=key,
                fuzzy_key=key,
                sex_hint=sex,
            )
    if not tokens:
        return BLANK
    pinyin = all(_is_pinyin_word(t) for t in tokens)
    surnames = _surname_syllables()
    alt_key = ""
    if pinyin:
        # Surname first unless only the last token is a surname (given-name-first form); the
        # other reading is kept as ``alt_key`` since both orders occur (WEI DENG = 邓伟).
        if _fold_word(tokens[0]) not in surnames and _fold_word(tokens[-1]) in surnames:
            tokens = [tokens[-1], *tokens[:-1]]
            other = [*tokens[1:], tokens[0]]
        else:
            other = [tokens[-1], *tokens[:-1]]
        if len(tokens) >= 2:
            alt_key = _fold_word(other[0]) + _fold_word("".join(other[1:]))
        surname, given = tokens[0], "".join(tokens[1:])
    else:
        surname, given = tokens[0], " ".join(tokens[1:])
    surname_key = _fold_word(surname)
    given_key = _fold_word(given.replace(" ", ""))
    fuzzy = _fuzzy_word(surname_key) + _fuzzy_word(given_key) if pinyin else surname_key + given_key
    return Name(
        text=" ".join(t.upper() for t in tokens),
        kind="latin",
        surname=surname.upper(),
        given=given.upper(),
        key=surname_key + given_key,
        surname_key=surname_key,
        given_key=given_key,
        fuzzy_key=fuzzy,
        sex_hint=sex,
        alt_key=alt_key if alt_key != surname_key + given_key else "",
    )


@lru_cache(maxsize=200_000)
def parse_name(raw: str) -> Name:
    """Clean a name and compute its keys; see the module docstring."""
    text = clean_text(raw)
    if not text:
        return BLANK
    if HAN.search(text):
        text = DOTS.sub("·", text.replace(" ", ""))
        text = to_simplified(text)
        text = re.sub(r"[^\u3400-\u9fff\uf900-\ufaff·]", "", text).strip("·")
        if not text:
            return BLANK
        sex = ""
        kind = "han"
        for titles, code in ((TITLES_MALE, "1"), (TITLES_FEMALE, "2")):
            for title in titles:
                if text.endswith(title) and 1 <= len(text) - len(title) <= 2:
                    text, sex, kind = text[: -len(title)], code, "title"
                    break
            if kind == "title":
                break
        if kind == "title":
            surname, given = text, ""
        else:
            surname, given = split_han(text)
        syllables = han_pinyin(surname, surname_len=len(surname)) if surname else []
        given_syll = han_pinyin(given) if given else []
        surname_key = "".join(syllables)
        given_key = "".join(given_syll)
        fuzzy = "".join(fuzzy_syllable(s) for s in syllables + given_syll)
        return Name(
            text=text,
            kind=kind,
            surname=surname,
            given=given,
            key=surname_key + given_key,
            surname_key=surname_key,
            given_key=given_key,
            fuzzy_key=fuzzy,
            sex_hint=sex,
        )
    if re.search(r"[A-Za-z]", text):
        return _latin(text)
    return BLANK
