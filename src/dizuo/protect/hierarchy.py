"""Generalisation hierarchies: for one attribute, the value at each level of generalisation.

A :class:`Hierarchy` is a table with one row per original value (a *leaf*) and one column per
level: level 0 is the value itself, each further level a coarser label, the last usually
``*``. This is the ARX layout, and :meth:`Hierarchy.from_csv` reads ARX's files (``;``-separated,
no header, column j = level j). Recipes give hierarchies inline (:meth:`Hierarchy.from_rows`,
:meth:`Hierarchy.from_dict`) or by kind, built from the values of the column:

* :meth:`Hierarchy.flat` — each value, then ``*``;
* :meth:`Hierarchy.interval` — numeric bins of growing widths (``20-24``, ``20-29``, …), then ``*``;
* :meth:`Hierarchy.date` — day, month (``2024-03``), quarter (``2024-Q1``), year, ``*``;
* :meth:`Hierarchy.region` — a GB/T 2260 county code, its city (``110100``), its province
  (``110000``), ``*``;
* :meth:`Hierarchy.mask` — characters masked from the right (``11010*``, ``1101**``, …), ``*``.

A hierarchy must be *consistent*: a leaf appears once, and a label generalises to a single
label at the next level (otherwise generalising would be ambiguous). Construction checks this
and raises one :class:`~dizuo.errors.InvalidInput` naming the first offending value. If the
last level still has several labels, a level ``*`` is added on top.

:meth:`Hierarchy.code` maps a data column onto the hierarchy once — the column's distinct values
are looked up with ``pc.index_in`` (or a binary search for numbers), never value by value — and
returns a :class:`Coded` column: an ordinal per record and, per level, the integer label of every
record and the number of leaves (original values of the data) under each label, which is what
the privacy models group by and the loss metrics count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from dizuo.errors import InvalidInput, Location
from dizuo.i18n import tr

Ints = npt.NDArray[np.int64]
Codes = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
Column: TypeAlias = pa.Array | pa.ChunkedArray

#: the label of the top level of the built-in hierarchies
TOP = "*"
#: GB/T 2260 codes: six digits
REGION_RE = r"^\d{6}$"
#: a numeric range label (``20-24``, ``[20, 25)``, ``20~24``) or ``*``
RANGE_RE = r"^(\*|[\[(]?\s*-?\d+(\.\d+)?\s*([-,~]|to)\s*-?\d+(\.\d+)?\s*[\])]?|-?\d+(\.\d+)?)$"


def _array(values: Column | Sequence[Any] | npt.NDArray[Any]) -> pa.Array:
    """One contiguous Arrow array of ``values``."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if isinstance(values, pa.Array):
        return values
    return pa.array(values)


def _as_text(values: pa.Array) -> pa.Array:
    """The values as strings, the way hierarchies name them (numbers and dates cast by Arrow)."""
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    return values if pa.types.is_string(values.type) else values.cast(pa.string())


def _distinct(values: Column | Sequence[Any] | npt.NDArray[Any], what: str) -> pa.Array:
    """The distinct non-null values; a null is an error (a hierarchy has no null leaf)."""
    array = _array(values)
    if array.null_count:
        raise InvalidInput(
            tr("{what} 含空值，无法建立泛化层级", "{what} holds nulls: no hierarchy", what=what),
            hint=tr("先填补或删除空值", "fill or drop the nulls first"),
        )
    return pc.unique(array)


