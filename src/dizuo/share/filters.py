"""Row filters: a SQL boolean expression, checked and re-rendered for DuckDB.

Data products and grants carry a *row filter* written by an operator (or a consumer narrowing a
query), for example ``district = '锦江区' AND age BETWEEN 18 AND 60``. It ends up inside a
DuckDB ``WHERE`` clause, so it is never pasted in as written: :func:`parse_filter` parses it with
SQLGlot, refuses anything but plain predicates over known columns, and renders it again with
every column as a quoted identifier. Comments are dropped. :func:`combine` ANDs filters together.

Allowed: comparisons (``= <> != < <= > >=``), ``AND`` / ``OR`` / ``NOT``, parentheses, ``IN``
with a list, ``BETWEEN``, ``LIKE`` / ``ILIKE``, ``IS [NOT] NULL`` / ``IS [NOT] TRUE|FALSE``;
values are columns, strings, numbers (optionally negative), ``NULL``, ``TRUE`` / ``FALSE`` and
``DATE '…'`` / ``TIMESTAMP '…'``. Refused: functions, subqueries, arithmetic, casts, parameters,
table-qualified columns, ``*``, and more than one statement.

The audit log records :attr:`RowFilter.digest` (SM3 of the rendered SQL) rather than the literal
values a filter may contain.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import sqlglot
from cryptography.hazmat.primitives import hashes
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError, TokenError
from sqlglot.tokens import TokenType  # type: ignore[attr-defined]

from dizuo.errors import InvalidInput
from dizuo.i18n import current_lang, tr

MAX_LENGTH = 4000
MAX_NESTING = 16  # parentheses; SQLGlot's recursive-descent parser spends ~20 frames a level

_DIALECT = "duckdb"
_CLASS = re.compile(r"<class '(?:[\w.]+\.)?(\w+)'>")  # in SQLGlot's parse errors

# Nodes that may appear anywhere in a filter (some with further checks in _check_tree).
_ALLOWED: frozenset[type[exp.Expr]] = frozenset(
    {
        exp.And,
        exp.Or,
        exp.Not,
        exp.Paren,
        exp.EQ,
        exp.NEQ,
        exp.GT,
        exp.GTE,
        exp.LT,
        exp.LTE,
        exp.In,
        exp.Between,
        exp.Is,
        exp.Null,
        exp.Boolean,
        exp.Like,
        exp.ILike,
        exp.Column,
        exp.Identifier,
        exp.Literal,
        exp.Neg,
        exp.Tuple,
        exp.Cast,  # only DATE '…' / TIMESTAMP '…' (SQLGlot parses those as casts)
        exp.DataType,  # only as the target of such a cast
    }
)

# Nodes that are a predicate by themselves; And/Or/Not/Paren are predicates when their operands are.
_PREDICATES: tuple[type[exp.Expr], ...] = (
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.In,
    exp.Between,
    exp.Is,
    exp.Like,
    exp.ILike,
    exp.Boolean,
)

# DATE '…' and TIMESTAMP '…' (the DuckDB dialect reads TIMESTAMP as TIMESTAMPNTZ)
_DATE_TYPES = frozenset({"DATE", "TIMESTAMP", "TIMESTAMPNTZ"})

_CJK_PUNCTUATION = "‘’“”＝（），；"

_WHAT_ZH = {"row filter": "行过滤条件", "query filter": "查询过滤条件"}

_OPERATORS: dict[type[exp.Expr], str] = {
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
    exp.IntDiv: "//",
    exp.Mod: "%",
    exp.Pow: "^",
    exp.DPipe: "||",
    exp.BitwiseAnd: "&",
    exp.BitwiseOr: "|",
    exp.BitwiseXor: "xor",
    exp.BitwiseNot: "~",
    exp.BitwiseLeftShift: "<<",
    exp.BitwiseRightShift: ">>",
}


@dataclass(frozen=True)
class RowFilter:
    """A checked row filter.

    Attributes:
        text: The filter as written, stripped (``""``: no filter).
        sql: The filter rendered for DuckDB, every column a quoted identifier (``""`` if empty).
        columns: The distinct columns it reads, sorted.
        digest: Hex SM3 digest of :attr:`sql` (``""`` if empty) — what the audit log records.
    """

    text: str
    sql: str
    columns: tuple[str, ...]
    digest: str


EMPTY = RowFilter("", "", (), "")


def parse_filter(
    text: str | None, columns: Iterable[str], *, what: str = "row filter"
) -> RowFilter:
    """Check a row filter against the known ``columns`` and render it for DuckDB.

    Args:
        text: The filter as the user wrote it; ``None`` or blank means no filter.
        columns: The column names the filter may use (exact, case-sensitive).
        what: What the filter is, for messages (``"row filter"``, ``"query filter"``).

    Raises:
        InvalidInput: The filter cannot be parsed, is longer than 4,000 characters, is not a
            single predicate, uses something other than plain comparisons, or names a column
            that is not in ``columns``.
    """
    stripped = (text or "").strip()
    if not stripped:
        return EMPTY
    label = _label(what)
    if len(stripped) > MAX_LENGTH:
        raise InvalidInput(
            tr(
                "{w}过长：{n} 个字符，最多 {m} 个",
                "{w} is too long: {n} characters, at most {m}",
                w=label,
                n=len(stripped),
                m=MAX_LENGTH,
            )
        )
    known = list(dict.fromkeys(columns))
    try:
        tree = _parse(stripped, label)
        inner_query = tree.find(exp.Query, exp.Subquery)  # the root itself: see _check_root
        if inner_query is not None and inner_query is not tree:
            raise _refused(label, inner_query)
        _check_root(tree, label)
        used = _check_tree(tree, label, known)
        for node in [n for n in tree.walk() if isinstance(n, exp.Column)]:
            node.set("this", exp.to_identifier(node.name, quoted=True))
        sql = tree.sql(dialect=_DIALECT, comments=False)
    except RecursionError:
        raise _too_deep(label) from None
    digest = hashes.Hash(hashes.SM3())
    digest.update(sql.encode("utf-8"))
    return RowFilter(stripped, sql, tuple(sorted(used)), digest.finalize().hex())


def combine(*filters: RowFilter) -> str:
    """The AND of the non-empty filters' SQL, each in parentheses; ``""`` if all are empty."""
    return " AND ".join(f"({f.sql})" for f in filters if f.sql)


