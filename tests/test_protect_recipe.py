"""Recipes: parsing, validation with one clear error each, and proposals."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dizuo.errors import InvalidInput, NotFound
from dizuo.protect import recipe as R

GOOD = """
version: 1
default: drop
fields:
  姓名: {transform: mask, preset: person_name}
  身份证号: {transform: pseudonymise}
  出生日期: {transform: generalise, kind: date, level: year}
  性别: keep
  年龄: {transform: generalise, kind: age, width: 10, top: 90}
  诊断: keep
privacy:
  quasi_identifiers:
    性别: {kind: values}
    年龄: {kind: values}
  models:
    - {k_anonymity: 5}
    - {distinct_l_diversity: {l: 2, attribute: 诊断}}
  suppression_limit: 0.05
"""


def write(tmp_path: Path, text: str, name: str = "recipe.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_recipe(tmp_path: Path) -> None:
    recipe = R.load_recipe(write(tmp_path, GOOD))
    assert isinstance(recipe.fields["姓名"], R.Mask)
    assert isinstance(recipe.fields["性别"], R.Keep)  # the short form
    assert isinstance(recipe.transform_of("不在配方里"), R.Drop)  # secure by default
    assert recipe.privacy is not None
    assert recipe.privacy.sensitive_attributes() == ["诊断"]
    assert len(recipe.digest()) == 64
    # the same recipe as JSON has the same hash
    as_json = write(tmp_path, yaml.safe_load(GOOD).__repr__().replace("'", '"'), "r.json")
    assert R.load_recipe(as_json).digest() == recipe.digest()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("fields: {姓名: {transform: shred}}", ["姓名", "transform"]),
        ("fields: {出生日期: {transform: generalise, kind: date}}", ["level"]),
        ("fields: {年龄: {transform: generalise, kind: age}}", ["width"]),
        ("fields: {x: {transform: mask, colour: red}}", ["colour"]),
        ("fields: {x: {transform: noise, scale: -1}}", ["scale"]),
        ("privacy: {quasi_identifiers: {a: {kind: values}}, models: [{k_anonymity: 1}]}", ["k"]),
        ("privacy: {quasi_identifiers: {}, models: [{k_anonymity: 5}]}", ["quasi_identifiers"]),
        ("version: 2", ["version"]),
        ("fields: [a, b]", ["fields"]),
    ],
)
def test_broken_recipes_give_one_clear_error(tmp_path: Path, text: str, words: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InvalidInput) as info:
        R.load_recipe(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    for word in words:
        assert word in message


def test_not_yaml_not_a_mapping_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"line \d: .*not valid YAML"):
        R.load_recipe(write(tmp_path, "fields:\n  a: [unclosed\n"))
    with pytest.raises(InvalidInput, match="mapping"):
        R.load_recipe(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(InvalidInput, match="JSON"):
        R.load_recipe(write(tmp_path, "{not json", "r.json"))
    with pytest.raises(NotFound):
        R.load_recipe(tmp_path / "missing.yaml")


def test_unknown_fields_are_named_with_a_suggestion(tmp_path: Path) -> None:
    recipe = R.load_recipe(write(tmp_path, GOOD))
    columns = ["姓名", "身份证号", "出生日期", "性别", "年龄", "诊断"]
    R.check_against(recipe, columns, source="r.yaml")  # fine
    with pytest.raises(InvalidInput, match="身份证号") as info:
        R.check_against(
            recipe, ["姓名", "身份证号码", "出生日期", "性别", "年龄", "诊断"], source="r"
        )
    assert "身份证号码" in str(info.value)  # did you mean
    broken = R.load_recipe(write(tmp_path, GOOD.replace("attribute: 诊断", "attribute: 诊段")))
    with pytest.raises(InvalidInput, match="诊段"):
        R.check_against(broken, columns, source="r.yaml")


def test_a_quasi_identifier_cannot_be_dropped(tmp_path: Path) -> None:
    text = GOOD.replace("  性别: keep\n", "  性别: drop\n")
    recipe = R.load_recipe(write(tmp_path, text))
    with pytest.raises(InvalidInput, match="性别"):
        R.check_against(
            recipe, ["姓名", "身份证号", "出生日期", "性别", "年龄", "诊断"], source="r"
        )


def test_a_proposal_is_a_valid_recipe(tmp_path: Path) -> None:
    columns = [
        {"column": "xm", "entity": "person_name", "pi": True, "sensitive": False},
        {"column": "sfzh", "entity": "resident_id", "pi": True, "sensitive": True},
        {"column": "xb", "entity": "gender", "pi": True, "sensitive": False},
        {"column": "csrq", "entity": "birth_date", "pi": True, "sensitive": False},
        {"column": "zd", "entity": "icd10_code", "pi": True, "sensitive": True},
        {"column": "bz", "entity": None, "pi": True, "sensitive": True, "free_text": True},
        {"column": "je", "entity": None, "pi": False, "sensitive": False},
        {"column": "xjh", "entity": None, "pi": False, "sensitive": False, "distinct_share": 1.0},
    ]
    text = R.propose(columns, k=5)
    assert text.startswith("#")
    recipe = R.load_recipe(write(tmp_path, text))
    assert isinstance(recipe.fields["sfzh"], R.Pseudonymise)
    assert isinstance(recipe.fields["xm"], R.Mask)
    assert isinstance(recipe.fields["bz"], R.Drop)
    assert isinstance(recipe.fields["je"], R.Keep)
    assert isinstance(recipe.fields["xjh"], R.Pseudonymise)  # one value per record
    assert recipe.privacy is not None
    assert set(recipe.privacy.quasi_identifiers) == {"xb", "csrq"}
    assert recipe.privacy.sensitive_attributes() == ["zd"]
