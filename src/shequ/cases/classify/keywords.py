"""Keyword rules: the fallback when no trained model is installed.

General words of each sector, written from the sector definitions (not taken from any
message). A word found in the text scores 1 (1.5 for words of three or more characters, which
are more specific); found in the title it scores double. The sector with the highest score
wins; the confidence grows with the winning score and with its share of all scores, and stays
below 0.8 because a word list is a rough guide. No keyword at all gives ``(None, 0.0)``.

A city adds or overrides words with ``settings.SHEQU_CLASSIFIER_KEYWORDS``
(``{"transport": ["共享单车", ...]}``): words are added to the shipped list of that sector.
"""

from __future__ import annotations

import math
from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver

from .categories import CODES
from .text import normalise


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


KEYWORDS: dict[str, tuple[str, ...]] = {
    "labour": _words(
        """
        工资 欠薪 拖欠工资 讨薪 社保 社会保险 养老保险 失业保险 工伤 医保
        医疗保险 生育保险 养老金 退休 退休金 劳动合同 劳动仲裁 劳动监察 加班
        加班费 辞退 解雇 裁员 就业 再就业 失业 招聘 人社局 人力资源 农民工
        五险一金 劳务派遣 最低工资 年休假 职工 下岗 绩效工资 工龄 社保卡
        灵活就业 经济补偿 用人单位
        """
    ),
    "urban_rural": _words(
        """
        物业 物业费 小区 业主 业委会 开发商 房产证 不动产权证 商品房 交房
        延期交房 房屋质量 拆迁 征收补偿 安置房 棚改 违建 违章建筑 违法建设 施工
        工地 燃气 天然气 自来水 供水 停水 水压 停电 供电 路灯 下水道 排水
        井盖 积水 电梯 城管 占道经营 摆摊 绿化 公租房 廉租房 保障房 公积金
        规划 老旧小区 改造 漏水 外墙 住建局 房管局 市政 管网 化粪池 垃圾清运
        环卫 安全隐患
        """
    ),
    "education": _words(
        """
        学校 学生 老师 教师 班主任 校长 幼儿园 小学 初中 中学 高中 大学 学院
        招生 入学 学区 学位 划片 择校 补课 培训机构 教育局 考试 高考 中考
        学费 校车 课外 作业 寒假 暑假 教材 职称评定 体育 运动场 体育馆 图书馆
        博物馆 文物 文化馆 民办学校 转学 学籍 食堂 教育
        """
    ),
    "health": _words(
        """
        医院 医生 护士 看病 就医 病人 患者 疫苗 接种 药品 药店 诊所 卫生院
        卫生室 卫健委 卫生局 计划生育 计生 生育 二孩 独生子女 出生证
        出生医学证明 准生证 食品安全 医疗事故 医疗纠纷 体检 传染病 手术 村医
        乡村医生 住院 门诊 急诊 挂号 处方 过期食品 餐馆卫生 结扎 社会抚养费
        医疗
        """
    ),
    "transport": _words(
        """
        公交 公交车 公交站 地铁 轻轨 出租车 网约车 的士 班车 客运 客车
        长途汽车 公路 高速公路 收费站 红绿灯 信号灯 停车 停车场 停车位 车位
        驾校 驾照 拥堵 堵车 站台 线路 火车 火车站 高铁 动车 机场 航班 快递
        邮政 货车 超载 运输 交通 道路 马路 人行道 斑马线 车站 运管 交通局
        """
    ),
    "commerce": _words(
        """
        商家 商户 商场 超市 消费者 消费 退款 退货 售后 价格 涨价 乱收费 假货
        假冒 伪劣 虚假宣传 旅游 景区 景点 门票 导游 旅行社 酒店 宾馆 市场监管
        工商 营业执照 预付卡 会员卡 办卡 商铺 购物 网购 电商 农贸市场 菜市场
        计量 缺斤少两 质监 消协 霸王条款 商业
        """
    ),
    "environment": _words(
        """
        污染 环保 环保局 夜间施工 施工噪音 噪音 噪声 扰民 排污 偷排 废气 废水
        污水 臭味 异味 恶臭 粉尘 扬尘 油烟 垃圾 垃圾焚烧 雾霾 空气质量 水质
        黑臭 化工厂 排放 环评 辐射 焚烧 秸秆 养殖污染 生态 砍伐 河道 固废
        危废 烟囱 广场舞
        """
    ),
    "agriculture": _words(
        """
        农民 农村 农业 村民 耕地 土地承包 承包地 种植 养殖 农田 水利 水库
        灌溉 扶贫 贫困户 精准扶贫 化肥 农药 种子 林地 林权 退耕还林 惠农
        种粮补贴 村委会 村干部 村务 村组 合作社 生猪 家禽 动物防疫 猪瘟 农机
        粮食 农产品 山塘
        """
    ),
    "legal": _words(
        """
        派出所 公安 公安局 警察 民警 报警 诈骗 盗窃 小偷 抢劫 打架 斗殴
        黑社会 涉黑 恶势力 赌博 户口 户籍 身份证 落户 迁户 法院 判决 强制执行
        律师 起诉 诉讼 交警 违章 闯红灯 酒驾 治安 吸毒 拘留 监狱 传销
        法律援助 司法局 人民调解 犯罪 刑事 检察院 高利贷 套路贷
        """
    ),
    "civil_affairs": _words(
        """
        低保 救助 五保 特困 残疾人 残疾证 残联 养老院 敬老院 老年人 高龄补贴
        高龄津贴 殡葬 墓地 公墓 火葬 婚姻登记 结婚证 离婚 退役军人 优抚 军属
        烈士 复员 居委会 社区服务 选举 慈善 募捐 救灾 社会组织 地名 门牌 孤儿
        福利院 民政 留守儿童 流浪 养老服务
        """
    ),
    "government": _words(
        """
        政务 政务服务 办事大厅 窗口 信息公开 政府网站 党员 党组织 入党 党费
        宗教 寺庙 教堂 民族 少数民族 港澳 台胞 华侨 侨眷 工会 共青团 妇联
        机构改革 公务员 事业单位 编制 行政审批 审批 办事难 效率低 证明材料
        """
    ),
    "economy": _words(
        """
        银行 贷款 信用卡 利息 保险公司 理赔 股票 证券 基金 理财 非法集资 集资
        税务 纳税 发票 税收 个税 国企 国有企业 破产 改制 电价 油价 加油站
        能源 电费 金融 民营企业 融资 担保 投资 营商环境 物价局
        """
    ),
    "discipline": _words(
        """
        腐败 贪污 受贿 行贿 贿赂 纪委 监委 监察委 违纪 滥用职权 失职 渎职
        不作为 乱作为 吃拿卡要 公款 公车私用 挪用 侵吞 作风 干部作风 官僚
        以权谋私 优亲厚友 徇私 截留 克扣 吃空饷
        """
    ),
    "land": _words(
        """
        土地 国土 国土局 征地 土地征收 征地补偿 宅基地 用地 建设用地 土地证
        不动产登记 矿山 采矿 采砂 非法采砂 开采 矿产 地质灾害 滑坡 塌方 地震
        气象 海洋 占用耕地 土地流转 土地出让 确权
        """
    ),
    "technology": _words(
        """
        网络 宽带 信号 手机信号 基站 移动公司 中国移动 联通 电信 运营商 话费
        流量 骚扰电话 垃圾短信 互联网 网站 专利 商标 知识产权 盗版 科技
        高新技术 信息化 光纤 APP 软件
        """
    ),
}