def _label(what: str) -> str:
    return _WHAT_ZH.get(what, what) if current_lang() == "zh" else what


def _too_deep(label: str) -> InvalidInput:
    return InvalidInput(
        tr(
            "{w}嵌套过深：括号最多 {m} 层",
            "{w} is nested too deeply: at most {m} levels of parentheses",
            w=label,
            m=MAX_NESTING,
        )
    )


def _unreadable(label: str, exc: SqlglotError) -> InvalidInput:
    if isinstance(exc, ParseError) and exc.errors:
        first = exc.errors[0]
        highlight = str(first.get("highlight") or "")
        near = highlight.strip()
        why = str(first.get("description") or "").strip().splitlines()
        col = first.get("col", "?")
        if isinstance(col, int) and highlight and "\n" not in highlight:
            col = max(1, col - len(highlight) + 1)  # SQLGlot gives the column the token ends at
        return InvalidInput(
            tr(
                "{w}无法解析（第 {line} 行第 {col} 列{near}）{why}",
                "{w} cannot be parsed (line {line}, column {col}{near}){why}",
                w=label,
                line=first.get("line", "?"),
                col=col,
                near=tr("，{t!r} 处", ", at {t!r}", t=near[:40]) if near else "",
                why=": " + _CLASS.sub(r"\1", why[0]) if why else "",
            )
        )
    return InvalidInput(
        tr(
            "{w}无法读取：请检查引号是否成对（值用 '…'，列名用 \"…\"）",
            "{w} cannot be read: check that quotes are balanced ('…' for values, \"…\" for "
            "column names)",
            w=label,
        )
    )