def _np(values: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
    return np.asarray(values.to_numpy(zero_copy_only=False))


@dataclass(frozen=True)
class Coded:
    """A data column coded against its hierarchy.

    Only the leaves that occur in the data count: ``ordinal`` numbers them 0 … ``domain`` - 1 in
    the hierarchy's order (numeric order for numeric hierarchies), and each level's labels are
    numbered densely among the labels that occur.

    Attributes:
        hierarchy: The hierarchy.
        column: The column's name.
        ordinal: Per record, its leaf among those that occur (int32).
        parents: Per level, the label id of each ordinal (level 0 is the identity).
        labels: Per level, the label of each id.
        leaves: Per level, how many occurring leaves each label covers (the *m* of the loss
            metric; the *M* is :attr:`domain`).
        values: For numeric hierarchies, the number of each ordinal (ascending), else None.
    """

    hierarchy: Hierarchy
    column: str
    ordinal: Codes
    parents: tuple[Codes, ...]
    labels: tuple[pa.Array, ...]
    leaves: tuple[Ints, ...]
    values: Floats | None

    @property
    def levels(self) -> int:
        """Number of levels, level 0 included."""
        return len(self.parents)

    @property
    def domain(self) -> int:
        """How many distinct leaves occur in the data (the *M* of the loss metric)."""
        return len(self.parents[0])

    def codes(self, level: int) -> Codes:
        """Per record, the id of its label at ``level`` (vectorised gather)."""
        return self.parents[level][self.ordinal]

    def share(self, level: int) -> Floats:
        """Per label id at ``level``, Iyengar's loss ``(m - 1) / (M - 1)`` (0 when M = 1)."""
        return _share(self.leaves[level], self.domain)

    def loss(self, level: int) -> float:
        """The average loss of the records at ``level`` (this attribute's share of LM)."""
        counts = np.bincount(self.ordinal, minlength=self.domain)
        by_label = np.bincount(
            self.parents[level], weights=counts, minlength=len(self.labels[level])
        )
        return float((by_label * self.share(level)).sum() / max(len(self.ordinal), 1))


def _share(covered: Ints, domain: int) -> Floats:
    if domain <= 1:
        return np.zeros(len(covered), dtype=np.float64)
    return (covered.astype(np.float64) - 1.0) / float(domain - 1)


class HierarchySpecLike(Protocol):
    """What :func:`from_spec` reads from a recipe's hierarchy entry."""

    @property
    def kind(self) -> str: ...

    @property
    def widths(self) -> list[float] | None: ...

    @property
    def path(self) -> str | None: ...

    @property
    def rows(self) -> list[list[str]] | None: ...


class Hierarchy:
    """The generalisation levels of one attribute (see the module documentation).

    Build one with a class method; the constructor takes already-validated level columns.

    Attributes:
        name: The attribute's name, used in messages (or None).
        numeric: Whether the leaves are numbers (Mondrian then splits and recodes them as
            ranges ``lo-hi``). Unless told, a hierarchy is numeric when its leaves are numbers
            and its first level holds ranges (``20-24``, ``[20, 25)``) or numbers — not codes
            like zip codes, which are generalised by masking or grouping.
    """

    def __init__(
        self,
        levels: Sequence[pa.Array],
        *,
        name: str | None = None,
        numeric: bool | None = None,
        file: str | None = None,
    ) -> None:
        self.name = name
        self.file = file
        columns = _validated([_as_text(_array(c)) for c in levels], name=name, file=file)
        if len(pc.unique(columns[-1])) > 1:  # every value generalises to one top
            columns.append(_top(len(columns[0])))
        values = _numbers(columns[0]) if numeric is not False else None
        if numeric is None and values is not None and len(columns) > 1:
            # numbers generalised to ranges (ARX's intervals), not codes masked or grouped
            ranges = pc.match_substring_regex(columns[1], RANGE_RE)
            if not pc.all(ranges).as_py():
                values = None
        if numeric and values is None:
            raise InvalidInput(
                tr(
                    "数值型层级的原值必须都是数字",
                    "the leaves of a numeric hierarchy must be numbers",
                ),
                where=Location(file=file, column=name),
            )
        self.numeric = values is not None
        if values is not None:
            order = np.argsort(values, kind="stable")
        else:  # path order: the subtrees of every label are contiguous
            table = pa.table({f"l{j}": c for j, c in enumerate(columns)})
            keys = [(f"l{j}", "ascending") for j in reversed(range(len(columns)))]
            order = _np(pc.sort_indices(table, sort_keys=keys))
        take = pa.array(order)
        self._levels = [c.take(take) for c in columns]
        self._values = None if values is None else values[order]
        self._labels: list[pa.Array] = []
        self._parents: list[Codes] = []
        for column in self._levels:
            labels = pc.unique(column)  # in the order of first appearance
            self._labels.append(labels)
            self._parents.append(_np(pc.index_in(column, value_set=labels)).astype(np.int32))

    # -- reading ------------------------------------------------------------------------------

    @property
    def levels(self) -> int:
        """Number of levels, level 0 (the original values) included."""
        return len(self._levels)

    @property
    def leaves(self) -> pa.Array:
        """The original values (level 0), in the hierarchy's order."""
        return self._levels[0]

    @property
    def values(self) -> Floats | None:
        """The leaves as numbers (ascending) for a numeric hierarchy, else None."""
        return self._values

    def labels(self, level: int) -> pa.Array:
        """The distinct labels at ``level``."""
        return self._labels[self._level(level)]

    def parents(self, level: int) -> Codes:
        """For each leaf, the index of its label at ``level`` in :meth:`labels`."""
        return self._parents[self._level(level)]

    def leaf_counts(self, level: int) -> Ints:
        """For each label at ``level``, how many leaves of the hierarchy it covers."""
        level = self._level(level)
        return np.bincount(self._parents[level], minlength=len(self._labels[level])).astype(
            np.int64
        )

    def column(self, level: int) -> pa.Array:
        """The label at ``level`` of each leaf (aligned with :attr:`leaves`)."""
        return self._levels[self._level(level)]

    def to_rows(self) -> list[list[str]]:
        """The hierarchy as rows (leaf, level 1, …), e.g. for a recipe or a CSV file."""
        return [list(r.values()) for r in pa.table(self._named()).to_pylist()]

    def to_csv(self, path: str | Path, *, delimiter: str = ";") -> None:
        """Write the hierarchy as an ARX-style CSV (no header)."""
        options = pv.WriteOptions(include_header=False, delimiter=delimiter, quoting_style="none")
        pv.write_csv(pa.table(self._named()), str(path), write_options=options)

    def _named(self) -> dict[str, pa.Array]:
        return {f"level{j}": c for j, c in enumerate(self._levels)}

    def _level(self, level: int) -> int:
        if not 0 <= level < len(self._levels):
            raise InvalidInput(
                tr(
                    "层级 {level} 不存在（共 {n} 级，0 到 {top}）",
                    "level {level} does not exist (levels 0 to {top})",
                    level=level,
                    n=len(self._levels),
                    top=len(self._levels) - 1,
                ),
                where=Location(file=self.file, column=self.name),
            )
        return level

    def __repr__(self) -> str:
        kind = "numeric" if self.numeric else "categorical"
        return f"Hierarchy({self.name!r}, {len(self.leaves)} leaves, {self.levels} levels, {kind})"

    # -- coding data --------------------------------------------------------------------------

    def code(self, values: Column, *, column: str | None = None, file: str | None = None) -> Coded:
        """Map a data column onto the hierarchy.

        The column's distinct values are looked up once (``pc.index_in``; numbers of a numeric
        column by binary search in the numeric leaves), then gathered per record.

        Args:
            values: The column.
            column: Its name, for messages (defaults to the hierarchy's name).
            file: The file it came from, for messages.

        Returns:
            The coded column.

        Raises:
            InvalidInput: Values of the column are not leaves of the hierarchy (the message
                names the first one, in data order, and how many there are).
        """
        name = column or self.name
        array = _array(values)
        if pa.types.is_dictionary(array.type):
            array = array.cast(array.type.value_type)
        encoded = pc.dictionary_encode(array)
        indices = _np(encoded.indices.fill_null(-1)).astype(np.int64)
        dictionary = encoded.dictionary
        leaf = self._lookup(dictionary)
        missing_entries = leaf < 0
        missing = missing_entries[indices] if len(indices) else np.zeros(0, dtype=np.bool_)
        missing |= indices < 0
        if missing.any():
            first = int(np.argmax(missing))
            value = None if indices[first] < 0 else dictionary[int(indices[first])].as_py()
            distinct = int(missing_entries.sum()) + int((indices < 0).any())
            raise InvalidInput(
                tr(
                    "{distinct} 个不同的值不在列 {c!r} 的泛化层级中（共 {records} 条记录），"
                    "第一个是 {value!r}",
                    "{distinct} distinct values of column {c!r} are missing from its hierarchy "
                    "({records} records); the first is {value!r}",
                    distinct=distinct,
                    c=name,
                    records=int(missing.sum()),
                    value=value,
                ),
                where=Location(file=file, row=first + 1, column=name),
                hint=tr(
                    "在层级中为这些值补上各级泛化值",
                    "add these values (and their generalisations) to the hierarchy",
                ),
            )
        leaf_of_record = leaf[indices]
        occurs = np.bincount(leaf_of_record, minlength=len(self.leaves)) > 0
        ordinal_of_leaf = np.cumsum(occurs) - 1
        present = np.flatnonzero(occurs)
        parents: list[Codes] = []
        labels: list[pa.Array] = []
        leaves: list[Ints] = []
        for level in range(self.levels):
            ids = self._parents[level][present]
            used = np.bincount(ids, minlength=len(self._labels[level])) > 0
            dense = (np.cumsum(used) - 1)[ids].astype(np.int32)
            parents.append(dense)
            labels.append(self._labels[level].take(pa.array(np.flatnonzero(used))))
            leaves.append(np.bincount(dense, minlength=int(used.sum())).astype(np.int64))
        return Coded(
            hierarchy=self,
            column=name or "",
            ordinal=ordinal_of_leaf[leaf_of_record].astype(np.int32),
            parents=tuple(parents),
            labels=tuple(labels),
            leaves=tuple(leaves),
            values=None if self._values is None else self._values[present],
        )

    def generalise(self, values: Column, level: int, *, column: str | None = None) -> pa.Array:
        """The label at ``level`` of every value of a column (strings)."""
        coded = self.code(values, column=column)
        return coded.labels[self._level(level)].take(pa.array(coded.codes(level)))

    def _lookup(self, dictionary: pa.Array) -> Ints:
        """Leaf index of each distinct data value, -1 where it is not a leaf."""
        if self._values is not None and (
            pa.types.is_integer(dictionary.type) or pa.types.is_floating(dictionary.type)
        ):
            numbers = _np(dictionary.cast(pa.float64()))
            at = np.searchsorted(self._values, numbers)
            at = np.minimum(at, len(self._values) - 1)
            return np.where(self._values[at] == numbers, at, -1).astype(np.int64)
        found = pc.index_in(_as_text(dictionary), value_set=self.leaves)
        return _np(found.fill_null(-1)).astype(np.int64)

    # -- building -----------------------------------------------------------------------------

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[Sequence[Any]],
        *,
        name: str | None = None,
        numeric: bool | None = None,
        file: str | None = None,
    ) -> Hierarchy:
        """A hierarchy from rows ``[leaf, level 1, …, top]`` (as in a recipe).

        Raises:
            InvalidInput: No rows, rows of different lengths, or an inconsistent hierarchy.
        """
        if not rows:
            raise InvalidInput(
                tr("泛化层级为空", "the hierarchy is empty"), where=Location(file=file, column=name)
            )
        widths = np.array([len(r) for r in rows])
        ragged = np.flatnonzero(widths != widths[0])
        if len(ragged) or widths[0] == 0:
            at = int(ragged[0]) if len(ragged) else 0
            raise InvalidInput(
                tr(
                    "泛化层级的行长度不一致：第 1 行有 {a} 级，第 {row} 行有 {b} 级",
                    "hierarchy rows differ in length: row 1 has {a} levels, row {row} has {b}",
                    a=int(widths[0]),
                    row=at + 1,
                    b=int(widths[at]),
                ),
                where=Location(file=file, row=at + 1, column=name),
            )
        columns = [pa.array([str(r[j]) for r in rows]) for j in range(int(widths[0]))]
        return cls(columns, name=name, numeric=numeric, file=file)

    @classmethod
    def from_dict(
        cls,
        mapping: Mapping[str, Sequence[Any]],
        *,
        name: str | None = None,
        numeric: bool | None = None,
    ) -> Hierarchy:
        """A hierarchy from ``{leaf: [level 1, …, top]}``."""
        return cls.from_rows([[k, *v] for k, v in mapping.items()], name=name, numeric=numeric)

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        *,
        name: str | None = None,
        delimiter: str = ";",
        encoding: str = "utf-8",
        numeric: bool | None = None,
    ) -> Hierarchy:
        """Read an ARX-style hierarchy: no header, column j is level j.

        Raises:
            InvalidInput: The file is missing or unreadable, a line has a different number of
                columns than the first, or the hierarchy is inconsistent.
        """
        file = str(path)
        ragged: list[tuple[int | None, int, int]] = []

        def on_invalid(row: Any) -> str:
            ragged.append((row.number, row.expected_columns, row.actual_columns))
            return "skip"

        try:
            table = pv.read_csv(
                file,
                read_options=pv.ReadOptions(
                    autogenerate_column_names=True, encoding=encoding, use_threads=False
                ),
                parse_options=pv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
                convert_options=pv.ConvertOptions(
                    strings_can_be_null=False, quoted_strings_can_be_null=False
                ),
            )
        except FileNotFoundError as exc:
            raise InvalidInput(
                tr("找不到泛化层级文件", "hierarchy file not found"), where=Location(file=file)
            ) from exc
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InvalidInput(
                tr("无法读取泛化层级：{e}", "cannot read the hierarchy: {e}", e=first),
                where=Location(file=file, column=name),
                hint=tr(
                    "ARX 格式：分号分隔、无表头，第 j 列为第 j 级",
                    "ARX format: ';'-separated, no header, column j is level j",
                ),
            ) from exc
        if ragged:
            line, expected, actual = ragged[0]
            raise InvalidInput(
                tr(
                    "该行有 {actual} 列，第一行有 {expected} 列",
                    "the line has {actual} columns, the first line {expected}",
                    actual=actual,
                    expected=expected,
                ),
                where=Location(file=file, line=line, column=name),
            )
        if table.num_rows == 0:
            raise InvalidInput(
                tr("泛化层级为空", "the hierarchy is empty"), where=Location(file=file)
            )
        columns = [c.cast(pa.string()) for c in table.columns]
        return cls(columns, name=name, numeric=numeric, file=file)

    @classmethod
    def flat(cls, values: Column | Sequence[Any], *, name: str | None = None) -> Hierarchy:
        """Each distinct value, then ``*``."""
        leaves = _as_text(_distinct(values, name or "column"))
        return cls([leaves, _top(len(leaves))], name=name, numeric=False)

    @classmethod
    def interval(
        cls,
        values: Column | Sequence[float] | Floats,
        widths: Sequence[float],
        *,
        origin: float = 0.0,
        name: str | None = None,
    ) -> Hierarchy:
        """Numeric bins: level j groups the values into bins of width ``widths[j - 1]``.

        Bins start at ``origin`` (0 by default, as in ARX: ``20-24``, ``20-29``, ``20-39``);
        integer values get labels ``lo-hi`` (both ends included), others ``[lo, hi)``. The last
        level is ``*``.

        Args:
            values: The values to cover (usually the column itself).
            widths: Bin widths per level, increasing, each a multiple of the one before (so that
                every bin lies in one bin of the next level).
            origin: Where the bins start.
            name: The attribute's name, for messages.

        Raises:
            InvalidInput: Values that are not numbers, or widths that do not nest.
        """
        distinct = _distinct(values, name or "column")
        if not (pa.types.is_integer(distinct.type) or pa.types.is_floating(distinct.type)):
            try:
                distinct = pc.unique(distinct.cast(pa.float64()))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise InvalidInput(
                    tr("区间层级只适用于数值", "an interval hierarchy needs numbers"),
                    where=Location(column=name),
                ) from exc
        _check_widths(widths, name)
        numbers = _np(distinct.cast(pa.float64()))
        if not np.isfinite(numbers).all():
            raise InvalidInput(
                tr("区间层级的值必须是有限数", "interval values must be finite numbers"),
                where=Location(column=name),
            )
        integral = (
            bool(np.all(numbers == np.floor(numbers)))
            and all(float(w).is_integer() for w in widths)
            and float(origin).is_integer()
        )
        leaves = _as_text(distinct)
        columns = [leaves]
        for width in widths:
            lo = origin + np.floor((numbers - origin) / width) * width
            if integral:
                low = pa.array(lo.astype(np.int64)).cast(pa.string())
                high = pa.array((lo + width - 1).astype(np.int64)).cast(pa.string())
                columns.append(pc.binary_join_element_wise(low, high, "-"))
            else:
                low = pa.array(lo).cast(pa.string())
                high = pa.array(lo + width).cast(pa.string())
                columns.append(pc.binary_join_element_wise("[", low, ", ", high, ")", ""))
        columns.append(_top(len(leaves)))
        return cls(columns, name=name, numeric=True)

    @classmethod
    def date(cls, values: Column | Sequence[Any], *, name: str | None = None) -> Hierarchy:
        """Dates: day (the value), month ``2024-03``, quarter ``2024-Q1``, year ``2024``, ``*``.

        Values may be Arrow dates or timestamps, or ISO strings ``YYYY-MM-DD``.

        Raises:
            InvalidInput: A value that is not a date (the message names the first).
        """
        distinct = _distinct(values, name or "column")
        leaves = _as_text(distinct)
        if pa.types.is_date(distinct.type) or pa.types.is_timestamp(distinct.type):
            stamps = (
                distinct.cast(pa.timestamp("s")) if pa.types.is_date(distinct.type) else distinct
            )
        else:
            text = pc.utf8_trim_whitespace(leaves)
            stamps = pc.strptime(
                pc.utf8_slice_codeunits(text, 0, 10),
                format="%Y-%m-%d",
                unit="s",
                error_is_null=True,
            )
            if stamps.null_count:
                bad = leaves.filter(pc.is_null(stamps))[0].as_py()
                raise InvalidInput(
                    tr("{v!r} 不是日期", "{v!r} is not a date", v=bad),
                    where=Location(column=name),
                    hint=tr("日期写作 YYYY-MM-DD", "write dates as YYYY-MM-DD"),
                )
        year = pc.cast(pc.year(stamps), pa.string())
        month = pc.strftime(stamps, format="%Y-%m")
        quarter = pc.binary_join_element_wise(year, pc.cast(pc.quarter(stamps), pa.string()), "-Q")
        return cls([leaves, month, quarter, year, _top(len(leaves))], name=name, numeric=False)

    @classmethod
    def region(cls, values: Column | Sequence[Any], *, name: str | None = None) -> Hierarchy:
        """GB/T 2260 division codes: county, city (``xxxx00``), province (``xx0000``), ``*``.

        Raises:
            InvalidInput: A value that is not a six-digit code (the message names the first).
        """
        leaves = _as_text(_distinct(values, name or "column"))
        good = _np(pc.match_substring_regex(leaves, REGION_RE)).astype(bool)
        if not good.all():
            bad = leaves[int(np.argmin(good))].as_py()
            raise InvalidInput(
                tr("{v!r} 不是六位行政区划代码", "{v!r} is not a six-digit division code", v=bad),
                where=Location(column=name),
                hint=tr("区划层级需要 GB/T 2260 代码", "a region hierarchy needs GB/T 2260 codes"),
            )
        city = pc.binary_join_element_wise(pc.utf8_slice_codeunits(leaves, 0, 4), "00", "")
        province = pc.binary_join_element_wise(pc.utf8_slice_codeunits(leaves, 0, 2), "0000", "")
        return cls([leaves, city, province, _top(len(leaves))], name=name, numeric=False)

    @classmethod
    def mask(
        cls,
        values: Column | Sequence[Any],
        *,
        name: str | None = None,
        char: str = "*",
        step: int = 1,
    ) -> Hierarchy:
        """Right-to-left masking: level j replaces the last ``j * step`` characters by ``char``.

        Levels go on until the longest value would be fully masked; the last level is ``*``.
        """
        if len(char) != 1 or step < 1:
            raise InvalidInput(
                tr(
                    "掩码字符须为单个字符、步长至少为 1",
                    "the mask character must be one character and the step at least 1",
                ),
                where=Location(column=name),
            )
        leaves = _as_text(_distinct(values, name or "column"))
        lengths = _np(pc.utf8_length(leaves)).astype(np.int64)
        longest = int(lengths.max()) if len(lengths) else 0
        columns = [leaves]
        for j in range(1, -(-longest // step)):
            hidden = np.minimum(lengths, j * step)
            kept = pc.utf8_slice_codeunits(leaves, 0, -j * step)
            stars = pc.binary_repeat(char, pa.array(hidden))
            columns.append(pc.binary_join_element_wise(kept, stars, ""))
        columns.append(_top(len(leaves)))
        return cls(columns, name=name, numeric=False)


def _top(n: int) -> pa.Array:
    return pa.repeat(pa.scalar(TOP, pa.string()), n)


def _numbers(leaves: pa.Array) -> Floats | None:
    """The leaves as finite numbers, or None if one is not a number."""
    try:
        numbers = _np(pc.cast(pc.utf8_trim_whitespace(leaves), pa.float64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return numbers.astype(np.float64) if np.isfinite(numbers).all() else None


def _check_widths(widths: Sequence[float], name: str | None) -> None:
    w = np.asarray(list(widths), dtype=np.float64)
    ok = len(w) > 0 and bool(np.all(w > 0)) and bool(np.all(np.diff(w) > 0))
    if ok and len(w) > 1:
        ratio = w[1:] / w[:-1]
        ok = bool(np.all(np.abs(ratio - np.round(ratio)) < 1e-9))
    if not ok:
        raise InvalidInput(
            tr(
                "区间宽度 {w} 无效：须为正、递增，且每级是上一级的整数倍",
                "interval widths {w} are invalid: they must be positive, increasing, and each a "
                "multiple of the one before",
                w=list(widths),
            ),
            where=Location(column=name),
            hint=tr("例如 [5, 10, 20, 40]", "e.g. [5, 10, 20, 40]"),
        )


def _validated(columns: list[pa.Array], *, name: str | None, file: str | None) -> list[pa.Array]:
    """Columns of a consistent hierarchy with one row per leaf (identical rows merged).

    Raises:
        InvalidInput: No rows, a null label, a leaf with two different rows, or a label that
            generalises to two labels at the next level.
    """
    where = Location(file=file, column=name)
    if not columns or len(columns[0]) == 0:
        raise InvalidInput(tr("泛化层级为空", "the hierarchy is empty"), where=where)
    if any(c.null_count for c in columns):
        raise InvalidInput(tr("泛化层级中有空单元格", "the hierarchy has empty cells"), where=where)
    names = [f"l{j}" for j in range(len(columns))]
    table = pa.table(dict(zip(names, columns, strict=True)))
    rows = table.group_by(names, use_threads=False).aggregate([])
    for j in range(len(names) - 1):
        pairs = rows.group_by([names[j], names[j + 1]], use_threads=False).aggregate([])
        counts = pairs.group_by(names[j], use_threads=False).aggregate([([], "count_all")])
        bad = counts.filter(pc.greater(counts["count_all"], 1))
        if bad.num_rows:
            label = bad[names[j]][0].as_py()
            parents = pairs.filter(pc.equal(pairs[names[j]], label))[names[j + 1]]
            two = sorted(parents.to_pylist())[:2]
            raise InvalidInput(
                tr(
                    "泛化层级不一致：第 {j} 级的 {v!r} 在第 {k} 级有两个上级 {a!r} 和 {b!r}",
                    "inconsistent hierarchy: {v!r} at level {j} generalises to two values at "
                    "level {k}, {a!r} and {b!r}",
                    v=label,
                    j=j,
                    k=j + 1,
                    a=two[0],
                    b=two[1],
                ),
                where=where,
                hint=tr(
                    "每个值在下一级只能有一个泛化值",
                    "each value must generalise to exactly one value at the next level",
                ),
            )
    return [rows[n].combine_chunks() for n in names]


def from_spec(
    spec: HierarchySpecLike,
    values: Column,
    *,
    name: str | None = None,
    base: str | Path | None = None,
) -> Hierarchy:
    """The hierarchy a recipe entry describes, built over the column's values where needed.

    Args:
        spec: The entry: ``kind`` (values, interval, date, region, mask, file, table) and
            ``widths`` (interval), ``path`` (file, relative to ``base``) or ``rows`` (table).
        values: The column the hierarchy is for.
        name: The column's name.
        base: The folder relative paths are resolved against.

    Raises:
        InvalidInput: A missing parameter, or whatever the builder raises.
    """
    kind = spec.kind
    if kind == "values":
        return Hierarchy.flat(values, name=name)
    if kind == "interval":
        if not spec.widths:
            raise _needs("widths", kind, name)
        return Hierarchy.interval(values, spec.widths, name=name)
    if kind == "date":
        return Hierarchy.date(values, name=name)
    if kind == "region":
        return Hierarchy.region(values, name=name)
    if kind == "mask":
        return Hierarchy.mask(values, name=name)
    if kind == "file":
        if not spec.path:
            raise _needs("path", kind, name)
        path = Path(spec.path)
        if base is not None and not path.is_absolute():
            path = Path(base) / path
        return Hierarchy.from_csv(path, name=name)
    if kind == "table":
        if not spec.rows:
            raise _needs("rows", kind, name)
        return Hierarchy.from_rows(spec.rows, name=name)
    raise InvalidInput(
        tr("未知的层级类型 {k!r}", "unknown hierarchy kind {k!r}", k=kind),
        where=Location(column=name),
        hint="values, interval, date, region, mask, file, table",
    )


def _needs(field: str, kind: str, name: str | None) -> InvalidInput:
    return InvalidInput(
        tr("{kind} 层级需要 {field}", "a {kind} hierarchy needs {field}", kind=kind, field=field),
        where=Location(column=name),
    )
