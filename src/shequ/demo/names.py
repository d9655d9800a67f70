"""Plausible Chinese names for people and places, with English names for places (pinyin).

Everything takes a ``random.Random`` so the demo city is the same for the same seed.
"""

from __future__ import annotations

import random
from bisect import bisect
from functools import lru_cache
from itertools import accumulate

from pypinyin import lazy_pinyin

CN_NUMERALS = "零一二三四五六七八九十"


def cn_number(n: int) -> str:
    """1 -> 一, 12 -> 十二, 23 -> 二十三 (up to 99)."""
    if n < 11:
        return CN_NUMERALS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_NUMERALS[tens]) + "十" + (CN_NUMERALS[ones] if ones else "")


@lru_cache(maxsize=8192)
def pinyin(text: str) -> str:
    """'玉林' -> 'Yulin' (one word, first letter capitalised)."""
    return "".join(lazy_pinyin(text)).capitalize()


class Weighted:
    """Pick from a list with weights, quickly and reproducibly."""

    def __init__(self, items, weights):
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random):
        return self.items[bisect(self.cum, rng.random() * self.total)]


# --- people -------------------------------------------------------------------------------

# Common surnames, most frequent first (Sichuan order roughly: 李王张刘陈杨黄周罗吴...).
_SURNAMES = (
    "李王张刘陈杨黄周罗吴赵何谢邓曾唐冯彭胡徐蒋郭袁廖肖朱田林杜钟任余高马苏梁宋魏"
    "傅叶程向雷邹付熊侯卢江汪夏文蔡贺郑沈韩范龙许董孙邱姚王严陶伍龚谭陆白尹石曹"
    "冉代潘秦吕游兰钱万母敬税鄢"
)
SURNAMES = Weighted(_SURNAMES, [1 / (i + 1) ** 0.9 for i in range(len(_SURNAMES))])

# Given names by era of birth and sex: (first characters, second characters, one-character names)
_GIVEN = {
    ("old", "1"): (
        "建国志德文明永正光玉学树家兴成福国忠长华世",
        "国华明强平林成福军民清山忠发生贵才宝安友荣",
        "军强明华平刚勇斌林福",
    ),
    ("old", "2"): (
        "秀桂玉淑凤素翠兰金桂春美月丽琼淑碧",
        "英兰珍芬芳梅华琴花蓉霞菊凤莲清秀仙",
        "芳英兰珍梅琼蓉霞",
    ),
    ("mid", "1"): (
        "志建海晓俊文小明家永国伟德学军红宏云剑勇",
        "伟波涛杰东龙辉强峰军华明斌刚鹏超宇林平川",
        "伟磊勇军杰涛斌超明刚鹏辉强波浩亮",
    ),
    ("mid", "2"): (
        "丽晓春海雪秀小玉红燕静婷丹莉佳慧冬艳",
        "燕娟梅丽霞琳丹倩莉婷玲敏艳芳红萍蓉洁",
        "丽敏静艳娟霞燕芳婷琳丹倩莉洁",
    ),
    ("young", "1"): (
        "子浩宇俊梓皓泽博睿思天一嘉铭浩奕宇锦煜沐",
        "轩然豪杰涵熙鸣航文远佑睿辰诚阳宸铭川泽霖",
        "睿铭轩浩宸泽航",
    ),
    ("young", "2"): (
        "欣梓子雨诗语佳可梦思若一紫欣沐芷雅悦语",
        "怡涵萱琪馨嫣桐妍曦诺瑶彤然悦晴菲琳涵溪",
        "悦彤琪瑶涵萱妍",
    ),
}


def era(birth_year: int) -> str:
    if birth_year < 1968:
        return "old"
    if birth_year < 1995:
        return "mid"
    return "young"


def given_name(rng: random.Random, sex: str, birth_year: int) -> str:
    first, second, single = _GIVEN[(era(birth_year), sex)]
    if rng.random() < 0.28:
        return rng.choice(single)
    return rng.choice(first) + rng.choice(second)


def surname(rng: random.Random) -> str:
    return SURNAMES.pick(rng)


# Foreign residents: (ISO 3166 alpha-3, ISO numeric, name style)
NATIONALITIES = Weighted(
    [
        ("USA", "840", "en"),
        ("GBR", "826", "en"),
        ("CAN", "124", "en"),
        ("AUS", "036", "en"),
        ("DEU", "276", "de"),
        ("FRA", "250", "fr"),
        ("ITA", "380", "it"),
        ("RUS", "643", "ru"),
        ("JPN", "392", "ja"),
        ("KOR", "410", "ko"),
        ("THA", "764", "th"),
        ("VNM", "704", "vi"),
        ("PAK", "586", "pk"),
        ("IND", "356", "in"),
        ("SGP", "702", "en"),
        ("MYS", "458", "my"),
    ],
    [14, 8, 5, 4, 8, 6, 4, 6, 10, 10, 5, 5, 5, 4, 3, 3],
)

