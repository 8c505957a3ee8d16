"""Schools, hospitals, scenic spots and hotels of Chengdu.

Names of real institutions are used as they are publicly known; which district each sits in
is approximate for a few campuses. Generated names ("锦江区第三小学") fill the gaps so every
district has schools of every level. Enrolments, visits, stays and prices are synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass

PRIMARY, MIDDLE, HIGH = 0, 1, 2  # school levels: 小学 / 初中 / 高中


@dataclass(frozen=True)
class School:
    """A school and the levels it teaches."""

    name: str
    district: int  # GB/T 2260 code
    levels: tuple[int, ...]
    weight: float = 3.0  # famous schools enrol more than a generated one


REAL_SCHOOLS: tuple[School, ...] = (
    School("成都市第七中学", 510107, (HIGH,), 6.0),
    School("成都石室中学", 510105, (MIDDLE, HIGH), 6.0),
    School("成都市树德中学", 510105, (MIDDLE, HIGH), 6.0),
    School("成都市第十二中学", 510107, (MIDDLE, HIGH)),
    School("成都市玉林中学", 510107, (MIDDLE, HIGH)),
    School("成都七中育才学校", 510104, (MIDDLE,), 5.0),
    School("成都市盐道街中学", 510104, (MIDDLE, HIGH)),
    School("成都市棕北中学", 510107, (MIDDLE,)),
    School("成都市树德实验中学", 510105, (MIDDLE,)),
    School("成都市第二十中学", 510108, (MIDDLE, HIGH)),
    School("成都市华西中学", 510108, (MIDDLE, HIGH)),
    School("成都市铁路中学", 510106, (MIDDLE, HIGH)),
    School("成都市金牛实验中学", 510106, (MIDDLE,)),
    School("成都外国语学校", 510117, (MIDDLE, HIGH), 4.0),
    School("成都市龙泉中学", 510112, (HIGH,)),
    School("成都市大弯中学", 510113, (MIDDLE, HIGH)),
    School("成都市新都一中", 510114, (HIGH,)),
    School("成都市温江中学", 510115, (HIGH,)),
    School("成都市双流中学", 510116, (MIDDLE, HIGH)),
    School("成都市郫都区第一中学", 510117, (HIGH,)),
    School("四川省新津中学", 510118, (HIGH,)),
    School("四川省金堂中学", 510121, (HIGH,)),
    School("四川省大邑中学", 510129, (HIGH,)),
    School("四川省蒲江县蒲江中学", 510131, (HIGH,)),
    School("四川省都江堰中学", 510181, (HIGH,)),
    School("四川省彭州中学", 510182, (HIGH,)),
    School("四川省邛崃市第一中学", 510183, (HIGH,)),
    School("四川省崇州市崇庆中学", 510184, (HIGH,)),
    School("四川省简阳中学", 510185, (HIGH,)),
    School("成都市泡桐树小学", 510105, (PRIMARY,), 6.0),
    School("成都市龙江路小学", 510107, (PRIMARY,), 6.0),
    School("成都市实验小学", 510105, (PRIMARY,), 5.0),
    School("成都市盐道街小学", 510104, (PRIMARY,), 5.0),
    School("成都市草堂小学", 510105, (PRIMARY,), 5.0),
    School("成都市胜西小学", 510106, (PRIMARY,)),
    School("成都市金沙小学", 510105, (PRIMARY,)),
    School("成都市娇子小学", 510107, (PRIMARY,)),
    School("成都市天涯石小学", 510104, (PRIMARY,)),
    School("成都市人民北路小学", 510106, (PRIMARY,)),
    School("成都市双林小学", 510108, (PRIMARY,)),
    School("成都市建设路小学", 510108, (PRIMARY,)),
)

CHINESE_ORDINALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十")
GENERATED_PER_LEVEL = 6  # "XX区第一小学" … "XX区第六小学" in every division


@dataclass(frozen=True)
class Hospital:
    """A hospital and the clinical departments (科室) it runs."""

    name: str
    district: int
    weight: float
    departments: tuple[str, ...] | None = None  # None: a general hospital with all of them


CLINICAL_DEPARTMENTS: tuple[str, ...] = (
    "呼吸内科",
    "心血管内科",
    "内分泌科",
    "消化内科",
    "神经内科",
    "泌尿外科",
    "普外科",
    "骨科",
    "妇产科",
    "儿科",
    "皮肤科",
    "眼科",
    "耳鼻咽喉科",
    "口腔科",
    "精神心理科",
    "急诊科",
    "全科医学科",
    "中医科",
)

HOSPITALS: tuple[Hospital, ...] = (
    Hospital("四川大学华西医院", 510107, 10.0),
    Hospital("四川省人民医院", 510105, 8.0),
    Hospital("成都市第一人民医院", 510107, 5.0),
    Hospital("成都市第二人民医院", 510104, 5.0),
    Hospital("成都市第三人民医院", 510105, 5.0),
    Hospital("成都市第五人民医院", 510115, 3.0),
    Hospital("成都市第六人民医院", 510108, 3.0),
    Hospital("成都中医药大学附属医院", 510106, 5.0),
    Hospital("四川省妇幼保健院", 510107, 3.0, ("妇产科", "儿科")),
    Hospital("四川大学华西第二医院", 510107, 3.0, ("妇产科", "儿科")),
    Hospital("成都市妇女儿童中心医院", 510105, 3.0, ("妇产科", "儿科")),
    Hospital("四川大学华西口腔医院", 510107, 2.0, ("口腔科",)),
    Hospital("成都市第四人民医院", 510106, 1.5, ("精神心理科",)),
    Hospital("成都市龙泉驿区第一人民医院", 510112, 2.0),
    Hospital("成都市新都区人民医院", 510114, 2.0),
    Hospital("成都市双流区第一人民医院", 510116, 2.5),
    Hospital("成都市郫都区人民医院", 510117, 2.0),
    Hospital("都江堰市人民医院", 510181, 1.5),
    Hospital("彭州市人民医院", 510182, 1.5),
    Hospital("简阳市人民医院", 510185, 1.5),
)


@dataclass(frozen=True)
class ScenicSpot:
    """A scenic spot, museum or historic town with its full ticket price (yuan; 0 = free)."""

    name: str
    district: int
    price: int
    weight: float


SCENIC_SPOTS: tuple[ScenicSpot, ...] = (
    ScenicSpot("成都大熊猫繁育研究基地", 510108, 55, 10.0),
    ScenicSpot("武侯祠", 510107, 50, 7.0),
    ScenicSpot("杜甫草堂", 510105, 50, 5.0),
    ScenicSpot("宽窄巷子", 510105, 0, 9.0),
    ScenicSpot("锦里", 510107, 0, 8.0),
    ScenicSpot("青城山", 510181, 80, 4.0),
    ScenicSpot("都江堰景区", 510181, 80, 4.0),
    ScenicSpot("金沙遗址博物馆", 510105, 70, 4.0),
    ScenicSpot("文殊院", 510105, 0, 4.0),
    ScenicSpot("黄龙溪古镇", 510116, 0, 3.0),
    ScenicSpot("西岭雪山", 510129, 100, 2.0),
    ScenicSpot("四川博物院", 510105, 0, 3.0),
    ScenicSpot("成都博物馆", 510105, 0, 4.0),
    ScenicSpot("洛带古镇", 510112, 0, 2.0),
    ScenicSpot("安仁古镇", 510129, 0, 1.5),
    ScenicSpot("街子古镇", 510184, 0, 1.0),
    ScenicSpot("平乐古镇", 510183, 0, 1.0),
    ScenicSpot("望江楼公园", 510107, 20, 1.5),
    ScenicSpot("青羊宫", 510105, 10, 1.5),
    ScenicSpot("成都欢乐谷", 510106, 230, 2.0),
    ScenicSpot("东郊记忆", 510108, 0, 1.5),
    ScenicSpot("三圣花乡", 510104, 0, 1.5),
)


@dataclass(frozen=True)
class Hotel:
    """A hotel and the range of its floors."""

    name: str
    district: int
    weight: float
    floors: int


LANDMARK_HOTELS: tuple[Hotel, ...] = (
    Hotel("成都香格里拉大酒店", 510104, 3.0, 38),
    Hotel("锦江宾馆", 510104, 3.0, 17),
    Hotel("成都瑞吉酒店", 510104, 1.5, 40),
    Hotel("成都博舍", 510104, 1.0, 5),
    Hotel("成都群光君悦酒店", 510104, 2.0, 30),
    Hotel("成都尼依格罗酒店", 510104, 1.0, 40),
    Hotel("成都钓鱼台精品酒店", 510105, 1.0, 4),
    Hotel("成都天府丽都喜来登饭店", 510105, 2.0, 30),
    Hotel("成都富力丽思卡尔顿酒店", 510105, 1.5, 45),
    Hotel("成都凯宾斯基饭店", 510107, 2.0, 25),
    Hotel("岷山饭店", 510107, 2.0, 22),
    Hotel("成都总府皇冠假日酒店", 510104, 2.0, 28),
    Hotel("金牛宾馆", 510106, 2.0, 10),
    Hotel("成都世纪城天堂洲际大饭店", 510107, 2.0, 20),
    Hotel("青城山六善酒店", 510181, 1.0, 3),
)

HOTEL_BRANDS: tuple[str, ...] = (
    "如家酒店",
    "汉庭酒店",
    "全季酒店",
    "亚朵酒店",
    "锦江之星",
    "7天酒店",
    "维也纳酒店",
    "桔子酒店",
    "格林豪泰酒店",
    "丽枫酒店",
    "城市便捷酒店",
)

HOTEL_BRANCHES: tuple[tuple[str, int], ...] = (
    ("成都春熙路店", 510104),
    ("成都太古里店", 510104),
    ("成都九眼桥店", 510104),
    ("成都宽窄巷子店", 510105),
    ("成都天府广场店", 510105),
    ("成都金沙遗址店", 510105),
    ("成都火车北站店", 510106),
    ("成都茶店子店", 510106),
    ("成都武侯祠店", 510107),
    ("成都玉林路店", 510107),
    ("成都世纪城店", 510107),
    ("成都火车东站店", 510108),
    ("成都熊猫基地店", 510108),
    ("成都建设路店", 510108),
    ("成都龙泉驿大面店", 510112),
    ("成都新都桂湖店", 510114),
    ("成都温江大学城店", 510115),
    ("成都双流机场店", 510116),
    ("成都郫都犀浦店", 510117),
    ("都江堰景区店", 510181),
)
