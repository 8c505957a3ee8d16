"""Protection recipes: a declarative file naming a transform per field and a privacy model.

A recipe is YAML or JSON, validated by pydantic; every mistake ends as one error naming the
file and the field. Example::

    version: 1
    default: drop            # fields the recipe does not name are dropped (secure by default)
    fields:
      学生姓名: {transform: mask, preset: person_name}
      身份证号: {transform: pseudonymise}                 # keyed HMAC-SM3 by default
      出生日期: {transform: generalise, kind: date, level: year}
      家庭住址: {transform: generalise, kind: address, level: district}
      联系电话: {transform: drop}
      性别: keep
      区县: keep
    privacy:                 # optional: a privacy model over quasi-identifiers
      quasi_identifiers:
        性别: {kind: values}
        区县: {kind: region}
        出生日期: {kind: date}
      models:
        - {k_anonymity: 5}
        - {distinct_l_diversity: {l: 2, attribute: 诊断}}
      suppression_limit: 0.05
      algorithm: optimal     # or mondrian (local recoding)

:func:`propose` writes a recipe from a dataset's classification; the operator edits it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dizuo.errors import InvalidInput, Location
from dizuo.i18n import tr
from dizuo.modelfile import read_mapping, validate

WHAT = ("配方文件", "recipe file")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Keep(_Strict):
    transform: Literal["keep"] = "keep"


class Drop(_Strict):
    transform: Literal["drop"] = "drop"


MaskPreset = Literal["resident_id", "mobile_phone", "bank_card", "person_name", "email", "address"]


class Mask(_Strict):
    """Replace characters by ``char``: a Chinese standard preset or first / last n kept."""

    transform: Literal["mask"]
    preset: MaskPreset | None = None
    keep_first: int = Field(0, ge=0)
    keep_last: int = Field(0, ge=0)
    char: str = Field("*", min_length=1, max_length=1)


class Pseudonymise(_Strict):
    """Keyed pseudonym: the same value gives the same pseudonym in every dataset of the
    workspace (HMAC with the workspace key), so linkage still works."""

    transform: Literal["pseudonymise"]
    algorithm: Literal["hmac-sm3", "hmac-sha256"] = "hmac-sm3"
    normalise: Literal["text", "compact", "none"] = "compact"
    length: int = Field(32, ge=8, le=64)
    prefix: str = ""


class Encrypt(_Strict):
    """Reversible encryption for authorised re-identification (deterministic, authenticated)."""

    transform: Literal["encrypt"]
    algorithm: Literal["sm4", "aes"] = "sm4"


class Generalise(_Strict):
    """Coarser values: numbers to bins, ages to bands, dates to month / quarter / year, region
    codes and addresses to district / city / province, coordinates to a grid."""

    transform: Literal["generalise"]
    kind: Literal["number", "age", "date", "region", "address", "coordinates"]
    width: float | None = Field(None, gt=0)
    origin: float = 0
    top: int | None = None
    level: str | None = None
    cell_m: float | None = Field(None, gt=0)
    longitude: str | None = None  # coordinates: the paired longitude column

    @model_validator(mode="after")
    def _parameters(self) -> Generalise:
        levels = {
            "date": ("month", "quarter", "year"),
            "region": ("district", "city", "province"),
            "address": ("district", "city", "province"),
        }
        if self.kind in levels and self.level not in levels[self.kind]:
            raise ValueError(
                tr(
                    "kind={k} 需要 level，取值 {o}",
                    "kind={k} needs a level, one of {o}",
                    k=self.kind,
                    o=", ".join(levels[self.kind]),
                )
            )
        if self.kind in ("number", "age") and self.width is None:
            raise ValueError(tr("kind={k} 需要 width", "kind={k} needs a width", k=self.kind))
        if self.kind == "coordinates" and (self.cell_m is None or self.longitude is None):
            raise ValueError(
                tr(
                    "kind=coordinates 需要 cell_m（网格边长，米）和 longitude（经度列）",
                    "kind=coordinates needs cell_m (grid cell, metres) and longitude (the column)",
                )
            )
        return self


class TopBottom(_Strict):
    """Clip numbers to [low, high] (top / bottom coding)."""

    transform: Literal["top_bottom"]
    low: float | None = None
    high: float | None = None


class Suppress(_Strict):
    """Replace every value by NULL, keeping the column."""

    transform: Literal["suppress"]


class Noise(_Strict):
    """Add Laplace or Gaussian noise (OpenDP's vetted samplers) to numbers."""

    transform: Literal["noise"]
    mechanism: Literal["laplace", "gaussian"] = "laplace"
    scale: float = Field(gt=0)
    integer: bool = False


Transform = Annotated[
    Keep | Drop | Mask | Pseudonymise | Encrypt | Generalise | TopBottom | Suppress | Noise,
    Field(discriminator="transform"),
]


class HierarchySpec(_Strict):
    """How a quasi-identifier is generalised by the privacy model.

    ``values``: each value, then ``*``; ``interval``: numeric bins of ``widths`` per level;
    ``date``: month, quarter, year; ``region``: GB/T 2260 city, province; ``mask``: characters
    masked from the right; ``file``: an ARX-style CSV (``;``, no header, column j = level j);
    ``table``: the same rows inline.
    """

    kind: Literal["values", "interval", "date", "region", "mask", "file", "table"]
    widths: list[float] | None = None
    path: str | None = None
    rows: list[list[str]] | None = None


class KModel(_Strict):
    k_anonymity: int = Field(ge=2)


class _LParams(_Strict):
    l: int = Field(ge=2)  # noqa: E741 - the model's name
    attribute: str


class DistinctL(_Strict):
    distinct_l_diversity: _LParams


class EntropyL(_Strict):
    entropy_l_diversity: _LParams


class _TParams(_Strict):
    t: float = Field(gt=0, le=1)
    attribute: str
    ordered: bool = False


class TModel(_Strict):
    t_closeness: _TParams


PrivacyModel = KModel | DistinctL | EntropyL | TModel


class Privacy(_Strict):
    """A privacy model over quasi-identifiers, searched for the least information loss."""

    quasi_identifiers: dict[str, HierarchySpec] = Field(min_length=1)
    models: list[PrivacyModel] = Field(min_length=1)
    suppression_limit: float = Field(0.0, ge=0, le=1)
    algorithm: Literal["optimal", "mondrian"] = "optimal"

    def sensitive_attributes(self) -> list[str]:
        """The attributes the l-diversity and t-closeness models name."""
        out = []
        for m in self.models:
            if isinstance(m, DistinctL):
                out.append(m.distinct_l_diversity.attribute)
            elif isinstance(m, EntropyL):
                out.append(m.entropy_l_diversity.attribute)
            elif isinstance(m, TModel):
                out.append(m.t_closeness.attribute)
        return out


class Recipe(_Strict):
    """A protection recipe (see the module documentation)."""

    version: Literal[1] = 1
    default: Literal["drop", "keep"] = "drop"
    fields: dict[str, Transform] = Field(default_factory=dict)
    privacy: Privacy | None = None

    @field_validator("fields", mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        """``姓名: keep`` is short for ``姓名: {transform: keep}``."""
        if isinstance(value, dict):
            return {k: {"transform": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    def digest(self) -> str:
        """SHA-256 of the recipe's canonical JSON: the recipe hash kept in lineage."""
        text = json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def transform_of(self, column: str) -> Any:
        """The transform for ``column`` (the default when the recipe does not name it)."""
        found = self.fields.get(column)
        if found is not None:
            return found
        return Keep() if self.default == "keep" else Drop()


def load_recipe(path: Path) -> Recipe:
    """Read and validate a recipe file (YAML or JSON).

    Raises:
        NotFound: The file does not exist.
        InvalidInput: Not valid YAML / JSON, or not a valid recipe; names the file and field.
    """
    path = Path(path)
    data = read_mapping(path, WHAT)
    return validate(
        Recipe,
        data,
        name=str(path),
        what=WHAT,
        hint=tr("用 dizuo propose-recipe 生成一份配方草稿", "dizuo propose-recipe writes a draft"),
    )


def check_against(recipe: Recipe, columns: list[str], *, source: str) -> None:
    """Every field and attribute the recipe names must be a column of the data.

    Raises:
        InvalidInput: One error naming the first unknown field (with a suggestion).
    """
    import difflib

    named = list(recipe.fields)
    named += [
        t.longitude
        for t in recipe.fields.values()
        if isinstance(t, Generalise) and t.longitude is not None
    ]
    if recipe.privacy is not None:
        named += list(recipe.privacy.quasi_identifiers) + recipe.privacy.sensitive_attributes()
    for name in named:
        if name in columns:
            continue
        close = difflib.get_close_matches(name, columns, n=1)
        raise InvalidInput(
            tr(
                "配方中的字段 {f!r} 不是数据的列",
                "field {f!r} of the recipe is not a column",
                f=name,
            ),
            where=Location(file=source, column=name),
            hint=tr("是否指 {c!r}？", "did you mean {c!r}?", c=close[0])
            if close
            else tr("数据的列：{c}", "the columns are: {c}", c=", ".join(columns)),
        )
    if recipe.privacy is not None:
        for qi in recipe.privacy.quasi_identifiers:
            transform = recipe.transform_of(qi)
            if isinstance(transform, Drop | Suppress | Pseudonymise | Encrypt):
                raise InvalidInput(
                    tr(
                        "准标识符 {f!r} 的变换是 {t}：隐私模型需要它的取值",
                        "quasi-identifier {f!r} is transformed by {t}: the privacy model needs "
                        "its values",
                        f=qi,
                        t=transform.transform,
                    ),
                    where=Location(file=source, column=qi),
                )


# -- proposing a recipe from a classification ------------------------------------------------

#: what to do with a column, by the entity the classifier found (GB/T 37964: direct identifiers
#: removed, masked or pseudonymised; quasi-identifiers generalised)
_BY_ENTITY: dict[str, dict[str, Any]] = {
    "resident_id": {"transform": "pseudonymise"},
    "resident_id_15": {"transform": "pseudonymise"},
    "passport": {"transform": "pseudonymise"},
    "hk_macao_permit": {"transform": "pseudonymise"},
    "taiwan_permit": {"transform": "pseudonymise"},
    "license_plate": {"transform": "pseudonymise"},
    "vin": {"transform": "pseudonymise"},
    "mac_address": {"transform": "pseudonymise"},
    "ipv4": {"transform": "pseudonymise", "normalise": "text"},
    "ipv6": {"transform": "pseudonymise", "normalise": "text"},
    "bank_card": {"transform": "mask", "preset": "bank_card"},
    "person_name": {"transform": "mask", "preset": "person_name"},
    "person_name_latin": {"transform": "drop"},
    "mobile_phone": {"transform": "mask", "preset": "mobile_phone"},
    "landline_phone": {"transform": "mask", "keep_first": 4, "keep_last": 2},
    "email": {"transform": "mask", "preset": "email"},
    "address": {"transform": "generalise", "kind": "address", "level": "district"},
    "birth_date": {"transform": "generalise", "kind": "date", "level": "year"},
    "gps_text": {"transform": "drop"},
}
#: entities that are quasi-identifiers once kept or generalised, with their hierarchy
_QUASI = {"gender": "values", "ethnicity": "values", "birth_date": "values", "address": "values"}


def _identifier_like(column: dict[str, Any]) -> bool:
    """Text or integer codes with a value per record (times and amounts are not codes)."""
    kind = str(column.get("type") or "VARCHAR").upper()
    code = kind.startswith(("VARCHAR", "TEXT", "STRING")) or kind in (
        "BIGINT",
        "INTEGER",
        "HUGEINT",
        "UBIGINT",
    )
    share = column.get("distinct_share") or 0.0
    return code and not column.get("free_text") and share >= 0.9


def propose(columns: list[dict[str, Any]], *, k: int = 5) -> str:
    """A draft recipe (YAML with comments) from a dataset's classification.

    Args:
        columns: Per column: ``column``, ``entity`` (or None), ``pi``, ``sensitive``,
            ``free_text`` and ``category`` (the stored classification).
        k: The k of the proposed k-anonymity model.

    Returns:
        YAML text for the operator to review and edit.
    """
    import yaml

    fields: dict[str, Any] = {}
    notes: dict[str, str] = {}
    quasi: dict[str, Any] = {}
    sensitive_attr = None
    for c in columns:
        name, entity = c["column"], c.get("entity")
        if c.get("free_text") and c.get("pi"):
            fields[name] = {"transform": "drop"}
            notes[name] = tr("自由文本含个人信息", "free text that mentions personal data")
        elif entity in _BY_ENTITY:
            fields[name] = dict(_BY_ENTITY[entity])
            notes[name] = tr("识别为 {e}", "detected as {e}", e=entity)
        elif entity in _QUASI:  # kept for the privacy model, which generalises it
            fields[name] = "keep"
        elif entity is None and _identifier_like(c):
            # a value per record (student number, order number …): an identifier, which may
            # embed an ID number; pseudonymised, it still joins within the workspace
            fields[name] = {"transform": "pseudonymise", "normalise": "text"}
            notes[name] = tr("每条记录一个取值：标识符", "one value per record: an identifier")
        elif entity in ("latitude", "longitude") and c.get("pi"):
            fields[name] = {"transform": "drop"}
            notes[name] = tr("个人的精确位置", "a person's precise location")
        elif c.get("pi") and c.get("sensitive") and entity not in ("icd10_code", "disease"):
            fields[name] = {"transform": "suppress"}
            notes[name] = tr("敏感个人信息", "sensitive personal information")
        else:
            fields[name] = "keep"
        if entity in _QUASI:
            quasi[name] = {"kind": _QUASI[entity]}
        if entity in ("icd10_code", "disease") and sensitive_attr is None:
            sensitive_attr = name
    draft: dict[str, Any] = {"version": 1, "default": "drop", "fields": fields}
    if quasi:
        models: list[dict[str, Any]] = [{"k_anonymity": k}]
        if sensitive_attr is not None:
            models.append({"distinct_l_diversity": {"l": 2, "attribute": sensitive_attr}})
        draft["privacy"] = {
            "quasi_identifiers": quasi,
            "models": models,
            "suppression_limit": 0.05,
            "algorithm": "optimal",
        }
    text = yaml.safe_dump(draft, allow_unicode=True, sort_keys=False, width=100)
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        key = stripped.split(":", 1)[0]
        if line.startswith("  ") and not line.startswith("    ") and key in notes:
            line = f"{line}  # {notes[key]}"
        lines.append(line)
    head = tr(
        "# dizuo 去标识化配方草稿：请逐项审核后使用（dizuo protect DATASET --recipe 本文件）",
        "# a draft dizuo protection recipe: review every field, then run "
        "dizuo protect DATASET --recipe this-file",
    )
    return head + "\n" + "\n".join(lines) + "\n"