# (Latin, Chinese transliteration)
_FOREIGN = {
    "en": (
        [
            ("Smith", "史密斯"),
            ("Brown", "布朗"),
            ("Wilson", "威尔逊"),
            ("Taylor", "泰勒"),
            ("Johnson", "约翰逊"),
            ("Miller", "米勒"),
            ("Clark", "克拉克"),
            ("Walker", "沃克"),
            ("Evans", "埃文斯"),
            ("Turner", "特纳"),
        ],
        [
            ("James", "詹姆斯"),
            ("David", "大卫"),
            ("Michael", "迈克尔"),
            ("John", "约翰"),
            ("Thomas", "托马斯"),
            ("Daniel", "丹尼尔"),
            ("Peter", "彼得"),
            ("Mark", "马克"),
        ],
        [
            ("Emma", "艾玛"),
            ("Sarah", "莎拉"),
            ("Emily", "艾米丽"),
            ("Anna", "安娜"),
            ("Laura", "劳拉"),
            ("Grace", "格蕾丝"),
            ("Lucy", "露西"),
            ("Helen", "海伦"),
        ],
    ),
    "de": (
        [
            ("Müller", "穆勒"),
            ("Schmidt", "施密特"),
            ("Schneider", "施奈德"),
            ("Fischer", "菲舍尔"),
            ("Weber", "韦伯"),
            ("Becker", "贝克尔"),
            ("Wagner", "瓦格纳"),
        ],
        [("Lukas", "卢卡斯"), ("Jonas", "约纳斯"), ("Felix", "费利克斯"), ("Stefan", "斯特凡")],
        [("Lena", "莉娜"), ("Julia", "尤利娅"), ("Katrin", "卡特琳"), ("Sophie", "索菲")],
    ),
    "fr": (
        [
            ("Martin", "马丁"),
            ("Bernard", "贝尔纳"),
            ("Dubois", "杜布瓦"),
            ("Moreau", "莫罗"),
            ("Laurent", "洛朗"),
            ("Lefebvre", "勒菲弗"),
        ],
        [("Pierre", "皮埃尔"), ("Louis", "路易"), ("Antoine", "安托万"), ("Nicolas", "尼古拉")],
        [("Camille", "卡米耶"), ("Claire", "克莱尔"), ("Chloé", "克洛埃"), ("Marie", "玛丽")],
    ),
    "it": (
        [("Rossi", "罗西"), ("Russo", "鲁索"), ("Ferrari", "费拉里"), ("Bianchi", "比安奇")],
        [("Marco", "马可"), ("Luca", "卢卡"), ("Giorgio", "乔治")],
        [("Giulia", "朱莉娅"), ("Chiara", "基娅拉"), ("Francesca", "弗朗切斯卡")],
    ),
    "ru": (
        [
            ("Ivanov", "伊万诺夫"),
            ("Petrov", "彼得罗夫"),
            ("Smirnov", "斯米尔诺夫"),
            ("Volkov", "沃尔科夫"),
            ("Sokolov", "索科洛夫"),
        ],
        [("Alexei", "阿列克谢"), ("Dmitri", "德米特里"), ("Sergei", "谢尔盖"), ("Ivan", "伊万")],
        [("Olga", "奥尔加"), ("Natalia", "娜塔莉娅"), ("Irina", "伊琳娜"), ("Anna", "安娜")],
    ),
    "ja": (
        [
            ("Tanaka", "田中"),
            ("Suzuki", "铃木"),
            ("Sato", "佐藤"),
            ("Takahashi", "高桥"),
            ("Watanabe", "渡边"),
            ("Ito", "伊藤"),
            ("Yamamoto", "山本"),
        ],
        [("Hiroshi", "宏"), ("Takashi", "隆"), ("Kenji", "健二"), ("Taro", "太郎"), ("Yuki", "雪")],
        [
            ("Yuko", "裕子"),
            ("Keiko", "惠子"),
            ("Akiko", "明子"),
            ("Sakura", "樱"),
            ("Naoko", "直子"),
        ],
    ),
    "ko": (
        [("Kim", "金"), ("Lee", "李"), ("Park", "朴"), ("Choi", "崔"), ("Jung", "郑")],
        [("Minjun", "敏俊"), ("Jiho", "智浩"), ("Seojun", "瑞俊"), ("Hyunwoo", "贤宇")],
        [("Jiwoo", "智友"), ("Seoyeon", "瑞妍"), ("Minji", "敏智"), ("Sujin", "秀珍")],
    ),
    "th": (
        [("Saetang", "塞当"), ("Srisuk", "希素"), ("Wongsa", "翁沙")],
        [("Somchai", "颂猜"), ("Anan", "阿南"), ("Niran", "尼兰")],
        [("Malee", "玛丽"), ("Siriporn", "诗丽蓬"), ("Kanya", "甘雅")],
    ),
    "vi": (
        [("Nguyen", "阮"), ("Tran", "陈"), ("Le", "黎"), ("Pham", "范")],
        [("Minh", "明"), ("Duc", "德"), ("Hung", "雄"), ("Tuan", "俊")],
        [("Lan", "兰"), ("Mai", "梅"), ("Hoa", "花"), ("Linh", "玲")],
    ),
    "pk": (
        [("Khan", "汗"), ("Ahmed", "艾哈迈德"), ("Ali", "阿里"), ("Hussain", "侯赛因")],
        [("Imran", "伊姆兰"), ("Bilal", "比拉尔"), ("Usman", "乌斯曼")],
        [("Ayesha", "阿伊莎"), ("Fatima", "法蒂玛"), ("Sana", "萨娜")],
    ),
    "in": (
        [("Sharma", "夏尔马"), ("Patel", "帕特尔"), ("Singh", "辛格"), ("Kumar", "库马尔")],
        [("Rahul", "拉胡尔"), ("Arjun", "阿琼"), ("Vikram", "维克拉姆")],
        [("Priya", "普丽娅"), ("Anjali", "安贾莉"), ("Neha", "妮哈")],
    ),
    "my": (
        [("Tan", "陈"), ("Lim", "林"), ("Wong", "黄"), ("Abdullah", "阿卜杜拉")],
        [("Wei Ming", "伟明"), ("Hafiz", "哈菲兹"), ("Jun Hao", "俊豪")],
        [("Mei Ling", "美玲"), ("Nurul", "努鲁尔"), ("Hui Min", "慧敏")],
    ),
}

