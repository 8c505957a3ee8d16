"""Vocabulary: ethnic groups, ages, given names, diagnoses, industries, hotline topics.

Surnames and their frequencies, and the older generation's given names, come from Faker's
``zh_CN`` person provider (class attributes, read once; Faker is never called per row).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from faker.providers.company.zh_CN import Provider as CompanyProvider
from faker.providers.person.zh_CN import Provider as PersonProvider

# The 56 groups are not all needed; these cover Chengdu's population (汉族 ≈ 95 %; 藏、彝、
# 羌 from western Sichuan, 回、土家、苗 and others from neighbouring provinces).
ETHNICITIES: tuple[tuple[str, float], ...] = (
    ("汉族", 0.950),
    ("藏族", 0.012),
    ("彝族", 0.011),
    ("羌族", 0.004),
    ("回族", 0.006),
    ("土家族", 0.005),
    ("苗族", 0.004),
    ("满族", 0.002),
    ("蒙古族", 0.002),
    ("壮族", 0.0015),
    ("布依族", 0.001),
    ("侗族", 0.001),
    ("白族", 0.0005),
)

# Population share (%) by five-year age band 0–4 … 85–89, shaped after the 2020 census.
AGE_BANDS: tuple[float, ...] = (
    5.8,
    6.8,
    6.4,
    5.2,
    5.3,
    6.6,
    8.8,
    7.0,
    6.7,
    8.3,
    8.7,
    7.1,
    5.2,
    5.3,
    3.6,
    2.3,
    1.4,
    0.9,
)

# Characters for given names of people born since about 1980 (the older generation's names
# come from Faker's lists, e.g. 秀英, 建国, 桂兰).
MODERN_MALE_CHARS = (
    "子浩宇轩博文睿泽俊晨一铭天嘉思梓瑞昊逸航皓然源锦远志家明立德宏杰涛鹏飞鑫斌凯健旭"
    "宁龙阳峰伟强磊勇军超刚辉华波亮成建国东林"
)
MODERN_FEMALE_CHARS = (
    "欣怡涵雨萱梓诗琪悦思佳一可馨雪婷晴嘉梦语若紫依子静丽婉慧琳颖月瑶艺璇芳娜敏秀英"
    "艳娟霞燕玲丹萍红梅琴兰桂玉凤晨莹洁云"
)


@cache
def surnames() -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Faker's zh_CN surnames and their relative frequencies."""
    table = PersonProvider.last_names
    assert isinstance(table, dict)
    return tuple(table.keys()), tuple(float(v) for v in table.values())


@cache
def old_given_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Faker's zh_CN given names (male, female): the names of the older generation."""
    return tuple(PersonProvider.first_names_male), tuple(PersonProvider.first_names_female)


@cache
def company_prefixes() -> tuple[str, ...]:
    """Two-character trade names (字号) taken from Faker's zh_CN company prefixes."""
    return tuple(
        p
        for p in dict.fromkeys(CompanyProvider.company_prefixes)
        if len(p) == 2 and "公司" not in p
    )


# Trade-name characters combined into more 字号 (e.g. 蓉信, 锦泰).
TRADE_NAME_CHARS = "蓉锦川蜀天府鑫泰华宏盛恒达源博创信通汇科联智德瑞丰和安康新兴嘉远鼎润宸昊星辰"


@dataclass(frozen=True)
class Diagnosis:
    """An ICD-10 diagnosis with the department that sees it and who can have it."""

    code: str
    name: str
    department: str
    weight: float
    group: str  # "child" (< 14), "adult", "female" (adult women), "male" (men ≥ 45), "any"
    fee: float  # median fee in yuan


