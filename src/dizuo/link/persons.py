"""People across registries: identity attributes, the linkage model, the person index.

A dataset holds one or more *person views*: the columns that describe one person of each
record (a student's name, ID and birth date; a guardian's name and phone in the same row).
:func:`views` finds them from the stored classification; :func:`attributes` normalises a
view's columns into the comparison attributes (:mod:`dizuo.link.normalise`):

=========  ====================================================================================
name       simplified, half-width name and its toneless pinyin with the common mergers
           folded (``周京<TAB>zou jin``: :func:`dizuo.link.normalise.fuzzy_pinyin`)
pinyin     that pinyin without spaces (blocking key for homophones)
id         the 18-digit ID (a 15-digit one upgraded); an ID that fails its check keeps its
           digits, so that a one-digit typo is still close
id_valid   the 18-digit ID when it is valid — the deterministic key
birth      YYYYMMDD from the birth-date column, else from a valid ID
sex        ``M``/``F`` from the sex column, else from a valid ID
phone      11-digit mobile or ``area-number`` landline
=========  ====================================================================================

In ``private`` mode :func:`encode_private` replaces every attribute by a keyed encoding before
the linkage sees it: exact keys become HMAC-SM3 pseudonyms, and name, ID, birth date and phone
become keyed Bloom filters (:mod:`dizuo.link.clk`) compared by Dice similarity. The operator
links without seeing a name or a number.

:func:`cluster` turns accepted pairs into persons: records with the same valid ID are one
person (deterministic linkage); a record without a valid ID joins the person it matches best;
two different valid IDs are never merged (one person, one ID); what is left forms connected
components. The person key is the keyed pseudonym of the ID — the same value a protection
recipe gives that ID column (``pseudonymise``, ``compact``) — or, for a person without a valid
ID, a pseudonym of its first record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dizuo.link import clk
from dizuo.link.compare import date_digits
from dizuo.link.model import Block, Comparison, Linkage, LinkType, Model, link
from dizuo.link.normalise import (
    fuzzy_pinyin,
    normalise_ids,
    normalise_names,
    normalise_phones,
)
from dizuo.protect.transforms import pseudonymise

Ints = npt.NDArray[np.int64]

#: classified entity → person attribute
ENTITY_ATTRIBUTE: dict[str, str] = {
    "person_name": "name",
    "resident_id": "id",
    "mobile_phone": "phone",
    "landline_phone": "phone",
    "birth_date": "birth",
    "gender": "sex",
}
ATTRIBUTES = ("name", "id", "birth", "sex", "phone")
#: hash functions per q-gram in the Bloom filters: fixed, so that every department's encodings
#: of a field are comparable (a data-dependent default would differ between departments)
CLK_HASHES = 20
#: a name alone blocks only when few records share it (≤ 10 records: 45 pairs): a common name
#: says little, and blocking on it would grow with the square of the city
NAME_BLOCK_PAIRS = 45

_SEX = {
    "男": "M",
    "女": "F",
    "m": "M",
    "f": "F",
    "male": "M",
    "female": "F",
    "1": "M",
    "2": "F",
    "男性": "M",
    "女性": "F",
}


@dataclass(frozen=True)
class View:
    """The columns describing one person in each record of a dataset.

    Attributes:
        dataset: Dataset reference (``code@N`` or a label).
        role: A label (the name column by default).
        columns: attribute → column name.
    """

    dataset: str
    role: str
    columns: dict[str, str] = field(default_factory=dict)


def views(dataset: str, classified: Sequence[tuple[str, str | None]]) -> list[View]:
    """Person views of a dataset from its classified columns, in column order.

    Every name column starts a view; an ID, phone, birth-date or sex column belongs to the
    nearest name column before it (or the first name column when none is before it): registries
    write a person's fields after the name — 姓名, 性别, 身份证号, then 监护人姓名, 监护人电话.

    Args:
        dataset: Dataset reference.
        classified: (column, entity) in column order.

    Returns:
        One view per name column that has at least one other attribute; a dataset without
        a name column gives none.
    """
    names = [i for i, (_, e) in enumerate(classified) if e == "person_name"]
    if not names:
        return []
    groups: dict[int, dict[str, str]] = {i: {"name": classified[i][0]} for i in names}
    for i, (col, entity) in enumerate(classified):
        attr = ENTITY_ATTRIBUTE.get(entity or "")
        if attr is None or attr == "name":
            continue
        before = [n for n in names if n < i]
        owner = before[-1] if before else names[0]
        groups[owner].setdefault(attr, col)
    return [View(dataset, classified[i][0], cols) for i, cols in groups.items() if len(cols) > 1]


def _sex(values: pa.Array) -> pa.Array:
    text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(values, pa.string())))
    keys = pa.array(list(_SEX))
    idx = pc.index_in(text, value_set=keys)
    mapped = pa.array(list(_SEX.values())).take(idx)
    return mapped


def _birth_digits(values: pa.Array) -> pa.Array:
    """YYYYMMDD of a birth-date column: dates and timestamps (an Excel date cell) directly,
    text through :func:`dizuo.link.compare.date_digits`."""
    if pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
        stamps = pc.cast(values, pa.timestamp("s")) if pa.types.is_date(values.type) else values
        return pc.strftime(stamps, format="%Y%m%d")
    return date_digits(pc.cast(values, pa.string()))


def _swap_tolerant(births: pa.Array) -> pa.Array:
    """Year, then the smaller and the larger of month and day: one key for a birth date and
    its day/month swap (2012-03-05 and 2012-05-03 are both ``20120305``)."""
    a = pc.utf8_slice_codeunits(births, 4, 6)
    b = pc.utf8_slice_codeunits(births, 6, 8)
    return pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(births, 0, 4),
        pc.min_element_wise(a, b),
        pc.max_element_wise(a, b),
        "",
    )


def _id_fields(ids: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Birth date (YYYYMMDD, when it is a calendar date) and sex of ID-shaped digits (18, or
    15 of the legacy format), whether or not the check digit fits."""
    long = pc.equal(pc.utf8_length(ids), 18)
    digits = pc.if_else(
        long,
        pc.utf8_slice_codeunits(ids, 6, 14),
        pc.binary_join_element_wise("19", pc.utf8_slice_codeunits(ids, 6, 12), ""),
    )
    stamp = pc.strptime(digits, format="%Y%m%d", unit="s", error_is_null=True)
    birth = pc.strftime(stamp, format="%Y%m%d")
    digit = pc.if_else(
        long, pc.utf8_slice_codeunits(ids, 16, 17), pc.utf8_slice_codeunits(ids, 14, 15)
    )
    odd = pc.is_in(digit, value_set=pa.array(list("13579")))
    sex = pc.if_else(pc.is_valid(digit), pc.if_else(odd, "M", "F"), pa.scalar(None, pa.string()))
    return birth, sex


