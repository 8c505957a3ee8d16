"""Word lists the detectors use: surnames, ethnic groups, disease words, plate provinces.

Surnames come from Faker's ``zh_CN`` provider (about 400 single surnames, ranked by frequency)
plus a curated list of compound surnames and the traditional forms of the most common ones.
"""

from __future__ import annotations

from functools import cache

from faker.providers.person.zh_CN import Provider as _ZhPerson

COMPOUND_SURNAMES = (
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 "
    "独孤 南宫 西门 百里 呼延 万俟 申屠 闻人 澹台 公冶 太史 钟离 宗政 濮阳 淳于 单于 "
    "赫连 拓跋 完颜 司空 仲孙 第五 左丘 谷梁 乐正 东郭 梁丘 段干 巫马 公西 亓官 羊舌"
).split()

#: traditional forms of common surnames (陈→陳 …), as registries sometimes write them
TRADITIONAL_SURNAMES = (
    "陳 劉 張 黃 趙 楊 吳 鄭 孫 馬 許 鄧 馮 韓 葉 蕭 謝 蔣 羅 盧 曾 龐 鍾 顧 龔".split()
)

ETHNIC_GROUPS = (
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 "
    "高山 拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 "
    "普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 "
    "珞巴 基诺"
).split()

#: words and suffixes that mark a disease or diagnosis term (a small, curated list)
DISEASE_WORDS = (
    "炎 症 病 癌 瘤 综合征 感染 增生 结石 骨折 扭伤 损伤 挫伤 疼痛 痛 疹 痘 溃疡 梗死 梗塞 "
    "出血 障碍 发作 哮喘 便秘 腹泻 失眠 近视 远视 弱视 发热 高血压 低血压 糖尿 疏松 妊娠 "
    "痤疮 白内障 青光眼 中毒 衰竭 颤动 畸形 脱位 贫血 肿 瘫 硬化 狭窄 积液 囊肿 息肉 结节 "
    "过敏 休克 麻痹 疝 痔 瘘 癫痫 痴呆 抑郁 焦虑 流产 不孕 功能减退 功能亢进 反流 血脂"
).split()

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

#: characters that end a place, road or organisation word, never a person's name
NAME_STOP_SUFFIXES = "省市区县镇乡村路街巷道号楼栋室园院馆站厂店局所处科部队组委会司校"
#: words that never occur inside a person's name
NAME_STOP_WORDS = (
    "公司 医院 学校 学院 大学 中学 小学 银行 酒店 宾馆 广场 公园 中心 社区 政府 委员 有限 "
    "集团 超市 市场 工作 管理 服务 部门 年级 一年 二年 三年 先生 女士 同志 师傅 老师 医生 "
    "护士 患者 家属 本人 未知 不详 其他 无名"
).split()
#: given-name characters that in practice mark a grade, rank or number, not a name
NAME_STOP_GIVEN = "一二三四五六七八九十零〇百千万甲乙丙丁"

GENDER_WORDS = (
    "男",
    "女",
    "男性",
    "女性",
    "M",
    "F",
    "MALE",
    "FEMALE",
    "未知的性别",
    "未说明的性别",
)
GENDER_CODES = ("0", "1", "2", "9")


@cache
def single_surnames() -> tuple[str, ...]:
    """Single-character surnames: Faker's ``zh_CN`` list plus traditional forms."""
    names = [s for s in _ZhPerson.last_names if len(s) == 1]
    return tuple(dict.fromkeys([*names, *TRADITIONAL_SURNAMES]))


@cache
def surname_pattern() -> str:
    """A regular-expression alternation of every surname, compound ones first."""
    compound = "|".join(COMPOUND_SURNAMES)
    single = "".join(single_surnames())
    return f"(?:{compound}|[{single}])"


@cache
def ethnicity_values() -> tuple[str, ...]:
    """The 56 ethnic groups, each with and without 族."""
    return (*ETHNIC_GROUPS, *(g + "族" for g in ETHNIC_GROUPS))