def _weight(word: str) -> float:
    return 1.5 if len(word) >= 3 else 1.0


@lru_cache(maxsize=1)
def _rules() -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    from django.conf import settings

    extra = getattr(settings, "SHEQU_CLASSIFIER_KEYWORDS", None) or {}
    unknown = sorted(set(extra) - set(CODES))
    if unknown:
        raise ValueError(
            f"SHEQU_CLASSIFIER_KEYWORDS names unknown sector codes: {', '.join(unknown)}"
        )
    rules = []
    for code in CODES:
        words = dict.fromkeys(normalise(w) for w in (*KEYWORDS.get(code, ()), *extra.get(code, ())))
        rules.append((code, tuple((w, _weight(w)) for w in words if w)))
    return tuple(rules)


def refresh() -> None:
    """Forget the compiled rules (they are read again from the settings at the next call)."""
    _rules.cache_clear()


@receiver(setting_changed)
def _on_setting_changed(setting, **kwargs):
    if setting == "SHEQU_CLASSIFIER_KEYWORDS":
        refresh()


def keyword_scores(text: str, title: str = "") -> dict[str, float]:
    """The score of every sector with at least one keyword in ``title`` or ``text``."""
    body = normalise(text)
    head = normalise(title)
    scores: dict[str, float] = {}
    for code, words in _rules():
        score = 0.0
        for word, weight in words:
            if word in body:
                score += weight
            if head and word in head:
                score += 2 * weight
        if score:
            scores[code] = score
    return scores


def keyword_suggest(text: str, title: str = "") -> tuple[str | None, float]:
    """(sector code, confidence) from the keyword rules; (None, 0.0) when no keyword matches."""
    scores = keyword_scores(text, title)
    if not scores:
        return None, 0.0
    # Ties go to the sector listed first in CODES (dict order), deterministically.
    best = max(scores, key=scores.__getitem__)
    top = scores[best]
    share = top / sum(scores.values())
    strength = 1.0 - math.exp(-top / 3.0)
    return best, round(0.8 * share * strength, 3)