def _column(table: pa.Table, name: str | None) -> pa.Array | None:
    if name is None or name not in table.column_names:
        return None
    return table.column(name).combine_chunks()


def attributes(table: pa.Table, view: View) -> pa.Table:
    """Normalised comparison attributes of one view (one row per record)."""
    n = table.num_rows
    none = pa.nulls(n, pa.string())
    out: dict[str, pa.Array] = {}
    names = _column(table, view.columns.get("name"))
    if names is not None:
        nn = normalise_names(names)
        name = nn.column("name").combine_chunks()
        pinyin = fuzzy_pinyin(nn.column("pinyin"))
        out["name"] = pc.binary_join_element_wise(name, pinyin, "\t")
        out["name_plain"] = name
        out["pinyin"] = pc.replace_substring(pinyin, " ", "")
    else:
        out["name"] = out["name_plain"] = out["pinyin"] = none
    raw_id = _column(table, view.columns.get("id"))
    if raw_id is not None:
        ids = normalise_ids(raw_id)
        id18 = ids.column("id18").combine_chunks()
        compact = pc.utf8_upper(
            pc.replace_substring_regex(
                pc.utf8_normalize(pc.cast(raw_id, pa.string()), "NFKC"), r"[\s-]", ""
            )
        )
        shaped = pc.match_substring_regex(compact, r"^(\d{15}|\d{17}[\dX])$")
        typo = pc.if_else(pc.fill_null(shaped, False), compact, pa.scalar(None, pa.string()))
        out["id"] = pc.coalesce(id18, typo)
        out["id_valid"] = id18
        id_birth = pc.strftime(
            pc.cast(ids.column("birth_date").combine_chunks(), pa.timestamp("s")), format="%Y%m%d"
        )
        id_sex = ids.column("sex").combine_chunks()
        # a number that fails its check still most likely carries the right birth date and
        # sex (a typo hits one digit of eighteen): read them, so the record can be blocked and
        # compared on them
        typo_birth, typo_sex = _id_fields(typo)
        id_birth = pc.coalesce(id_birth, typo_birth)
        id_sex = pc.coalesce(id_sex, typo_sex)
    else:
        out["id"] = out["id_valid"] = none
        id_birth = id_sex = none
    birth_col = _column(table, view.columns.get("birth"))
    births = _birth_digits(birth_col) if birth_col is not None else none
    out["birth"] = pc.coalesce(births, id_birth)
    out["birth_sorted"] = _swap_tolerant(out["birth"])
    sex_col = _column(table, view.columns.get("sex"))
    out["sex"] = pc.coalesce(_sex(sex_col), id_sex) if sex_col is not None else id_sex
    phone = _column(table, view.columns.get("phone"))
    out["phone"] = normalise_phones(phone) if phone is not None else none
    return pa.table(out)


