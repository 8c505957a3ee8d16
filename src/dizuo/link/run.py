"""``dizuo link``: link catalogued datasets into a person index, an organisation index and an
integrated view, committed as shared-zone versions with lineage to every input version.

Outputs:

* ``link_person_index`` — one row per (record, person view): ``dataset`` (``code@N``), ``row``
  (0-based), ``role`` (the view's name column), ``person_key`` (pseudonymous), ``linked_by``
  (``id``: a valid ID shared with other records · ``probabilistic`` · ``single``),
  ``match_weight`` (the best accepted match weight of the record, null when none) and
  ``person_records`` (records of that person).
* ``link_org_index`` — one row per record holding a valid USCC: ``dataset``, ``row``,
  ``column``, ``uscc`` (the 18-character code, an organisation's public identifier).
* ``link_person_view`` — per person: records per input dataset and the number of departments
  that know the person; no name, no number.

The run's quality estimates (the model's expected precision, recall and F1, its threshold, the
blocking report and trained parameters) are recorded as the index version's parameters.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dizuo.errors import InvalidInput
from dizuo.i18n import tr
from dizuo.link import persons
from dizuo.link.persons import View

if TYPE_CHECKING:
    from dizuo.workspace import Workspace

MODES = ("plain", "private")
PERSON_INDEX = "link_person_index"
ORG_INDEX = "link_org_index"
PERSON_VIEW = "link_person_view"


@dataclass
class LinkRun:
    """What ``dizuo link`` did."""

    inputs: list[str]
    mode: str
    views: list[dict[str, Any]]
    records: int
    persons: int
    linked_by: dict[str, int]
    expected: dict[str, float]
    threshold: float
    blocking: list[dict[str, Any]]
    outputs: dict[str, str] = field(default_factory=dict)
    organisations: int = 0
    created: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "mode": self.mode,
            "views": self.views,
            "records": self.records,
            "persons": self.persons,
            "linked_by": self.linked_by,
            "expected": self.expected,
            "threshold": self.threshold,
            "blocking": self.blocking,
            "organisations": self.organisations,
            "outputs": self.outputs,
            "created": self.created,
        }


@dataclass
class _Input:
    """A version to link: what the catalog says of it; its data is read only when needed."""

    ref: str
    version_id: Any
    content_hash: str
    org_code: str | None
    rows: int
    files: list[str]
    schema: list[dict[str, str]]
    classified: list[tuple[str, str | None]]
    table: pa.Table | None = None

    def read(self, ws: Workspace) -> pa.Table:
        """The version's rows, in row order (read once)."""
        from dizuo.lake.query import ordered_select

        if self.table is None:
            self.table = ws.engine.query(ordered_select(self.files, self.schema))
        return self.table


def _read(ws: Workspace, spec: str) -> _Input:
    from dizuo.catalog import service
    from dizuo.protect.run import stored_classification

    code, _, num = spec.partition("@")
    number = int(num) if num.isdigit() else None
    if num and number is None:
        raise InvalidInput(
            tr("版本号应为整数：{s}", "a version number must be an integer: {s}", s=spec)
        )
    with ws.session() as s:
        dataset = service.get_dataset(s, code)
        version = service.get_version(s, dataset, number)
        ref = f"{code}@{version.number}"
        ident, snapshot, schema = version.table_ident, version.snapshot_id, list(version.schema)
        vid, chash, rows = version.id, version.content_hash, version.rows
        org = dataset.organisation.code if dataset.organisation else None
        number = version.number
    classified = stored_classification(ws, code, number)
    return _Input(
        ref,
        vid,
        chash,
        org,
        rows,
        ws.lake.files(ident, snapshot),
        schema,
        [(c["column"], c["entity"]) for c in classified],
    )


def _identity(inputs: list[_Input], mode: str, one_to_one: bool, key_id: str) -> str:
    """Same inputs, mode, model and key: same output (the model's text is part of it)."""
    text = "|".join(sorted(f"{i.ref}:{i.content_hash}" for i in inputs))
    model = (
        persons.private_model(one_to_one) if mode == "private" else persons.plain_model(one_to_one)
    )
    return hashlib.sha256(
        f"link|{text}|{mode}|{one_to_one}|{key_id}|{model!r}".encode()
    ).hexdigest()


def _stored(ws: Workspace, run: LinkRun, same: str) -> LinkRun:
    """Fill a run from the stored outputs of an identical earlier run."""
    from dizuo.catalog import service
    from dizuo.lake.query import run_sql

    code, _, number = same.partition("@")
    with ws.session() as s:
        version = service.get_version(s, service.get_dataset(s, code), int(number))
        params = dict(version.params or {})
    counts = run_sql(
        ws,
        f"SELECT count(*) AS n, count(DISTINCT person_key) AS p, "
        f"count(*) FILTER (WHERE linked_by = 'id') AS i, "
        f"count(*) FILTER (WHERE linked_by = 'probabilistic') AS q, "
        f"count(*) FILTER (WHERE linked_by = 'single') AS o FROM {same}",
    ).to_pylist()[0]
    run.records, run.persons = int(counts["n"]), int(counts["p"])
    run.linked_by = {
        k: int(counts[c]) for k, c in (("id", "i"), ("probabilistic", "q"), ("single", "o"))
    }
    run.expected = dict(params.get("expected", {}))
    run.threshold = float(params.get("threshold", 0.0))
    run.blocking = list(params.get("blocking", []))
    run.created = False
    return run


