"""The entity types dizuo recognises, with stable ids and Chinese / English labels."""

from __future__ import annotations

from enum import StrEnum


class Entity(StrEnum):
    """An entity type. The value is a stable snake_case id stored in catalogs and reports."""

    RESIDENT_ID = "resident_id"
    RESIDENT_ID_15 = "resident_id_15"
    MOBILE_PHONE = "mobile_phone"
    LANDLINE_PHONE = "landline_phone"
    EMAIL = "email"
    BANK_CARD = "bank_card"
    USCC = "uscc"
    ORG_CODE = "org_code"
    LICENSE_PLATE = "license_plate"
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    PERSON_NAME = "person_name"
    PERSON_NAME_LATIN = "person_name_latin"
    ADDRESS = "address"
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    MAC_ADDRESS = "mac_address"
    LATITUDE = "latitude"
    LONGITUDE = "longitude"
    GPS_TEXT = "gps_text"
    BIRTH_DATE = "birth_date"
    GENDER = "gender"
    ETHNICITY = "ethnicity"
    ICD10_CODE = "icd10_code"
    DISEASE = "disease"
    VIN = "vin"

    @property
    def label_zh(self) -> str:
        """The Chinese label."""
        return LABELS[self][0]

    @property
    def label_en(self) -> str:
        """The English label."""
        return LABELS[self][1]

    def label(self, lang: str = "zh") -> str:
        """The label in ``lang`` ("zh" or "en")."""
        return self.label_en if lang == "en" else self.label_zh


LABELS: dict[Entity, tuple[str, str]] = {
    Entity.RESIDENT_ID: ("居民身份证号码", "resident ID number"),
    Entity.RESIDENT_ID_15: ("15 位身份证号码", "15-digit resident ID number"),
    Entity.MOBILE_PHONE: ("手机号码", "mobile phone number"),
    Entity.LANDLINE_PHONE: ("固定电话号码", "landline phone number"),
    Entity.EMAIL: ("电子邮箱", "email address"),
    Entity.BANK_CARD: ("银行卡号", "bank card number"),
    Entity.USCC: ("统一社会信用代码", "unified social credit code"),
    Entity.ORG_CODE: ("组织机构代码", "organisation code"),
    Entity.LICENSE_PLATE: ("机动车号牌", "vehicle licence plate"),
    Entity.PASSPORT: ("护照号码", "passport number"),
    Entity.HK_MACAO_PERMIT: ("港澳通行证号码", "Hong Kong / Macao travel permit"),
    Entity.TAIWAN_PERMIT: ("台湾通行证号码", "Taiwan travel permit"),
    Entity.PERSON_NAME: ("姓名", "person name"),
    Entity.PERSON_NAME_LATIN: ("姓名（拉丁字母）", "person name (Latin script)"),
    Entity.ADDRESS: ("地址", "postal address"),
    Entity.IPV4: ("IPv4 地址", "IPv4 address"),
    Entity.IPV6: ("IPv6 地址", "IPv6 address"),
    Entity.MAC_ADDRESS: ("MAC 地址", "MAC address"),
    Entity.LATITUDE: ("纬度", "latitude"),
    Entity.LONGITUDE: ("经度", "longitude"),
    Entity.GPS_TEXT: ("经纬度", "GPS coordinates"),
    Entity.BIRTH_DATE: ("出生日期", "date of birth"),
    Entity.GENDER: ("性别", "gender"),
    Entity.ETHNICITY: ("民族", "ethnicity"),
    Entity.ICD10_CODE: ("ICD-10 疾病编码", "ICD-10 diagnosis code"),
    Entity.DISEASE: ("疾病名称", "disease term"),
    Entity.VIN: ("车辆识别代号", "vehicle identification number"),
}