def _parse(text: str, label: str) -> exp.Expr:
    """Parse ``text`` as exactly one expression (no statements, no ``;``)."""
    try:
        tokens = Dialect.get_or_raise(_DIALECT).tokenize(text)
    except TokenError as exc:
        raise _unreadable(label, exc) from None
    depth = 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            raise InvalidInput(
                tr(
                    "{w}必须是单个条件表达式，不能含 ';'",
                    "{w} must be a single condition, without ';'",
                    w=label,
                )
            )
        if token.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE):
            depth += 1
            if depth > MAX_NESTING:
                raise _too_deep(label)
        elif token.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE):
            depth -= 1
    try:
        trees = [t for t in sqlglot.parse(text, read=_DIALECT) if t is not None]
    except SqlglotError as exc:
        raise _unreadable(label, exc) from None
    if len(trees) != 1:
        raise InvalidInput(tr("{w}必须是单个条件表达式", "{w} must be a single condition", w=label))
    return trees[0]


def _not_a_condition(label: str, node: exp.Expr) -> InvalidInput:
    return InvalidInput(
        tr(
            "{w}必须是条件（如 age >= 18），而 {s!r} 不是；布尔列请写成 col = TRUE",
            "{w} must be a condition such as age >= 18, not {s!r}; for a boolean column write "
            "col = TRUE",
            w=label,
            s=_snippet(node),
        )
    )


def _check_root(tree: exp.Expr, label: str) -> None:
    """The tree must be a predicate: And/Or/Not/Paren over predicates, down to comparisons."""
    if type(tree) not in _ALLOWED and not isinstance(
        tree, exp.Condition | exp.Alias | exp.Func | exp.Star
    ):
        raise InvalidInput(
            tr(
                "{w}必须是条件表达式，不能是查询或语句（{k}）",
                "{w} must be a condition, not a query or statement ({k})",
                w=label,
                k=tree.key.upper(),
            )
        )
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.And | exp.Or):
            stack += [node.left, node.right]
        elif isinstance(node, exp.Not | exp.Paren):
            stack.append(node.this)
        elif type(node) not in _PREDICATES:
            if type(node) not in _ALLOWED:
                raise _refused(label, node)
            raise _not_a_condition(label, node)


def _check_tree(tree: exp.Expr, label: str, known: list[str]) -> set[str]:
    """Walk every node; refuse what is not allowed; return the columns used."""
    used: set[str] = set()
    for node in tree.walk():
        if type(node) not in _ALLOWED:
            raise _refused(label, node)
        if isinstance(node, exp.Column):
            used.add(_check_column(node, label, known))
        elif isinstance(node, exp.In):
            if any(node.args.get(k) for k in ("query", "unnest", "field")) or not node.expressions:
                raise InvalidInput(
                    tr(
                        "{w}：IN 后面只能是值列表，如 status IN ('a', 'b')",
                        "{w}: IN takes a list of values, such as status IN ('a', 'b')",
                        w=label,
                    )
                )
        elif isinstance(node, exp.Is):
            if type(node.expression) not in (exp.Null, exp.Boolean):
                raise InvalidInput(
                    tr(
                        "{w}：IS 后面只能是 NULL、TRUE 或 FALSE",
                        "{w}: IS takes only NULL, TRUE or FALSE",
                        w=label,
                    )
                )
        elif isinstance(node, exp.Neg):
            inner = node.this
            if not (isinstance(inner, exp.Literal) and not inner.is_string):
                raise _refused(label, node)
        elif isinstance(node, exp.Cast):
            value, to = node.this, node.args.get("to")
            extra = [k for k, v in node.args.items() if v and k not in ("this", "to")]
            if (
                extra
                or not (isinstance(value, exp.Literal) and value.is_string)
                or not isinstance(to, exp.DataType)
                or getattr(to.this, "name", None) not in _DATE_TYPES
                or to.expressions
            ):
                raise _refused(label, node)
        elif isinstance(node, exp.DataType):
            if not isinstance(node.parent, exp.Cast):
                raise _refused(label, node)
    return used


