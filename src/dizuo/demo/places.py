"""Chengdu's district/county-level divisions, their roads, and birthplaces elsewhere.

Codes are GB/T 2260 administrative division codes. A resident ID carries the code of the
place of registration as it was then, so every division lists the codes it had over time as
``(code, first_year, last_year)``: a person born in 1975 in what is now 温江区 (510115, since
2002) gets 512721, the code of 温江县 of 温江地区 before 1983. The periods follow the
division-code history that python-stdnum's ``stdnum/cn/loc.dat`` records, so every ID the
generator makes names a code that was valid in the holder's birth year.

Road names are real roads of each district; house numbers, buildings and rooms are synthetic.
Population weights follow the 2020 census counts per division (rounded).
"""

from __future__ import annotations

from dataclasses import dataclass

CITY = "成都市"
CITY_CODE = 510100
OPEN_START = 0  # "no lower bound" in a code period
OPEN_END = 9999  # "still valid"


@dataclass(frozen=True)
class District:
    """A district, county or county-level city of Chengdu."""

    code: int
    name: str
    population: float  # 2020 census, 万人 (rounded), used as a weight
    roads: tuple[str, ...]
    history: tuple[tuple[int, int, int], ...]  # (code, first year, last year), newest first


_URBAN_OLD = (510120, OPEN_START, 1983)  # 成都市市区 before 1983

DISTRICTS: tuple[District, ...] = (
    District(
        510104,
        "锦江区",
        90.3,
        ("东大街", "红星路三段", "总府路", "书院街", "天仙桥北路", "莲桂南路", "静安路", "菱窠路"),
        ((510104, 1990, OPEN_END), (510102, 1983, 1990), _URBAN_OLD),
    ),
    District(
        510105,
        "青羊区",
        95.5,
        (
            "人民中路二段",
            "长顺上街",
            "金河路",
            "蜀都大道",
            "青华路",
            "光华大道",
            "西大街",
            "草市街",
        ),
        ((510105, 1990, OPEN_END), (510103, 1983, 1990), _URBAN_OLD),
    ),
    District(
        510106,
        "金牛区",
        126.6,
        (
            "蜀汉路",
            "营门口路",
            "金府路",
            "沙湾路",
            "解放路二段",
            "茶店子正街",
            "交大路",
            "马鞍北路",
        ),
        ((510106, 1990, OPEN_END), (510111, 1983, 1990), _URBAN_OLD),
    ),
    District(
        510107,
        "武侯区",
        120.6,
        (
            "玉林北路",
            "人民南路四段",
            "科华北路",
            "武侯祠大街",
            "倪家桥路",
            "桐梓林北路",
            "高升桥路",
        ),
        ((510107, 1990, OPEN_END), (510103, 1983, 1990), _URBAN_OLD),
    ),
    District(
        510108,
        "成华区",
        138.1,
        (
            "建设路",
            "府青路",
            "二仙桥东路",
            "双林路",
            "猛追湾街",
            "崔家店路",
            "八里庄路",
            "杉板桥路",
        ),
        ((510108, 1990, OPEN_END), (510102, 1983, 1990), _URBAN_OLD),
    ),
    District(
        510112,
        "龙泉驿区",
        134.6,
        ("龙都南路", "驿都大道", "北京路", "航天北路", "车城东一路", "建材路"),
        ((510112, 1983, OPEN_END), _URBAN_OLD),
    ),
    District(
        510113,
        "青白江区",
        49.0,
        ("凤凰大道", "大同路", "华金大道", "青江南路", "红阳路"),
        ((510113, 1983, OPEN_END), _URBAN_OLD),
    ),
    District(
        510114,
        "新都区",
        156.0,
        ("新都大道", "桂湖中路", "马超东路", "育英路", "蜀龙大道"),
        ((510114, 2001, OPEN_END), (510125, 1983, 2001), (512723, OPEN_START, 1983)),
    ),
    District(
        510115,
        "温江区",
        96.8,
        ("光华大道三段", "凤溪大道", "柳城大道", "德通桥路", "江安路", "南熏大道"),
        ((510115, 2002, OPEN_END), (510123, 1983, 2002), (512721, OPEN_START, 1983)),
    ),
    District(
        510116,
        "双流区",
        266.1,
        ("棠湖西路", "白衣上街", "藏卫路", "双华路", "西航港大道", "牧华路"),
        ((510116, 2015, OPEN_END), (510122, OPEN_START, 2015)),
    ),
    District(
        510117,
        "郫都区",
        139.2,
        ("望丛中路", "红光大道", "犀安路", "德源大道", "郫花路"),
        ((510117, 2016, OPEN_END), (510124, 1983, 2016), (512722, OPEN_START, 1983)),
    ),
    District(
        510118,
        "新津区",
        36.3,
        ("五津东路", "五津西路", "新平大道", "兴园路"),
        ((510118, 2020, OPEN_END), (510132, 1983, 2020), (512732, OPEN_START, 1983)),
    ),
    District(
        510121,
        "金堂县",
        80.0,
        ("金广路", "十里大道", "迎宾大道", "金山路"),
        ((510121, OPEN_START, OPEN_END),),
    ),
    District(
        510129,
        "大邑县",
        51.6,
        ("雪山大道", "东壕沟路", "晋原大道", "南街"),
        ((510129, 1983, OPEN_END), (512729, OPEN_START, 1983)),
    ),
    District(
        510131,
        "蒲江县",
        25.6,
        ("朝阳大道", "鹤山路", "河滨路", "蒲砚路"),
        ((510131, 1983, OPEN_END), (512731, OPEN_START, 1983)),
    ),
    District(
        510181,
        "都江堰市",
        71.0,
        ("幸福大道", "蒲阳路", "玉垒路", "奎光路", "宝莲路"),
        ((510181, 1989, OPEN_END), (510127, 1983, 1988), (512727, OPEN_START, 1983)),
    ),
    District(
        510182,
        "彭州市",
        78.1,
        ("天府东路", "金彭西路", "朝阳北路", "南大街"),
        ((510182, 1993, OPEN_END), (510126, 1983, 1993), (512726, OPEN_START, 1983)),
    ),
    District(
        510183,
        "邛崃市",
        60.3,
        ("文君街", "长松路", "杏林路", "临邛路"),
        ((510183, 1994, OPEN_END), (510130, 1983, 1994), (512730, OPEN_START, 1983)),
    ),
    District(
        510184,
        "崇州市",
        73.6,
        ("蜀州中路", "唐安西路", "永康东路", "晨曦大道"),
        ((510184, 1994, OPEN_END), (510128, 1983, 1994), (512728, OPEN_START, 1983)),
    ),
    District(
        510185,
        "简阳市",
        111.9,
        ("雄州大道", "简州大道", "政府街", "园中路"),
        (
            (510185, 2016, OPEN_END),
            (512081, 2000, 2016),
            (513902, 1998, 2000),
            (511082, 1994, 1998),
            (511027, 1985, 1994),
            (512424, OPEN_START, 1985),
        ),
    ),
)