def link_datasets(
    ws: Workspace,
    datasets: list[str],
    *,
    mode: str = "plain",
    one_to_one: bool = False,
) -> LinkRun:
    """Link the person views of ``datasets`` (codes, optionally ``code@N``) and commit the
    person index, organisation index and integrated view into the shared zone."""
    from dizuo.lake.derived import Derived, check_target, commit_table, unchanged
    from dizuo.protect.crypto import derive_keys
    from dizuo.protect.run import key_id

    if mode not in MODES:
        raise InvalidInput(
            tr(
                "链接模式应为 plain 或 private：{m}",
                "the link mode must be plain or private: {m}",
                m=mode,
            )
        )
    codes = [d.strip() for d in datasets if d.strip()]
    if not codes:
        raise InvalidInput(tr("没有指定数据集", "no dataset given"), hint="--datasets A,B,C")
    if len(set(codes)) != len(codes):
        raise InvalidInput(tr("数据集重复", "a dataset is named twice"))
    hint = tr(
        "该代码已被原始库数据集占用；请为那个数据集改用其他代码",
        "that code is taken by a raw-zone dataset; give that dataset another code",
    )
    for code in (PERSON_INDEX, ORG_INDEX, PERSON_VIEW):
        check_target(ws, code, hint)
    secret = ws.secret_key()
    key = derive_keys(secret).pseudonym
    inputs = [_read(ws, c) for c in codes]
    named = [i.ref.partition("@")[0] for i in inputs]
    twice = sorted({c for c in named if named.count(c) > 1})
    if twice:
        raise InvalidInput(
            tr(
                "每个数据集只能链接一个版本：{c}",
                "link one version of each dataset: {c} is named more than once",
                c=", ".join(twice),
            )
        )
    frames: list[pa.Table] = []
    refs: list[pa.Array] = []
    view_info: list[dict[str, Any]] = []
    found: list[tuple[_Input, View]] = []
    for item in inputs:
        for view in persons.views(item.ref, item.classified):
            found.append((item, view))
    if not found:
        raise InvalidInput(
            tr(
                "这些数据集中没有找到带姓名及其他身份信息的列",
                "none of these datasets has a name column with other identity columns",
            ),
            hint=tr("先运行 dizuo classify 检查分类结果", "check dizuo classify first"),
        )
    for item, view in found:
        view_info.append(
            {"dataset": item.ref, "role": view.role, "columns": view.columns, "records": item.rows}
        )
    # an identical earlier run is found from the catalog alone, before any data is read
    identity = _identity(inputs, mode, one_to_one, key_id(secret))
    same = unchanged(ws, PERSON_INDEX, identity)
    if same is not None:
        run = LinkRun([i.ref for i in inputs], mode, view_info, 0, 0, {}, {}, 0.0, [])
        run.outputs = {PERSON_INDEX: same[0]}
        for code in (ORG_INDEX, PERSON_VIEW):
            other = unchanged(ws, code, identity)
            if other is not None:
                run.outputs[code] = other[0]
        return _stored(ws, run, same[0])
    for item, view in found:
        table = item.read(ws)
        frames.append(persons.attributes(table, view))
        refs.append(pa.array(np.arange(table.num_rows, dtype=np.int64)))
    result = persons.link_persons(
        frames, key, mode=mode, link_type="link_and_dedupe", one_to_one=one_to_one
    )
    index = _person_index(found, refs, result, key)
    linked_by = {
        str(k): int(v)
        for k, v in zip(
            *np.unique(
                index.column("linked_by").to_numpy(zero_copy_only=False), return_counts=True
            ),
            strict=True,
        )
    }
    lk = result.linkage
    run = LinkRun(
        inputs=[i.ref for i in inputs],
        mode=mode,
        views=view_info,
        records=index.num_rows,
        persons=int(len(np.unique(result.labels))),
        linked_by=linked_by,
        expected=lk.expected,
        threshold=lk.threshold,
        blocking=lk.blocking,
    )
    orgs = _org_index(ws, inputs)
    run.organisations = int(len(pc.unique(orgs.column("uscc")))) if orgs.num_rows else 0
    view = _person_view(ws, index, [i.ref for i in inputs])
    parents = [i.version_id for i in inputs]
    source = ",".join(i.ref for i in inputs)
    quality = {
        "mode": mode,
        "one_to_one": one_to_one,
        "inputs": run.inputs,
        "views": view_info,
        "threshold": lk.threshold,
        "expected": lk.expected,
        "blocking": lk.blocking,
        "model": lk.parameters.as_dict(),
    }
    quality = json.loads(json.dumps(quality, default=float))
    params_hash = hashlib.sha256(json.dumps(quality, sort_keys=True).encode()).hexdigest()
    meta_common = {"category": tr("综合", "integrated"), "share_type": "有条件共享"}
    outputs = (
        (
            PERSON_INDEX,
            index,
            tr("人员索引（跨部门）", "person index (across departments)"),
            tr(
                "记录到假名化人员键的映射，含匹配权重与链接方式；不含姓名与证件号。",
                "records mapped to pseudonymous person keys, with match weights and how "
                "they were linked; no names or numbers.",
            ),
            quality,
        ),
        (
            ORG_INDEX,
            orgs,
            tr("机构索引（统一社会信用代码）", "organisation index (USCC)"),
            tr("记录到统一社会信用代码的映射。", "records mapped to unified social credit codes."),
            {"inputs": run.inputs},
        ),
        (
            PERSON_VIEW,
            view,
            tr("人员综合视图（跨部门指标）", "integrated person view (cross-department)"),
            tr(
                "每人在各部门数据中的记录数，不含身份信息。",
                "per person: records in each department's data, without identities.",
            ),
            {"inputs": run.inputs},
        ),
    )
    for code, table, name, summary, params in outputs:
        target, _ = commit_table(
            ws,
            table,
            Derived(
                code=code,
                operation="link",
                params=params,
                params_hash=params_hash,
                identity=identity,
                parents=parents,
                source=source,
                meta={"name": name, "summary": summary, **meta_common},
            ),
        )
        run.outputs[code] = target
    return run


