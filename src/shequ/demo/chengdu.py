"""Chengdu's real county-level divisions (GB/T 2260) for the demo city.

Centroids are approximate (WGS84, the middle of each division's territory, not the seat of its
government); populations are the 2020 census figures rounded to ten thousand people (万人), used
only to share residents out between districts.
"""

from __future__ import annotations

from dataclasses import dataclass

CITY_CODE = "5101"
CITY_EXT_CODE = "510100"
CITY_NAME = "成都市"
CITY_NAME_EN = "Chengdu"

# Urban core: streets (街道) only, more old compounds.
CORE = "core"
# Outer districts (市辖区): mostly streets, some towns.
SUBURB = "suburb"
# Counties and county-level cities: mostly towns (镇) and villages (村).
COUNTY = "county"


@dataclass(frozen=True)
class District:
    code: str
    name: str
    name_en: str
    kind: str  # "district" 市辖区 · "county" 县 · "city" 县级市
    zone: str
    lng: float
    lat: float
    population: float  # 万人, 2020 census, rounded


DISTRICTS: list[District] = [
    District("510104", "锦江区", "Jinjiang District", "district", CORE, 104.117, 30.609, 90),
    District("510105", "青羊区", "Qingyang District", "district", CORE, 104.003, 30.679, 96),
    District("510106", "金牛区", "Jinniu District", "district", CORE, 104.052, 30.722, 127),
    District("510107", "武侯区", "Wuhou District", "district", CORE, 104.021, 30.618, 121),
    District("510108", "成华区", "Chenghua District", "district", CORE, 104.139, 30.690, 138),
    District("510112", "龙泉驿区", "Longquanyi District", "district", SUBURB, 104.318, 30.585, 135),
    District(
        "510113", "青白江区", "Qingbaijiang District", "district", SUBURB, 104.389, 30.805, 49
    ),
    District("510114", "新都区", "Xindu District", "district", SUBURB, 104.143, 30.840, 156),
    District("510115", "温江区", "Wenjiang District", "district", SUBURB, 103.823, 30.697, 97),
    District("510116", "双流区", "Shuangliu District", "district", SUBURB, 103.970, 30.460, 147),
    District("510117", "郫都区", "Pidu District", "district", SUBURB, 103.880, 30.820, 139),
    District("510118", "新津区", "Xinjin District", "district", SUBURB, 103.815, 30.418, 36),
    District("510121", "金堂县", "Jintang County", "county", COUNTY, 104.560, 30.755, 80),
    District("510129", "大邑县", "Dayi County", "county", COUNTY, 103.405, 30.615, 52),
    District("510131", "蒲江县", "Pujiang County", "county", COUNTY, 103.500, 30.205, 26),
    District("510181", "都江堰市", "Dujiangyan City", "city", COUNTY, 103.600, 31.045, 71),
    District("510182", "彭州市", "Pengzhou City", "city", COUNTY, 103.870, 31.150, 78),
    District("510183", "邛崃市", "Qionglai City", "city", COUNTY, 103.370, 30.385, 60),
    District("510184", "崇州市", "Chongzhou City", "city", COUNTY, 103.580, 30.775, 74),
    District("510185", "简阳市", "Jianyang City", "city", COUNTY, 104.545, 30.385, 112),
]

# Points on (or near) Chengdu's outline; the city polygon is their convex hull.
OUTLINE = [
    (103.30, 31.15),
    (103.60, 31.35),
    (103.85, 31.44),
    (104.10, 31.25),
    (104.45, 31.05),
    (104.75, 30.95),
    (104.90, 30.65),
    (104.85, 30.25),
    (104.55, 30.08),
    (103.55, 30.08),
    (103.25, 30.15),
    (103.05, 30.35),
    (102.99, 30.65),
    (103.10, 30.95),
]

# Hukou regions of the floating population (real county-level codes): mostly elsewhere in
# Sichuan, some other provinces. Weights are rough shares.
SICHUAN_REGIONS = [
    "510302",  # 自贡 自流井区
    "510502",  # 泸州 江阳区
    "510603",  # 德阳 旌阳区
    "510703",  # 绵阳 涪城区
    "510722",  # 绵阳 三台县
    "510903",  # 遂宁 船山区
    "511011",  # 内江 东兴区
    "511102",  # 乐山 市中区
    "511302",  # 南充 顺庆区
    "511321",  # 南充 南部县
    "511402",  # 眉山 东坡区
    "511502",  # 宜宾 翠屏区
    "511602",  # 广安 广安区
    "511623",  # 广安 邻水县
    "511702",  # 达州 通川区
    "511722",  # 达州 宣汉县
    "511902",  # 巴中 巴州区
    "512002",  # 资阳 雁江区
    "513221",  # 阿坝 汶川县
    "513401",  # 凉山 西昌市
]
OTHER_REGIONS = [
    "500101",  # 重庆 万州区
    "500228",  # 重庆 梁平县 (old code, still on older cards)
    "520102",  # 贵阳 南明区
    "530102",  # 昆明 五华区
    "620102",  # 兰州 城关区
    "610113",  # 西安 雁塔区
    "411302",  # 南阳 宛城区
    "420106",  # 武汉 武昌区
    "430104",  # 长沙 岳麓区
    "440106",  # 广州 天河区
    "330106",  # 杭州 西湖区
    "370102",  # 济南 历下区
    "130102",  # 石家庄 长安区
    "230102",  # 哈尔滨 道里区
    "640104",  # 银川 兴庆区
]