@dataclass(frozen=True)
class Origin:
    """A birthplace outside Chengdu: one division code and the years it was valid."""

    code: int
    name: str
    first: int
    last: int
    weight: float
    ethnic: str = ""  # ethnicity that mostly comes from here ("" = anyone)


# Birthplaces of residents born elsewhere: other Sichuan prefectures first, then other
# provinces. Codes whose period starts in 1983 or later have an older neighbour listed too,
# so every birth year 1934–2024 has choices.
ORIGINS: tuple[Origin, ...] = (
    Origin(510703, "绵阳市涪城区", 1992, OPEN_END, 3.0),
    Origin(510722, "绵阳市三台县", 1985, OPEN_END, 2.0),
    Origin(510603, "德阳市旌阳区", 1996, OPEN_END, 2.0),
    Origin(510623, "德阳市中江县", 1983, OPEN_END, 2.0),
    Origin(512834, "中江县", OPEN_START, 1983, 1.5),
    Origin(512822, "绵竹县", OPEN_START, 1983, 1.0),
    Origin(512821, "德阳县", OPEN_START, 1983, 1.0),
    Origin(511302, "南充市顺庆区", 1993, OPEN_END, 3.0),
    Origin(511321, "南充市南部县", 1993, OPEN_END, 2.0),
    Origin(511402, "眉山市东坡区", 2000, OPEN_END, 2.0),
    Origin(511421, "眉山市仁寿县", 2000, OPEN_END, 2.0),
    Origin(512002, "资阳市雁江区", 2000, OPEN_END, 2.0),
    Origin(511002, "内江市市中区", 1985, OPEN_END, 2.0),
    Origin(511025, "内江市资中县", 1985, OPEN_END, 2.0),
    Origin(511102, "乐山市市中区", 1985, OPEN_END, 2.0),
    Origin(510502, "泸州市江阳区", 1983, OPEN_END, 2.0),
    Origin(510521, "泸州市泸县", 1983, OPEN_END, 1.0),
    Origin(512521, "泸县", OPEN_START, 1983, 1.0),
    Origin(512522, "富顺县", OPEN_START, 1983, 1.0),
    Origin(511502, "宜宾市翠屏区", 1996, OPEN_END, 2.0),
    Origin(510802, "广元市利州区", 1985, OPEN_END, 1.0),
    Origin(510903, "遂宁市船山区", 2003, OPEN_END, 1.0),
    Origin(511602, "广安市广安区", 1998, OPEN_END, 1.0),
    Origin(511702, "达州市通川区", 1999, OPEN_END, 1.0),
    Origin(511902, "巴中市巴州区", 2000, OPEN_END, 1.0),
    Origin(511802, "雅安市雨城区", 2000, OPEN_END, 1.0),
    Origin(513121, "雅安县", OPEN_START, 1983, 1.0),
    Origin(510302, "自贡市自流井区", 1983, OPEN_END, 1.0),
    Origin(510321, "自贡市荣县", OPEN_START, OPEN_END, 1.0),
    Origin(510402, "攀枝花市东区", 1983, OPEN_END, 0.5),
    Origin(510421, "攀枝花市米易县", OPEN_START, OPEN_END, 0.5),
    Origin(513401, "凉山彝族自治州西昌市", OPEN_START, OPEN_END, 1.0, "彝族"),
    Origin(513431, "凉山彝族自治州昭觉县", OPEN_START, OPEN_END, 0.5, "彝族"),
    Origin(513436, "凉山彝族自治州美姑县", OPEN_START, OPEN_END, 0.5, "彝族"),
    Origin(513221, "阿坝藏族羌族自治州汶川县", OPEN_START, OPEN_END, 0.5, "羌族"),
    Origin(513222, "阿坝藏族羌族自治州理县", OPEN_START, OPEN_END, 0.3, "羌族"),
    Origin(513231, "阿坝藏族羌族自治州阿坝县", OPEN_START, OPEN_END, 0.3, "藏族"),
    Origin(513328, "甘孜藏族自治州甘孜县", OPEN_START, OPEN_END, 0.3, "藏族"),
    Origin(513322, "甘孜藏族自治州泸定县", OPEN_START, OPEN_END, 0.3, "藏族"),
    Origin(540102, "拉萨市城关区", 1983, OPEN_END, 0.3, "藏族"),
    Origin(540121, "拉萨市林周县", OPEN_START, OPEN_END, 0.2, "藏族"),
    Origin(500103, "重庆市渝中区", 1997, OPEN_END, 2.0),
    Origin(500101, "重庆市万州区", 1997, OPEN_END, 1.5),
    Origin(512121, "江津县", OPEN_START, 1983, 1.0),
    Origin(512127, "荣昌县", OPEN_START, 1983, 1.0),
    Origin(530102, "昆明市五华区", 1983, OPEN_END, 0.8),
    Origin(532328, "楚雄彝族自治州元谋县", OPEN_START, OPEN_END, 0.3),
    Origin(520102, "贵阳市南明区", 1983, OPEN_END, 0.8),
    Origin(522631, "黔东南苗族侗族自治州黎平县", OPEN_START, OPEN_END, 0.3, "苗族"),
    Origin(433123, "湘西土家族苗族自治州凤凰县", OPEN_START, OPEN_END, 0.3, "苗族"),
    Origin(422822, "恩施土家族苗族自治州建始县", OPEN_START, OPEN_END, 0.4, "土家族"),
    Origin(610113, "西安市雁塔区", 1983, OPEN_END, 0.8),
    Origin(610323, "宝鸡市岐山县", OPEN_START, OPEN_END, 0.3),
    Origin(420106, "武汉市武昌区", 1983, OPEN_END, 0.6),
    Origin(430102, "长沙市芙蓉区", 1983, OPEN_END, 0.5),
    Origin(430121, "长沙市长沙县", OPEN_START, OPEN_END, 0.3),
    Origin(620102, "兰州市城关区", 1983, OPEN_END, 0.4),
    Origin(622921, "临夏回族自治州临夏县", OPEN_START, OPEN_END, 0.3, "回族"),
    Origin(630102, "西宁市城东区", 1983, OPEN_END, 0.3, "回族"),
    Origin(410102, "郑州市中原区", 1983, OPEN_END, 0.5),
    Origin(110101, "北京市东城区", OPEN_START, OPEN_END, 0.5),
    Origin(110108, "北京市海淀区", OPEN_START, OPEN_END, 0.4),
    Origin(310101, "上海市黄浦区", OPEN_START, OPEN_END, 0.4),
    Origin(310104, "上海市徐汇区", OPEN_START, OPEN_END, 0.3),
    Origin(440106, "广州市天河区", 1985, OPEN_END, 0.4),
    Origin(320102, "南京市玄武区", 1983, OPEN_END, 0.3),
    Origin(330106, "杭州市西湖区", 1983, OPEN_END, 0.3),
    Origin(360121, "南昌市南昌县", OPEN_START, OPEN_END, 0.2),
)


def district_names() -> list[str]:
    """The 20 division names in code order."""
    return [d.name for d in DISTRICTS]


def all_region_codes() -> set[int]:
    """Every division code the generator may write into an ID or a USCC."""
    codes = {c for d in DISTRICTS for c, _, _ in d.history}
    codes |= {d.code for d in DISTRICTS}
    codes |= {o.code for o in ORIGINS}
    codes.add(CITY_CODE)
    return codes


def code_periods() -> list[tuple[int, int, int]]:
    """``(code, first year, last year)`` for every code an ID may carry."""
    periods = [p for d in DISTRICTS for p in d.history]
    periods += [(o.code, o.first, o.last) for o in ORIGINS]
    return periods