def _person_index(
    found: list[tuple[_Input, View]],
    refs: list[pa.Array],
    result: persons.PersonLinkage,
    key: bytes,
) -> pa.Table:
    labels = result.labels
    n = len(labels)
    dataset = pa.concat_arrays(
        [
            pa.repeat(pa.scalar(item.ref, pa.string()), len(r))
            for (item, _), r in zip(found, refs, strict=True)
        ]
    )
    role = pa.concat_arrays(
        [
            pa.repeat(pa.scalar(view.role, pa.string()), len(r))
            for (_, view), r in zip(found, refs, strict=True)
        ]
    )
    rows = pa.concat_arrays(refs)
    ref_text = pc.binary_join_element_wise(dataset, role, pc.cast(rows, pa.string()), "#")
    keys = persons.person_keys(labels, result.anchors, ref_text, key)
    matches = result.linkage.matches
    left = matches.column("left").to_numpy()
    right = matches.column("right").to_numpy()
    weight = matches.column("weight").to_numpy()
    best = np.full(n, -np.inf)
    np.maximum.at(best, left, weight)
    np.maximum.at(best, right, weight)
    size = np.bincount(labels)[labels]
    has_id = np.asarray(pc.is_valid(result.anchors).to_numpy(zero_copy_only=False), dtype=bool)
    id_size = np.bincount(labels, weights=has_id.astype(np.float64))[labels]
    linked = np.where(size == 1, "single", np.where(has_id & (id_size > 1), "id", "probabilistic"))
    return pa.table(
        {
            "dataset": dataset,
            "row": rows,
            "role": role,
            "person_key": keys,
            "linked_by": pa.array(linked, pa.string()),
            "match_weight": pa.array(
                np.where(np.isfinite(best), best, np.nan), pa.float64(), mask=~np.isfinite(best)
            ),
            "person_records": pa.array(size, pa.int64()),
        }
    )


def _org_index(ws: Workspace, inputs: list[_Input]) -> pa.Table:
    from dizuo.classify.detectors import Values, detect, normalise_text
    from dizuo.classify.entities import Entity

    parts = []
    for item in inputs:
        for col, entity in item.classified:
            if entity != "uscc":
                continue
            text = pc.utf8_upper(
                normalise_text(pc.cast(item.read(ws).column(col).combine_chunks(), pa.string()))
            )
            valid = detect(Entity.USCC, Values(text))
            rows = np.flatnonzero(valid)
            parts.append(
                pa.table(
                    {
                        "dataset": pa.repeat(pa.scalar(item.ref, pa.string()), len(rows)),
                        "row": pa.array(rows, pa.int64()),
                        "column": pa.repeat(pa.scalar(col, pa.string()), len(rows)),
                        "uscc": text.take(pa.array(rows)),
                    }
                )
            )
    schema = pa.schema(
        [
            ("dataset", pa.string()),
            ("row", pa.int64()),
            ("column", pa.string()),
            ("uscc", pa.string()),
        ]
    )
    return pa.concat_tables(parts).cast(schema) if parts else schema.empty_table()


def _person_view(ws: Workspace, index: pa.Table, refs: list[str]) -> pa.Table:
    """Per person: records in each input dataset and the departments that know the person."""
    con = ws.engine.con
    name = "link_index_tmp"
    con.register(name, index)
    try:
        counts = ", ".join(
            f"count(*) FILTER (WHERE dataset = '{r}') AS \"{r.split('@')[0]}\"" for r in refs
        )
        sql = (
            f"SELECT person_key, count(*) AS records, count(DISTINCT dataset) AS datasets, "
            f"{counts} FROM {name} GROUP BY person_key ORDER BY person_key"
        )
        return con.sql(sql).to_arrow_table()
    finally:
        con.unregister(name)