# Names written family name first, without a dot between (East and South-East Asia).
_FAMILY_FIRST = {"ja", "ko", "vi", "my"}


def foreign_name(
    rng: random.Random, style: str, sex: str, family: tuple[str, str] | None = None
) -> tuple[str, str, tuple[str, str]]:
    """(Chinese name, Latin name as on the passport, family name used)."""
    families, male, female = _FOREIGN[style]
    fam = family or rng.choice(families)
    given = rng.choice(male if sex == "1" else female)
    latin = f"{fam[0].upper()} {given[0].upper()}"
    chinese = fam[1] + given[1] if style in _FAMILY_FIRST else f"{given[1]}·{fam[1]}"
    return chinese, latin, fam


# --- places -------------------------------------------------------------------------------

_PLACE_FIRST = "玉芳桂石红金银锦青龙凤柳桃杏梅竹松华新永安太长东西南双万天文白清望沙水春和合黄"
_PLACE_FIRST += "马牛龙泉仁兴福高平来复顺宝云蓝花莲翠荷兰晨光明瑞祥乐涌盐草"
_PLACE_SECOND = "林草溪羊桥江泉山湾坝堰河塘井园平安兴源家城门湖坪场坡岭庙街口寺坊湾丰阳桂华"
_VILLAGE_FIRST = "红光新永胜团和金双石三五太长高大小清白黄龙凤中上下"
_VILLAGE_SECOND = "星明利结平华兴丰桥龙河庙坝堰沟林湾田村坪山岗井"


class NamePool:
    """Two-character place names, unique across the city (a few thousand combinations)."""

    def __init__(self, first: str, second: str):
        self.first, self.second = first, second
        self.used: set[str] = set()

    def take(self, rng: random.Random) -> str:
        for attempt in range(200):
            a = rng.choice(self.first)
            b = rng.choice(self.second)
            name = a + b
            if a != b and (name not in self.used or attempt > 150):
                self.used.add(name)
                return name
        return name  # pragma: no cover - pools are far larger than any city


# Roads: base + optional direction + kind [+ section]
_DIRECTIONS = [("", ""), ("南", "South"), ("北", "North"), ("东", "East"), ("西", "West")]
_ROAD_KINDS = Weighted(
    [("路", "Road"), ("街", "Street"), ("大道", "Avenue"), ("巷", "Lane")], [6, 3, 1, 1]
)