def plain_model(one_to_one: bool = False) -> Model:
    """The model for plaintext attributes."""
    return Model(
        comparisons=[
            Comparison("name", kind="chinese_name", tf=True),
            Comparison("id", kind="edit"),
            Comparison("birth", kind="date"),
            Comparison("sex", kind="exact"),
            Comparison("phone", kind="edit", tf=True),
        ],
        blocking=[
            ("id",),
            ("phone",),
            ("name_plain", "birth"),
            ("pinyin", "birth_sorted"),
            Block(("name_plain",), max_pairs=NAME_BLOCK_PAIRS),
        ],
        training=[("id",), ("phone",), ("pinyin", "birth_sorted")],
        one_to_one=one_to_one,
    )


# -- private mode ------------------------------------------------------------------------------


def _filters(matrix: npt.NDArray[np.uint64]) -> pa.Array:
    n, words = matrix.shape
    buf = pa.py_buffer(np.ascontiguousarray(matrix).tobytes())
    return pa.Array.from_buffers(pa.binary(words * 8), n, [None, buf])


def encode_private(attrs: pa.Table, key: bytes) -> pa.Table:
    """Keyed encodings of the attributes: nothing readable leaves this function.

    Exact keys (blocking, the deterministic ID) are HMAC-SM3 pseudonyms; name (characters
    and pinyin in one filter), ID digits, birth date and phone are keyed Bloom filters.
    """

    def pseud(col: str) -> pa.Array:
        return pseudonymise(attrs.column(col), key, normalise="none")

    def bloom(values: pa.Array | pa.ChunkedArray, name: str) -> npt.NDArray[np.uint64]:
        return clk.encode(values, key, field=name, k=CLK_HASHES)

    name_filter = bloom(attrs.column("name_plain"), "name") | bloom(
        attrs.column("pinyin"), "pinyin"
    )
    birth_year = pc.utf8_slice_codeunits(attrs.column("birth"), 0, 4)
    return pa.table(
        {
            "name": _filters(name_filter),
            "id": _filters(bloom(attrs.column("id"), "id")),
            "birth": _filters(bloom(attrs.column("birth"), "birth")),
            "sex": pseud("sex"),
            "phone": _filters(bloom(attrs.column("phone"), "phone")),
            "id_valid": pseud("id_valid"),
            "id_key": pseud("id"),
            "phone_key": pseud("phone"),
            "name_key": pseud("name_plain"),
            "pinyin_key": pseud("pinyin"),
            "birth_key": pseud("birth"),
            "birth_sorted_key": pseud("birth_sorted"),
            "year_key": pseudonymise(birth_year, key, normalise="none"),
        }
    )


def private_model(one_to_one: bool = False) -> Model:
    """The model for keyed encodings (:func:`encode_private`)."""
    return Model(
        comparisons=[
            Comparison("name", kind="dice"),
            Comparison("id", kind="dice"),
            Comparison("birth", kind="dice"),
            Comparison("sex", kind="exact"),
            Comparison("phone", kind="dice"),
        ],
        blocking=[
            ("id_key",),
            ("phone_key",),
            ("name_key", "birth_key"),
            ("pinyin_key", "birth_sorted_key"),
            Block(("name_key",), max_pairs=NAME_BLOCK_PAIRS),
        ],
        training=[("id_key",), ("phone_key",), ("pinyin_key", "birth_sorted_key")],
        one_to_one=one_to_one,
    )


# -- clustering ---------------------------------------------------------------------------------


def _components(n: int, left: Ints, right: Ints) -> Ints:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


