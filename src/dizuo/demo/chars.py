"""Character tables for planted name errors: homophones, look-alikes, traditional forms.

The tables cover the surnames and given-name characters the generator uses most. Each group
lists characters that a clerk can confuse; a character may sit in several groups (张 with 章,
黄 with 王 — a confusion common in Sichuan, where *huang* and *wang* sound alike; likewise the
merged *-n/-ng* finals make 陈/程 and 金/京 sound the same there).

Lookup arrays built from the tables are indexed by Unicode code point (the Basic Multilingual
Plane), so a whole column of names is rewritten with NumPy fancy indexing.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

# Characters that sound alike (Mandarin, plus Sichuanese mergers). ≥ 60 groups.
HOMOPHONE_GROUPS: tuple[str, ...] = (
    "张章彰",
    "王汪",
    "黄王",  # Sichuanese: huang ~ wang
    "黄皇凰",
    "李黎理里",
    "刘柳留",
    "陈晨臣",
    "陈程",  # Sichuanese: -en ~ -eng
    "杨阳扬洋",
    "赵照兆",
    "吴武伍",
    "周邹舟州",
    "徐许",
    "孙荪",
    "马玛",
    "朱祝珠",
    "胡湖",
    "郭国",
    "何贺和",
    "林琳霖淋",
    "林凌玲",  # Sichuanese: -in ~ -ing
    "罗骆",
    "高郜",
    "梁良",
    "谢解",
    "宋颂",
    "唐汤",
    "韩寒",
    "冯封丰",
    "邓登",
    "曹草",
    "彭鹏蓬",
    "曾增",
    "肖萧",
    "田甜",
    "董冬东",
    "袁元原",
    "潘攀",
    "余于鱼俞",
    "杜度",
    "叶业",
    "程成城承",
    "魏卫韦",
    "吕旅",
    "任仁",
    "沈审",
    "姚尧",
    "卢芦",
    "姜江",
    "钟仲忠",
    "谭覃",
    "陆路鹿",
    "范凡樊",
    "金晶京",  # Sichuanese: -in ~ -ing
    "伟卫维玮",
    "丽莉立利",
    "明铭鸣",
    "军君均",
    "强墙",
    "磊蕾",
    "勇永涌",
    "杰洁捷",
    "涛韬",
    "超朝",
    "刚钢",
    "平萍坪",
    "辉晖徽",
    "华桦",
    "飞菲非",
    "鑫新欣心馨",
    "波博",
    "斌彬滨",
    "宇雨语羽",
    "浩昊皓",
    "凯楷",
    "健建剑",
    "俊骏峻",
    "帆凡",
    "旭序",
    "宁凝",
    "龙隆",
    "佳嘉家",
    "峰锋枫",
    "芳方",
    "娜纳",
    "敏民",
    "静靖婧",
    "英瑛莹",
    "艳燕雁",
    "娟鹃",
    "霞夏",
    "玲铃",
    "丹单",
    "红虹宏洪",
    "梅玫",
    "琴芹勤",
    "雪学",
    "婷亭",
    "慧惠",
    "云芸",
    "兰蓝岚",
    "桂贵",
    "玉钰",
    "凤风",
    "涵晗",
    "轩萱宣",
    "梓子紫",
    "睿瑞锐",
    "怡宜仪",
    "诗思",
    "泽择",
    "文雯",
    "志智",
    "晨辰",
    "琪琦淇",
    "悦月越",
    "婉宛",
    "颖影",
    "瑶遥",
    "俊郡",
    "博柏",
)

# Characters that look alike (handwriting, OCR, hurried input).
LOOKALIKE_GROUPS: tuple[str, ...] = (
    "王玉",
    "末未",
    "己已巳",
    "戌戍",
    "土士",
    "日曰",
    "大太犬",
    "人入",
    "千干于",
    "天夭夫",
    "免兔",
    "贝见",
    "徐涂",
    "侯候",
    "苟荀",
    "白自",
    "田由甲申",
    "季李",
    "杨扬",
    "栗粟",
    "嬴赢",
    "晋普",
    "乌鸟",
    "午牛",
    "力刀",
    "佳住",
    "清请",
    "晴睛",
    "博傅",
    "东车",
    "刁习",
    "冶治",
    "汩汨",
    "崇祟",
    "析折",
    "密蜜",
    "娇骄",
    "玲伶",
    "峰锋",
    "俊浚",
    "宏弘",
    "红虹",
    "明朋",
    "华毕",
    "丽而",
    "英莫",
)

# Simplified → traditional for common name characters (surnames and given-name characters).
TRADITIONAL: dict[str, str] = {
    "陈": "陳",
    "刘": "劉",
    "张": "張",
    "杨": "楊",
    "黄": "黃",
    "赵": "趙",
    "吴": "吳",
    "孙": "孫",
    "马": "馬",
    "罗": "羅",
    "郑": "鄭",
    "谢": "謝",
    "许": "許",
    "韩": "韓",
    "冯": "馮",
    "邓": "鄧",
    "萧": "蕭",
    "蒋": "蔣",
    "叶": "葉",
    "苏": "蘇",
    "吕": "呂",
    "卢": "盧",
    "钟": "鍾",
    "谭": "譚",
    "陆": "陸",
    "贾": "賈",
    "韦": "韋",
    "邹": "鄒",
    "闫": "閆",
    "龙": "龍",
    "贺": "賀",
    "顾": "顧",
    "龚": "龔",
    "万": "萬",
    "钱": "錢",
    "严": "嚴",
    "汤": "湯",
    "伟": "偉",
    "丽": "麗",
    "强": "強",
    "军": "軍",
    "杰": "傑",
    "涛": "濤",
    "鹏": "鵬",
    "华": "華",
    "飞": "飛",
    "凯": "凱",
    "帅": "帥",
    "宁": "寧",
    "欢": "歡",
    "阳": "陽",
    "国": "國",
    "红": "紅",
    "艳": "艷",
    "兰": "蘭",
    "凤": "鳳",
    "颖": "穎",
    "静": "靜",
    "荣": "榮",
    "东": "東",
    "贵": "貴",
    "宝": "寶",
    "刚": "剛",
    "辉": "輝",
    "晓": "曉",
    "云": "雲",
    "洁": "潔",
    "轩": "軒",
    "诗": "詩",
    "泽": "澤",
    "铭": "銘",
    "锦": "錦",
    "书": "書",
    "乐": "樂",
    "学": "學",
    "伦": "倫",
    "达": "達",
    "广": "廣",
    "庆": "慶",
    "义": "義",
    "兴": "興",
    "长": "長",
    "发": "發",
    "进": "進",
    "顺": "順",
    "胜": "勝",
    "贤": "賢",
    "锋": "鋒",
    "钢": "鋼",
    "银": "銀",
    "梦": "夢",
    "丰": "豐",
    "卫": "衛",
    "维": "維",
    "莹": "瑩",
    "丝": "絲",
    "莲": "蓮",
}

MAX_ALTERNATIVES = 8
_PLANE = 0x10000


def _alternative_table(groups: tuple[str, ...]) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for group in groups:
        for ch in group:
            others = table.setdefault(ch, [])
            for other in group:
                if other != ch and other not in others:
                    others.append(other)
    return table


@cache
def homophones() -> dict[str, list[str]]:
    """Every character with at least one homophone, mapped to its alternatives."""
    return _alternative_table(HOMOPHONE_GROUPS)


@cache
def lookalikes() -> dict[str, list[str]]:
    """Every character with at least one look-alike, mapped to its alternatives."""
    return _alternative_table(LOOKALIKE_GROUPS)


@cache
def traditional() -> dict[str, str]:
    """Single simplified characters whose traditional form differs."""
    return {s: t for s, t in TRADITIONAL.items() if s != t}


def lookup_arrays(
    table: dict[str, list[str]],
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]]:
    """Dense arrays (code point → alternatives, code point → number of alternatives)."""
    alternatives = np.zeros((_PLANE, MAX_ALTERNATIVES), dtype=np.uint32)
    counts = np.zeros(_PLANE, dtype=np.uint8)
    for ch, others in table.items():
        chosen = others[:MAX_ALTERNATIVES]
        alternatives[ord(ch), : len(chosen)] = [ord(o) for o in chosen]
        counts[ord(ch)] = len(chosen)
    return alternatives, counts


def traditional_array() -> npt.NDArray[np.uint32]:
    """Code point → traditional code point (0 where the character has no distinct form)."""
    mapping = np.zeros(_PLANE, dtype=np.uint32)
    for s, t in traditional().items():
        mapping[ord(s)] = ord(t)
    return mapping


@cache
def homophone_lookup() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]]:
    """Cached :func:`lookup_arrays` of the homophone table."""
    return lookup_arrays(homophones())


@cache
def lookalike_lookup() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]]:
    """Cached :func:`lookup_arrays` of the look-alike table."""
    return lookup_arrays(lookalikes())


@cache
def traditional_lookup() -> npt.NDArray[np.uint32]:
    """Cached :func:`traditional_array`."""
    return traditional_array()