def road(rng: random.Random, base: str) -> tuple[str, str]:
    """('人民南路三段', 'Renmin South Road Section 3')."""
    d_cn, d_en = rng.choice(_DIRECTIONS) if rng.random() < 0.4 else ("", "")
    k_cn, k_en = _ROAD_KINDS.pick(rng)
    cn = f"{base}{d_cn}{k_cn}"
    en = f"{pinyin(base)} {d_en + ' ' if d_en else ''}{k_en}"
    if k_cn in ("路", "大道") and rng.random() < 0.3:
        section = rng.randint(1, 3)
        cn += f"{cn_number(section)}段"
        en += f" Section {section}"
    return cn, en


_COMMERCIAL_PREFIX = [
    "锦绣",
    "翡翠",
    "阳光",
    "金色",
    "蓝湾",
    "香榭",
    "紫荆",
    "御景",
    "丽都",
    "雅居",
    "锦城",
    "天府",
    "华府",
    "麓山",
    "南湖",
    "清水",
    "碧水",
    "枫林",
    "银杏",
    "芙蓉",
    "中海",
    "保利",
    "万科",
    "龙湖",
    "蓝光",
    "金沙",
    "望江",
    "滨江",
    "东湖",
    "南城",
    "尚城",
    "时代",
    "和美",
    "怡心",
    "百合",
    "康城",
    "名都",
    "世纪",
    "盛世",
    "朗诗",
]
_COMMERCIAL_SUFFIX = Weighted(
    [
        ("花园", "Garden"),
        ("家园", "Homeland"),
        ("名苑", "Court"),
        ("小区", "Estate"),
        ("公馆", "Mansion"),
        ("华庭", "Court"),
        ("雅苑", "Garden"),
        ("城", "City"),
        ("国际", "International"),
        ("府", "Residence"),
        ("湾", "Bay"),
        ("苑", "Court"),
        ("公寓", "Apartments"),
        ("佳苑", "Garden"),
        ("城市花园", "City Garden"),
    ],
    [10, 6, 5, 6, 3, 4, 4, 4, 3, 3, 2, 4, 2, 3, 2],
)
_DORM_ORGS = [
    ("机械厂", "Machinery Plant"),
    ("纺织厂", "Textile Mill"),
    ("电力局", "Power Bureau"),
    ("邮电局", "Post Office"),
    ("水利局", "Water Bureau"),
    ("粮食局", "Grain Bureau"),
    ("化工厂", "Chemical Plant"),
    ("铁路局", "Railway Bureau"),
    ("交通局", "Transport Bureau"),
    ("建工集团", "Construction Group"),
    ("无线电厂", "Radio Factory"),
    ("钢铁厂", "Steelworks"),
    ("印刷厂", "Printing House"),
    ("医学院", "Medical College"),
    ("商业局", "Commerce Bureau"),
    ("供销社", "Supply Cooperative"),
    ("自来水公司", "Waterworks"),
    ("第一中学", "No. 1 School"),
]
_RESETTLEMENT_SUFFIX = [
    ("安置小区", "Resettlement Estate"),
    ("新居", "New Homes"),
    ("家园", "Homeland"),
    ("新村", "New Village"),
    ("还建房", "Rehousing Estate"),
]
_PHASES = ["一期", "二期", "三期"]


def commercial_compound(rng: random.Random) -> tuple[str, str]:
    prefix = rng.choice(_COMMERCIAL_PREFIX)
    suf_cn, suf_en = _COMMERCIAL_SUFFIX.pick(rng)
    cn, en = prefix + suf_cn, f"{pinyin(prefix)} {suf_en}"
    if rng.random() < 0.3:
        phase = rng.randint(1, 3)
        cn += _PHASES[phase - 1]
        en += f" Phase {phase}"
    return cn, en


def old_compound(rng: random.Random, place: str, road_cn: str, road_en: str, number: int):
    if rng.random() < 0.5:
        org_cn, org_en = rng.choice(_DORM_ORGS)
        return f"{place}{org_cn}宿舍", f"{pinyin(place)} {org_en} Dormitory"
    return f"{road_cn}{number}号院", f"Compound No. {number}, {road_en}"


def resettlement_compound(rng: random.Random, place: str) -> tuple[str, str]:
    suf_cn, suf_en = rng.choice(_RESETTLEMENT_SUFFIX)
    return place + suf_cn, f"{pinyin(place)} {suf_en}"


def village_group(village: str, village_en: str, n: int) -> tuple[str, str]:
    return f"{village}{n}组", f"{village_en} Group {n}"


def place_pools() -> tuple[NamePool, NamePool]:
    return NamePool(_PLACE_FIRST, _PLACE_SECOND), NamePool(_VILLAGE_FIRST, _VILLAGE_SECOND)