def cluster(anchor: pa.Array, left: Ints, right: Ints, weight: npt.NDArray[np.float64]) -> Ints:
    """Person label per record from accepted pairs and each record's valid ID (or null).

    Args:
        anchor: Valid ID (or its pseudonym) per record; null when the record has none.
        left: Accepted pairs (global record indexes).
        right: Accepted pairs.
        weight: Their match weights.

    Returns:
        A label per record; records of one person share it.
    """
    n = len(anchor)
    encoded = pc.fill_null(anchor.dictionary_encode().indices, -1)
    label = np.asarray(encoded.to_numpy(zero_copy_only=False), dtype=np.int64)
    anchored = label >= 0
    base = int(label.max(initial=-1)) + 1
    # a pair whose two records hold different valid IDs is two people
    both = anchored[left] & anchored[right]
    keep = ~both
    left, right, weight = left[keep], right[keep], weight[keep]
    # records without an ID join their best-matching anchored neighbour, in rounds (a caller
    # with no ID → a hotel guest with no ID → a patient with an ID)
    for _ in range(4):
        a_in = anchored[left] & ~anchored[right]
        b_in = anchored[right] & ~anchored[left]
        who = np.concatenate([right[a_in], left[b_in]])
        to = np.concatenate([label[left[a_in]], label[right[b_in]]])
        w = np.concatenate([weight[a_in], weight[b_in]])
        if not len(who):
            break
        order = np.lexsort((-w, who))
        first = np.r_[True, who[order][1:] != who[order][:-1]]
        chosen = order[first]
        label[who[chosen]] = to[chosen]
        anchored[who[chosen]] = True
    # the rest: connected components among records still without a person
    rest = ~anchored
    inner = rest[left] & rest[right]
    comp = _components(n, left[inner], right[inner])
    label[rest] = base + comp[rest]
    _, dense = np.unique(label, return_inverse=True)
    return np.asarray(dense, dtype=np.int64)


@dataclass
class PersonLinkage:
    """The pairwise linkage, the person label per record and each record's ID pseudonym."""

    linkage: Linkage
    labels: Ints
    anchors: pa.Array  # pseudonym of the valid ID (null when none)


def link_persons(
    frames: Sequence[pa.Table],
    key: bytes,
    *,
    mode: str = "plain",
    link_type: LinkType = "link_and_dedupe",
    one_to_one: bool = False,
) -> PersonLinkage:
    """Link person views (tables from :func:`attributes`) into persons.

    Args:
        frames: One attribute table per view.
        key: The pseudonym key (also the Bloom-filter key in private mode).
        mode: ``plain`` or ``private``.
        link_type: As in :func:`dizuo.link.model.link`.
        one_to_one: At most one match per record and other view.

    Returns:
        The linkage and a person label per record (frames concatenated in order).
    """
    if mode == "private":
        tables = [encode_private(f, key) for f in frames]
        model = private_model(one_to_one)
    else:
        tables = list(frames)
        model = plain_model(one_to_one)
    result = link(tables, model, link_type=link_type)
    anchors = pa.concat_arrays([t.column("id_valid").combine_chunks() for t in tables])
    if mode != "private":
        anchors = pseudonymise(anchors, key, normalise="none")
    labels = cluster(
        anchors,
        result.matches.column("left").to_numpy(),
        result.matches.column("right").to_numpy(),
        result.matches.column("weight").to_numpy(),
    )
    return PersonLinkage(result, labels, anchors)


def person_keys(labels: Ints, anchors: pa.Array, refs: pa.Array, key: bytes) -> pa.Array:
    """A pseudonymous key per record's person: the pseudonym of the person's valid ID (the
    value a protection recipe gives that ID; ``anchors`` holds them already), else ``U`` + a
    pseudonym of its first record's reference."""
    n = len(labels)
    order = np.lexsort((np.arange(n), labels))
    first = np.r_[True, labels[order][1:] != labels[order][:-1]]
    starts = order[first]
    has = np.asarray(pc.is_valid(anchors).to_numpy(zero_copy_only=False), dtype=bool)
    # an anchor per person: any valid ID among its records (all equal by construction)
    anchor_of = np.full(labels.max(initial=-1) + 1, -1, dtype=np.int64)
    rows = np.flatnonzero(has)
    anchor_of[labels[rows]] = rows
    by_id = anchors
    by_ref = pseudonymise(refs, key, normalise="none", prefix="U")
    person_anchor = anchor_of[labels]
    first_rec = np.zeros(labels.max(initial=-1) + 1, dtype=np.int64)
    first_rec[labels[starts]] = starts
    idx_id = pa.array(np.where(person_anchor >= 0, person_anchor, 0))
    idx_ref = pa.array(first_rec[labels])
    return pc.if_else(pa.array(person_anchor >= 0), by_id.take(idx_id), by_ref.take(idx_ref))