def _check_column(node: exp.Column, label: str, known: list[str]) -> str:
    if not isinstance(node.this, exp.Identifier):
        raise _refused(label, node)
    extra = [k for k, v in node.args.items() if v and k != "this"]
    if extra:
        raise InvalidInput(
            tr(
                "{w}：不能写带表名的列 {c}，请只写列名",
                "{w}: table-qualified column {c} is not allowed; write the column name alone",
                w=label,
                c=_snippet(node),
            )
        )
    name = str(node.this.this)
    if name in known:
        return name
    if any(ch in name for ch in _CJK_PUNCTUATION):
        hint = tr(
            "请用英文引号：值用 '…'，列名用 \"…\"",
            "use ASCII quotes: '…' for values, \"…\" for column names",
        )
    else:
        same_case = [c for c in known if c.casefold() == name.casefold()]
        close = same_case[:1] or difflib.get_close_matches(name, known, n=1)
        shown = ", ".join(known[:20]) + (", …" if len(known) > 20 else "")
        hint = (
            tr("是否指 {c!r}？", "did you mean {c!r}?", c=close[0])
            if close
            else tr(
                "可用的列：{c}；文本值要加单引号，如 '锦江区'",
                "the columns are: {c}; text values go in single quotes, such as 'abc'",
                c=shown or "-",
            )
        )
    raise InvalidInput(
        tr("{w}：未知的列 {c!r}", "{w}: unknown column {c!r}", w=label, c=name), hint=hint
    )


def _snippet(node: exp.Expr) -> str:
    try:
        text = node.sql(dialect=_DIALECT, comments=False)
    except Exception:  # a message must never fail; fall back to the node's class
        text = type(node).__name__
    return text if len(text) <= 40 else text[:39] + "…"


def _describe(node: exp.Expr) -> str:
    """Name a refused node for a message."""
    if isinstance(node, exp.Query | exp.Subquery):
        return tr("子查询", "a subquery")
    if isinstance(node, exp.Placeholder | exp.Parameter):
        return tr("参数 {s}", "the parameter {s}", s=_snippet(node))
    if isinstance(node, exp.Star):
        return "*"
    if isinstance(node, exp.Neg):
        return tr("取负 {s}（只能用于数字）", "negation {s} (only of a number)", s=_snippet(node))
    if type(node) in _OPERATORS:
        return tr("运算符 {o}", "the operator {o}", o=_OPERATORS[type(node)])
    if isinstance(node, exp.Cast | exp.DataType):
        return tr(
            "类型转换 {s}（只可用 DATE '…' 或 TIMESTAMP '…'）",
            "the cast {s} (only DATE '…' and TIMESTAMP '…' literals)",
            s=_snippet(node),
        )
    if isinstance(node, exp.Anonymous):
        return tr("函数 {f}()", "function {f}()", f=node.name)
    if isinstance(node, exp.Func):
        return tr("函数 {f}()", "function {f}()", f=node.sql_name().lower())
    if isinstance(node, exp.Escape):
        return tr("LIKE … ESCAPE", "LIKE … ESCAPE")
    if isinstance(node, exp.NullSafeEQ | exp.NullSafeNEQ):
        return tr("IS [NOT] DISTINCT FROM", "IS [NOT] DISTINCT FROM")
    if isinstance(node, exp.Alias):
        return tr(
            "别名 {s}（是否少了运算符？）", "an alias {s} (a missing operator?)", s=_snippet(node)
        )
    return _snippet(node)


def _refused(label: str, node: exp.Expr) -> InvalidInput:
    return InvalidInput(
        tr(
            "{w}：不允许使用 {x}；请使用比较、AND/OR/NOT、IN、BETWEEN、LIKE、IS NULL",
            "{w}: {x} is not allowed; use comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL",
            w=label,
            x=_describe(node),
        )
    )