DIAGNOSES: tuple[Diagnosis, ...] = (
    Diagnosis("J06.9", "急性上呼吸道感染", "呼吸内科", 10.0, "any", 120),
    Diagnosis("J20.9", "急性支气管炎", "呼吸内科", 5.0, "any", 180),
    Diagnosis("J18.9", "肺炎", "呼吸内科", 2.0, "any", 650),
    Diagnosis("J45.9", "哮喘", "呼吸内科", 1.0, "any", 260),
    Diagnosis("J44.9", "慢性阻塞性肺病", "呼吸内科", 1.5, "adult", 420),
    Diagnosis("J02.9", "急性咽炎", "耳鼻咽喉科", 3.0, "any", 90),
    Diagnosis("J03.9", "急性扁桃体炎", "耳鼻咽喉科", 2.0, "any", 140),
    Diagnosis("J30.4", "变应性鼻炎", "耳鼻咽喉科", 2.0, "any", 160),
    Diagnosis("H66.9", "中耳炎", "耳鼻咽喉科", 1.0, "any", 150),
    Diagnosis("I10", "特发性（原发性）高血压", "心血管内科", 9.0, "adult", 230),
    Diagnosis("I25.1", "动脉硬化性心脏病", "心血管内科", 2.5, "adult", 520),
    Diagnosis("I48", "心房颤动和扑动", "心血管内科", 1.0, "adult", 480),
    Diagnosis("I63.9", "脑梗死", "神经内科", 1.5, "adult", 900),
    Diagnosis("G43.9", "偏头痛", "神经内科", 1.5, "adult", 210),
    Diagnosis("G47.0", "失眠", "神经内科", 1.5, "adult", 180),
    Diagnosis("E11.9", "2型糖尿病", "内分泌科", 7.0, "adult", 280),
    Diagnosis("E78.5", "高脂血症", "内分泌科", 3.0, "adult", 240),
    Diagnosis("E03.9", "甲状腺功能减退症", "内分泌科", 1.5, "adult", 260),
    Diagnosis("E05.9", "甲状腺毒症", "内分泌科", 1.0, "adult", 300),
    Diagnosis("K29.7", "胃炎", "消化内科", 5.0, "adult", 210),
    Diagnosis("K21.9", "胃食管反流病", "消化内科", 2.0, "adult", 260),
    Diagnosis("K25.9", "胃溃疡", "消化内科", 1.0, "adult", 380),
    Diagnosis("K59.0", "便秘", "消化内科", 1.5, "any", 110),
    Diagnosis("A09", "感染性腹泻", "消化内科", 3.0, "any", 160),
    Diagnosis("K35.8", "急性阑尾炎", "普外科", 0.8, "any", 1200),
    Diagnosis("K80.2", "胆囊结石", "普外科", 1.0, "adult", 560),
    Diagnosis("N39.0", "泌尿道感染", "泌尿外科", 2.0, "any", 190),
    Diagnosis("N40", "前列腺增生", "泌尿外科", 1.5, "male", 320),
    Diagnosis("N20.0", "肾结石", "泌尿外科", 1.0, "adult", 450),
    Diagnosis("N76.0", "急性阴道炎", "妇产科", 1.5, "female", 170),
    Diagnosis("N92.0", "月经过多", "妇产科", 1.0, "female", 200),
    Diagnosis("Z34.9", "正常妊娠监督", "妇产科", 2.0, "female", 260),
    Diagnosis("M54.5", "腰痛", "骨科", 3.0, "adult", 240),
    Diagnosis("M17.9", "膝关节病", "骨科", 2.0, "adult", 300),
    Diagnosis("M47.8", "颈椎病", "骨科", 2.5, "adult", 260),
    Diagnosis("M81.9", "骨质疏松", "骨科", 1.0, "adult", 330),
    Diagnosis("S93.4", "踝扭伤", "骨科", 1.0, "any", 280),
    Diagnosis("S52.5", "桡骨下端骨折", "骨科", 0.5, "any", 1500),
    Diagnosis("L20.9", "特应性皮炎", "皮肤科", 1.5, "any", 190),
    Diagnosis("L50.9", "荨麻疹", "皮肤科", 1.5, "any", 150),
    Diagnosis("L70.0", "寻常痤疮", "皮肤科", 1.5, "adult", 170),
    Diagnosis("H10.9", "结膜炎", "眼科", 1.5, "any", 110),
    Diagnosis("H52.1", "近视", "眼科", 2.0, "any", 160),
    Diagnosis("H25.9", "老年性白内障", "眼科", 1.0, "adult", 420),
    Diagnosis("K02.9", "龋病", "口腔科", 2.5, "any", 260),
    Diagnosis("K05.1", "慢性龈炎", "口腔科", 1.5, "any", 220),
    Diagnosis("F32.9", "抑郁发作", "精神心理科", 1.0, "adult", 350),
    Diagnosis("F41.1", "广泛性焦虑障碍", "精神心理科", 1.0, "adult", 330),
    Diagnosis("R50.9", "发热", "急诊科", 2.0, "any", 240),
    Diagnosis("Z00.0", "健康查体", "全科医学科", 2.0, "adult", 300),
    Diagnosis("R51", "头痛", "中医科", 1.5, "adult", 150),
    Diagnosis("J06.9", "急性上呼吸道感染", "儿科", 9.0, "child", 110),
    Diagnosis("J20.9", "急性支气管炎", "儿科", 4.0, "child", 160),
    Diagnosis("J18.0", "支气管肺炎", "儿科", 2.0, "child", 520),
    Diagnosis("B08.4", "手足口病", "儿科", 1.5, "child", 180),
    Diagnosis("B01.9", "水痘", "儿科", 0.8, "child", 150),
    Diagnosis("A09", "感染性腹泻", "儿科", 2.5, "child", 140),
)

