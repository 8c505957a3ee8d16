"""Running a recipe: transforms per field, the privacy model, the risk report, the new version.

``protect_version`` reads a catalogued version, applies the recipe and commits the result as a
version of a shared-zone dataset (共享库) with lineage to its parent and the recipe's hash; the
recipe and the risk report are stored in the catalog, the key never is. ``protect_path`` does
the same for a plain file, without a workspace.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa
import pyarrow.compute as pc

from dizuo.errors import InvalidInput, Location
from dizuo.i18n import tr
from dizuo.protect import recipe as R

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dizuo.catalog.models import Version
    from dizuo.workspace import Workspace

#: environment variable holding the key (hex or base64) when no workspace is used
KEY_ENV = "DIZUO_PROTECT_KEY"


@dataclass
class ProtectResult:
    """What a protection run did.

    Attributes:
        source: ``code@N`` or the input path.
        target: ``code@N`` of the new version, or the output path.
        rows: Records written.
        fields: Per output field, the transform applied.
        dropped: Fields the recipe dropped.
        report: Risk before / after, the privacy model's result and information loss.
        recipe_hash: SHA-256 of the recipe's canonical form.
        created: False when an identical version existed already.
    """

    source: str
    target: str
    rows: int
    fields: dict[str, str]
    dropped: list[str]
    report: dict[str, Any]
    recipe_hash: str
    created: bool = True
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "rows": self.rows,
            "fields": self.fields,
            "dropped": self.dropped,
            "recipe_hash": self.recipe_hash,
            "created": self.created,
            "report": self.report,
        }


def key_id(key: bytes) -> str:
    """A public fingerprint of a key (tells keys apart; reveals nothing of them)."""
    import hmac

    return hmac.new(key, b"dizuo key id", hashlib.sha256).hexdigest()[:12]


def key_from_env() -> bytes:
    """The key in ``DIZUO_PROTECT_KEY`` (hex or base64, at least 16 bytes).

    Raises:
        InvalidInput: The variable is missing or does not hold a usable key.
    """
    import base64
    import binascii

    text = os.environ.get(KEY_ENV, "").strip()
    if not text:
        raise InvalidInput(
            tr(
                "没有密钥：请设置环境变量 {v}（十六进制或 base64，至少 16 字节）",
                "no key: set the environment variable {v} (hex or base64, at least 16 bytes)",
                v=KEY_ENV,
            )
        )
    try:
        key = bytes.fromhex(text)
    except ValueError:
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            key = b""
    if len(key) < 16:
        raise InvalidInput(
            tr(
                "{v} 不是可用的密钥（十六进制或 base64，至少 16 字节）",
                "{v} does not hold a usable key (hex or base64, at least 16 bytes)",
                v=KEY_ENV,
            )
        )
    return key


# -- transforms ------------------------------------------------------------------------------


def _describe(t: Any) -> str:
    params = t.model_dump(exclude={"transform"}, exclude_defaults=True)
    inner = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{t.transform}({inner})" if inner else str(t.transform)


def _apply(
    table: pa.Table, name: str, t: Any, key: bytes, source: str
) -> pa.Array | pa.ChunkedArray:
    from dizuo.protect import crypto, transforms

    values = table[name]
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(t, R.Keep):
        return values
    if isinstance(t, R.Mask):
        if t.preset is not None:
            return transforms.mask_preset(_text(values), t.preset)
        return transforms.mask(
            _text(values), keep_first=t.keep_first, keep_last=t.keep_last, char=t.char
        )
    if isinstance(t, R.Pseudonymise):
        return transforms.pseudonymise(
            _text(values),
            crypto.derive_keys(key).pseudonym,
            algorithm=t.algorithm,
            normalise=t.normalise,
            length=t.length,
            prefix=t.prefix,
        )
    if isinstance(t, R.Encrypt):
        return crypto.encrypt(_text(values), key, algorithm=t.algorithm)
    if isinstance(t, R.Suppress):
        return transforms.suppress(values)
    if isinstance(t, R.TopBottom):
        return transforms.top_bottom_code(_number(values, name, source), low=t.low, high=t.high)
    if isinstance(t, R.Noise):
        return transforms.add_noise(
            _number(values, name, source),
            mechanism=t.mechanism,
            scale=t.scale,
            integer=t.integer,
        )
    if isinstance(t, R.Generalise):
        return _generalise(name, values, t, source)
    raise AssertionError(f"unhandled transform {t!r}")  # pragma: no cover - schema is closed


def _generalise(name: str, values: pa.Array, t: R.Generalise, source: str) -> pa.Array:
    from dizuo.protect import transforms

    if t.kind == "number":
        assert t.width is not None
        return transforms.generalise_number(
            _number(values, name, source), width=t.width, origin=t.origin
        )
    if t.kind == "age":
        assert t.width is not None
        return transforms.age_band(_number(values, name, source), width=int(t.width), top=t.top)
    if t.kind == "date":
        return transforms.generalise_date(values, level=cast(transforms.DateLevel, t.level))
    if t.kind == "region":
        return transforms.generalise_region(
            _text(values), level=cast(transforms.RegionLevel, t.level)
        )
    if t.kind == "address":
        return transforms.generalise_address(
            _text(values), level=cast(transforms.RegionLevel, t.level)
        )
    raise AssertionError("coordinates are generalised in pairs by apply_recipe")


def _coordinates(
    table: pa.Table, name: str, t: R.Generalise, source: str
) -> tuple[pa.Array, pa.Array]:
    from dizuo.protect import transforms

    assert t.cell_m is not None and t.longitude is not None
    return transforms.generalise_coordinates(
        _number(table[name], name, source),
        _number(table[t.longitude], t.longitude, source),
        cell_m=t.cell_m,
    )


def _text(values: pa.Array) -> pa.Array:
    return values if pa.types.is_string(values.type) else values.cast(pa.string())


def _number(values: pa.Array | pa.ChunkedArray, name: str, source: str) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        return values
    if pa.types.is_decimal(values.type):
        return values.cast(pa.float64())
    text = pc.utf8_trim_whitespace(_text(values))
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)  # blank: no value
    try:
        number = pc.cast(text, pa.float64())
    except pa.ArrowInvalid as exc:
        bad = pc.and_(
            pc.is_valid(text), pc.invert(pc.match_substring_regex(text, r"^-?[0-9.eE+]+$"))
        )
        row = int(pc.index(bad, True).as_py()) + 1
        raise InvalidInput(
            tr("不是数值，无法按数值变换", "not a number: a numeric transform cannot apply"),
            where=Location(file=source, row=row, column=name),
        ) from exc
    return number


def plan(recipe: R.Recipe, columns: list[str]) -> tuple[dict[str, str], list[str]]:
    """What a recipe does to each column: the transform of every kept field, and the dropped
    fields. The longitude of a coordinate pair follows its latitude's transform unless the
    recipe drops it."""
    paired = {
        t.longitude: t
        for t in recipe.fields.values()
        if isinstance(t, R.Generalise) and t.kind == "coordinates" and t.longitude
    }
    fields: dict[str, str] = {}
    dropped: list[str] = []
    for name in columns:
        t = recipe.transform_of(name)
        if isinstance(t, R.Drop):
            dropped.append(name)
        else:
            fields[name] = _describe(paired.get(name, t))
    return fields, dropped


def apply_recipe(
    table: pa.Table, recipe: R.Recipe, key: bytes, *, source: str, data: str = ""
) -> tuple[pa.Table, dict[str, str], list[str], dict[str, Any]]:
    """Apply a recipe to a table.

    ``source`` names the recipe (in errors about its fields), ``data`` the table (in errors
    about values, with the row and column).

    Returns:
        The protected table, the transform of each kept field, the dropped fields, and the
        report (risk before / after and the privacy model's result).
    """
    R.check_against(recipe, table.column_names, source=source)
    fields, dropped = plan(recipe, table.column_names)
    if not fields:
        raise InvalidInput(
            tr(
                "配方没有保留任何字段：输出将是空表",
                "the recipe keeps no field: the output would have no columns",
            ),
            where=Location(file=source),
            hint=tr("在 fields 中保留或转换至少一个字段", "keep or transform at least one field"),
        )
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    # a coordinate pair is snapped together, once for both columns
    pairs: dict[str, pa.Array] = {}
    for name in fields:
        t = recipe.transform_of(name)
        if isinstance(t, R.Generalise) and t.kind == "coordinates":
            assert t.longitude is not None
            pairs[name], pairs[t.longitude] = _coordinates(table, name, t, data or source)
    for name in fields:
        columns[name] = pairs.get(name)
        if columns[name] is None:
            columns[name] = _apply(table, name, recipe.transform_of(name), key, data or source)
    out = pa.table(columns) if columns else pa.table({})
    report: dict[str, Any] = {"key_id": key_id(key), "rows_in": table.num_rows}
    if recipe.privacy is not None:
        out, privacy = _privacy(table, out, recipe.privacy, source)
        report["privacy"] = privacy
    report["rows_out"] = out.num_rows
    return out, fields, dropped, report


def _privacy(
    original: pa.Table, table: pa.Table, spec: R.Privacy, source: str
) -> tuple[pa.Table, dict[str, Any]]:
    from dizuo.protect import anonymity, hierarchy, risk

    qis = list(spec.quasi_identifiers)
    sensitive = spec.sensitive_attributes()
    hierarchies = {
        name: hierarchy.from_spec(h, table[name], name=name, base=Path(source).parent)
        for name, h in spec.quasi_identifiers.items()
    }
    models = [_model(m) for m in spec.models]
    result = (
        anonymity.mondrian(table, hierarchies, models, suppression_limit=spec.suppression_limit)
        if spec.algorithm == "mondrian"
        else anonymity.full_domain(
            table, hierarchies, models, suppression_limit=spec.suppression_limit
        )
    )
    after_table = result.table
    both = risk.before_after(original, after_table, qis, sensitive, result.suppressed)
    before, after = both["before"].to_dict(), both["after"].to_dict()
    return after_table, {
        "quasi_identifiers": qis,
        "sensitive": sensitive,
        "algorithm": spec.algorithm,
        "models": [m.model_dump() for m in spec.models],
        "suppression_limit": spec.suppression_limit,
        "result": result.summary(),
        "risk_before": before,
        "risk_after": after,
    }


def _model(m: R.PrivacyModel) -> Any:
    from dizuo.protect import anonymity

    if isinstance(m, R.KModel):
        return anonymity.KAnonymity(m.k_anonymity)
    if isinstance(m, R.DistinctL):
        return anonymity.DistinctLDiversity(
            m.distinct_l_diversity.l, m.distinct_l_diversity.attribute
        )
    if isinstance(m, R.EntropyL):
        return anonymity.EntropyLDiversity(m.entropy_l_diversity.l, m.entropy_l_diversity.attribute)
    return anonymity.TCloseness(m.t_closeness.t, m.t_closeness.attribute, m.t_closeness.ordered)


# -- a catalogued version -------------------------------------------------------------------


def protect_version(
    ws: Workspace,
    code: str,
    recipe_path: Path,
    *,
    number: int | None = None,
    output: str | None = None,
) -> ProtectResult:
    """Protect a dataset's version (the latest if ``number`` is None) into the shared zone.

    The output dataset (``output``, default ``<code>_shared``) gets a new version with lineage
    to the parent, operation ``protect`` and the recipe hash as its parameters hash; running
    the same recipe with the same key on the same parent again makes no new version.
    """
    from dizuo.catalog import service
    from dizuo.catalog.models import ProtectionRun, Zone
    from dizuo.lake.derived import Derived, commit_table
    from dizuo.lake.query import version_select

    recipe = R.load_recipe(recipe_path)
    key = ws.secret_key()
    target_code = output or f"{code}_shared"
    service.check_code(target_code)
    with ws.session() as s:
        dataset = service.get_dataset(s, code)
        parent = service.get_version(s, dataset, number)
        parent_ref = f"{code}@{parent.number}"
        parent_id, parent_hash = parent.id, parent.content_hash
        ident, snapshot, schema = parent.table_ident, parent.snapshot_id, list(parent.schema)
        meta = {
            "name": tr("{n}（去标识化）", "{n} (de-identified)", n=dataset.name),
            "summary": dataset.summary,
            "category": dataset.category,
            "share_type": dataset.share_type,
            "share_condition": dataset.share_condition,
            "open_type": dataset.open_type,
            "update_cycle": dataset.update_cycle,
        }
        org_code = dataset.organisation.code if dataset.organisation else None
    identity = hashlib.sha256(f"{parent_hash}|{recipe.digest()}|{key_id(key)}".encode()).hexdigest()
    # the target is checked before any work: a raw-zone dataset cannot receive the output, and
    # the same parent, recipe and key make no new version
    with ws.session() as s:
        existing = service.find_dataset(s, target_code)
        if existing is not None:
            latest = service.latest_version(s, existing)
            if latest is not None and latest.content_hash == identity:
                R.check_against(recipe, [c["name"] for c in schema], source=str(recipe_path))
                fields, dropped = plan(recipe, [c["name"] for c in schema])
                run = s.get(ProtectionRun, latest.id)
                return ProtectResult(
                    parent_ref,
                    f"{target_code}@{latest.number}",
                    latest.rows,
                    fields,
                    dropped,
                    dict(run.report) if run is not None else {},
                    recipe.digest(),
                    created=False,
                )
            if existing.zone != Zone.shared.value:
                raise InvalidInput(
                    tr(
                        "{c} 是原始库的数据集，不能作为去标识化的输出",
                        "{c} is a raw-zone dataset: it cannot receive protected output",
                        c=target_code,
                    ),
                    hint=tr("用 --to 指定另一个代码", "name another code with --to"),
                )
    files = ws.lake.files(ident, snapshot)
    table = ws.engine.query(version_select(files, schema))
    out, fields, dropped, report = apply_recipe(
        table, recipe, key, source=str(recipe_path), data=parent_ref
    )

    def record_run(s: Session, version: Version) -> None:
        s.add(
            ProtectionRun(
                version_id=version.id,
                parent_id=parent_id,
                recipe_hash=recipe.digest(),
                recipe=recipe.model_dump(mode="json"),
                report=report,
                created_by=ws.actor,
            )
        )

    target, rows = commit_table(
        ws,
        out,
        Derived(
            code=target_code,
            operation="protect",
            params={"parent": parent_ref, "recipe_hash": recipe.digest()},
            params_hash=recipe.digest(),
            identity=identity,
            parents=[parent_id],
            source=parent_ref,
            meta=meta,
            org_code=org_code,
        ),
        extra=record_run,
        hint=tr("用 --to 指定另一个代码", "name another code with --to"),
    )
    return ProtectResult(parent_ref, target, rows, fields, dropped, report, recipe.digest())


# -- a plain file ---------------------------------------------------------------------------


def protect_path(spec: Any, recipe_path: Path, out_path: Path) -> ProtectResult:
    """Protect a file (anything the ingester reads) into ``out_path`` (.parquet or .csv),
    without a workspace; the key comes from ``DIZUO_PROTECT_KEY``."""
    import pyarrow.parquet as pq

    from dizuo.engine.duckdb import DuckDBEngine
    from dizuo.ingest import readers

    recipe = R.load_recipe(recipe_path)
    key = key_from_env()
    suffix = out_path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise InvalidInput(
            tr("输出文件应为 .parquet 或 .csv", "the output file must be .parquet or .csv"),
            where=Location(file=str(out_path)),
        )
    folder = Path(tempfile.mkdtemp(prefix="dizuo-protect-"))
    engine = DuckDBEngine(temp_directory=folder)
    try:
        stage_dir = folder / "stage"
        stage_dir.mkdir()
        staged = readers.stage(engine, spec, stage_dir)
        files = [str(f) for f in staged.files]
        table = pq.read_table(files) if files else pa.table({})
        out, fields, dropped, report = apply_recipe(
            table, recipe, key, source=str(recipe_path), data=spec.source
        )
        partial = out_path.with_name(out_path.name + ".partial")
        if suffix == ".parquet":
            pq.write_table(out, partial, compression="zstd")
        else:
            import pyarrow.csv as pcsv

            pcsv.write_csv(out, partial)
        partial.replace(out_path)  # no half-written output
        return ProtectResult(
            spec.source, str(out_path), out.num_rows, fields, dropped, report, recipe.digest()
        )
    finally:
        engine.close()
        shutil.rmtree(folder, ignore_errors=True)


def stored_classification(
    ws: Workspace, code: str, number: int | None = None
) -> list[dict[str, Any]]:
    """The stored classification of a version, per column (classifying it first if needed)."""
    import sqlalchemy as sa

    from dizuo.catalog import service
    from dizuo.catalog.models import ColumnClassification

    def read() -> tuple[int, list[dict[str, Any]]]:
        with ws.session() as s:
            version = service.get_version(s, service.get_dataset(s, code), number)
            fields = service.version_fields(s, version)
            profiles = {f.name: f.profile or {} for f in fields}
            types = {f.name: f.type for f in fields}
            rows = s.scalars(
                sa.select(ColumnClassification)
                .where(ColumnClassification.version_id == version.id)
                .order_by(ColumnClassification.position)
            ).all()
            return version.number, [
                {
                    "column": r.column,
                    "entity": r.entity,
                    "pi": r.pi,
                    "sensitive": r.sensitive,
                    "free_text": r.free_text,
                    "category": r.category,
                    "distinct_share": _distinct_share(profiles.get(r.column, {})),
                    "type": types.get(r.column, ""),
                }
                for r in rows
            ]

    found, columns = read()
    if not columns:
        from dizuo.classify.run import classify_version

        classify_version(ws, code, found, save=True)
        _, columns = read()
    return columns


def _distinct_share(profile: dict[str, Any]) -> float | None:
    """Distinct values per non-null value, from a field's profile (None when unknown)."""
    distinct, sampled = profile.get("distinct_approx"), profile.get("sampled_rows")
    nulls = profile.get("nulls") or 0
    if not distinct or not sampled:
        return None
    present = max(1, int(sampled) - min(int(nulls), int(sampled)))
    return min(1.0, float(distinct) / present)
