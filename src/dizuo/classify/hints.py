"""Column-name hints: Chinese words, English words and pinyin initials that suggest an entity.

A hint never decides a column on its own (see :mod:`dizuo.classify.columns`): it breaks a
near-tie between entities whose values match about equally well, raises the confidence of a
verdict the values already support, and is required for the few entities whose values cannot
say what they are (a date is a birth date, 1/2 is a gender code, a lone number is a latitude).
"""

from __future__ import annotations

import re

from dizuo.classify.entities import Entity

E = Entity

#: Chinese words found anywhere in the column name
CHINESE_HINTS: tuple[tuple[str, tuple[Entity, ...]], ...] = (
    ("身份证", (E.RESIDENT_ID, E.RESIDENT_ID_15)),
    ("证件号", (E.RESIDENT_ID, E.PASSPORT, E.HK_MACAO_PERMIT, E.TAIWAN_PERMIT)),
    ("手机", (E.MOBILE_PHONE,)),
    ("电话", (E.MOBILE_PHONE, E.LANDLINE_PHONE)),
    ("来电号码", (E.MOBILE_PHONE, E.LANDLINE_PHONE)),
    ("联系方式", (E.MOBILE_PHONE, E.LANDLINE_PHONE, E.EMAIL)),
    ("邮箱", (E.EMAIL,)),
    ("银行卡", (E.BANK_CARD,)),
    ("卡号", (E.BANK_CARD,)),
    ("信用代码", (E.USCC,)),
    ("组织机构代码", (E.ORG_CODE,)),
    ("车牌", (E.LICENSE_PLATE,)),
    ("号牌", (E.LICENSE_PLATE,)),
    ("护照", (E.PASSPORT,)),
    ("港澳", (E.HK_MACAO_PERMIT,)),
    ("台湾", (E.TAIWAN_PERMIT,)),
    ("台胞", (E.TAIWAN_PERMIT,)),
    ("姓名", (E.PERSON_NAME, E.PERSON_NAME_LATIN)),
    ("来电人", (E.PERSON_NAME,)),
    ("法定代表人", (E.PERSON_NAME,)),
    ("联系人", (E.PERSON_NAME,)),
    ("地址", (E.ADDRESS,)),
    ("住址", (E.ADDRESS,)),
    ("住所", (E.ADDRESS,)),
    ("纬度", (E.LATITUDE,)),
    ("经度", (E.LONGITUDE,)),
    ("经纬度", (E.GPS_TEXT,)),
    ("坐标", (E.GPS_TEXT,)),
    ("出生", (E.BIRTH_DATE,)),
    ("生日", (E.BIRTH_DATE,)),
    ("性别", (E.GENDER,)),
    ("民族", (E.ETHNICITY,)),
    ("诊断", (E.ICD10_CODE, E.DISEASE)),
    ("疾病", (E.ICD10_CODE, E.DISEASE)),
    ("车架号", (E.VIN,)),
    ("识别代号", (E.VIN,)),
)

#: whole ASCII words (split on anything but letters and digits)
WORD_HINTS: dict[str, tuple[Entity, ...]] = {
    "idcard": (E.RESIDENT_ID,),
    "id_no": (E.RESIDENT_ID,),
    "idno": (E.RESIDENT_ID,),
    "phone": (E.MOBILE_PHONE, E.LANDLINE_PHONE),
    "tel": (E.MOBILE_PHONE, E.LANDLINE_PHONE),
    "mobile": (E.MOBILE_PHONE,),
    "email": (E.EMAIL,),
    "mail": (E.EMAIL,),
    "uscc": (E.USCC,),
    "plate": (E.LICENSE_PLATE,),
    "passport": (E.PASSPORT,),
    "name": (E.PERSON_NAME, E.PERSON_NAME_LATIN),
    "address": (E.ADDRESS,),
    "addr": (E.ADDRESS,),
    "ip": (E.IPV4, E.IPV6),
    "mac": (E.MAC_ADDRESS,),
    "lat": (E.LATITUDE,),
    "latitude": (E.LATITUDE,),
    "lng": (E.LONGITUDE,),
    "lon": (E.LONGITUDE,),
    "longitude": (E.LONGITUDE,),
    "gps": (E.GPS_TEXT,),
    "birth": (E.BIRTH_DATE,),
    "birthday": (E.BIRTH_DATE,),
    "dob": (E.BIRTH_DATE,),
    "sex": (E.GENDER,),
    "gender": (E.GENDER,),
    "ethnicity": (E.ETHNICITY,),
    "nation": (E.ETHNICITY,),
    "icd": (E.ICD10_CODE,),
    "diagnosis": (E.ICD10_CODE, E.DISEASE),
    "vin": (E.VIN,),
}

#: pinyin initials, matched at the end of a word (lkxm = 旅客姓名, jhrxm = 监护人姓名)
PINYIN_HINTS: dict[str, tuple[Entity, ...]] = {
    "sfzh": (E.RESIDENT_ID, E.RESIDENT_ID_15),
    "sfzhm": (E.RESIDENT_ID, E.RESIDENT_ID_15),
    "zjhm": (E.RESIDENT_ID, E.PASSPORT, E.HK_MACAO_PERMIT, E.TAIWAN_PERMIT),
    "lxdh": (E.MOBILE_PHONE, E.LANDLINE_PHONE),
    "sjhm": (E.MOBILE_PHONE,),
    "dhhm": (E.MOBILE_PHONE, E.LANDLINE_PHONE),
    "xm": (E.PERSON_NAME, E.PERSON_NAME_LATIN),
    "dz": (E.ADDRESS,),
    "jtzz": (E.ADDRESS,),
    "zz": (E.ADDRESS,),
    "mz": (E.ETHNICITY,),
    "xb": (E.GENDER,),
    "csrq": (E.BIRTH_DATE,),
    "tyshxydm": (E.USCC,),
    "shxydm": (E.USCC,),
    "zzjgdm": (E.ORG_CODE,),
    "hphm": (E.LICENSE_PLATE,),
    "cphm": (E.LICENSE_PLATE,),
    "hzhm": (E.PASSPORT,),
    "yhkh": (E.BANK_CARD,),
    "jd": (E.LONGITUDE,),
    "wd": (E.LATITUDE,),
    "zdbm": (E.ICD10_CODE,),
    "jbmc": (E.DISEASE,),
    "clsbdh": (E.VIN,),
}


def hinted_entities(column: str) -> dict[Entity, str]:
    """The entities a column name suggests, each with the hint word that suggested it."""
    found: dict[Entity, str] = {}
    upper = column.upper()
    for word, entities in CHINESE_HINTS:
        if word in upper:
            for entity in entities:
                found.setdefault(entity, word)
    lowered = column.lower()
    tokens = [t for t in re.split(r"[^a-z0-9]+", lowered) if t]
    joined = "_".join(tokens)
    for word, entities in WORD_HINTS.items():
        if word in tokens or (("_" in word) and word in joined):
            for entity in entities:
                found.setdefault(entity, word)
    for token in tokens:
        for word, entities in PINYIN_HINTS.items():
            if token == word or (len(word) >= 2 and token.endswith(word) and len(token) <= 6):
                for entity in entities:
                    found.setdefault(entity, word)
    return found