# 国民经济行业分类 (GB/T 4754-2017) sections, with a word used in company names.
INDUSTRIES: tuple[tuple[str, str, str, float], ...] = (
    ("A", "农、林、牧、渔业", "农业科技", 2.0),
    ("C", "制造业", "机械制造", 9.0),
    ("D", "电力、热力、燃气及水生产和供应业", "能源", 1.0),
    ("E", "建筑业", "建筑工程", 7.0),
    ("F", "批发和零售业", "商贸", 22.0),
    ("G", "交通运输、仓储和邮政业", "物流", 4.0),
    ("H", "住宿和餐饮业", "餐饮管理", 6.0),
    ("I", "信息传输、软件和信息技术服务业", "信息技术", 10.0),
    ("J", "金融业", "投资管理", 1.5),
    ("K", "房地产业", "置业", 3.0),
    ("L", "租赁和商务服务业", "企业管理咨询", 12.0),
    ("M", "科学研究和技术服务业", "科技", 9.0),
    ("N", "水利、环境和公共设施管理业", "环保科技", 1.0),
    ("O", "居民服务、修理和其他服务业", "家政服务", 3.0),
    ("P", "教育", "教育咨询", 2.0),
    ("Q", "卫生和社会工作", "健康管理", 1.5),
    ("R", "文化、体育和娱乐业", "文化传播", 6.0),
)

# 12345 hotline: category → complaint phrases (诉求).
HOTLINE_TOPICS: dict[str, tuple[str, ...]] = {
    "噪音扰民": ("楼上装修噪音很大", "广场舞音响太吵", "夜间施工噪音扰民", "商铺外放音乐声音过大"),
    "道路维修": ("路面坑洼不平", "井盖破损", "人行道地砖松动", "路灯长期不亮"),
    "物业纠纷": ("物业费收费不合理", "电梯经常故障", "楼顶漏水物业不处理", "车位被长期占用"),
    "环境卫生": ("垃圾未及时清运", "下水道堵塞有异味", "餐馆油烟扰民"),
    "交通出行": ("公交车不按站停靠", "共享单车乱停乱放", "出租车拒载", "地铁站出口指引不清"),
    "劳动保障": ("单位拖欠工资", "未签订劳动合同", "单位未缴纳社保"),
    "消费维权": ("商家拒绝退款", "预付卡商家跑路", "网购商品质量问题"),
    "供水供电": ("停水未提前通知", "小区频繁停电", "水压不足"),
    "教育咨询": ("学校收取额外费用", "校外培训机构退费难", "咨询入学政策"),
    "房屋建设": ("有人违章搭建", "楼盘延期交房", "新房墙体开裂"),
    "证件办理": ("咨询身份证补办", "咨询居住证办理", "咨询户口迁移"),
}

HOTLINE_UNITS: tuple[str, ...] = (  # 承办单位: "<division>" + one of these
    "住房和城乡建设局",
    "城市管理局",
    "生态环境局",
    "市场监督管理局",
    "人力资源和社会保障局",
    "教育局",
    "公安分局",
    "交通运输局",
)

# Doctor's notes (医生备注): filler phrases around the names, phones and IDs.
SYMPTOMS: tuple[str, ...] = (
    "咳嗽",
    "发热",
    "咽痛",
    "头痛",
    "腹痛",
    "腹泻",
    "胸闷",
    "乏力",
    "头晕",
    "皮疹",
    "腰痛",
    "膝关节疼痛",
    "失眠",
    "视物模糊",
)
TREATMENTS: tuple[str, ...] = (
    "口服药物治疗",
    "雾化吸入",
    "静脉输液",
    "针灸理疗",
    "外用药膏",
    "中药调理",
    "对症处理",
)
ADVICE: tuple[str, ...] = (
    "多饮水",
    "清淡饮食",
    "一周后复诊",
    "按时服药",
    "不适随诊",
    "监测血压",
    "监测血糖",
    "注意休息",
)
RELATIONS: tuple[str, ...] = ("配偶", "家属", "爱人")
