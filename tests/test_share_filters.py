"""Row filters: parsed and re-rendered with SQLGlot, checked by running them in DuckDB."""

from __future__ import annotations

import random
from collections.abc import Iterator

import duckdb
import pytest

from dizuo.errors import InvalidInput
from dizuo.share.filters import EMPTY, MAX_LENGTH, RowFilter, combine, parse_filter

COLUMNS = ["name", "就诊日期", "age", "district", "note", "status", "my col"]

# 5 rows; the expected counts below are worked out from these by hand
ROWS = """
    ('张三', DATE '2024-01-05', 30, '锦江区', NULL, 'a', 1),
    ('张四', DATE '2023-12-31', 17, '锦江区', 'x', 'b', 2),
    ('李四', DATE '2024-03-01', 61, '青羊区', 'y', 'c', 3),
    ('王五', NULL, 45, '武侯区', NULL, 'a', NULL),
    ('zhao', DATE '2024-06-01', 18, '锦江区', 'z', NULL, 5)
"""


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute(
        f"CREATE TABLE t AS SELECT * FROM (VALUES {ROWS}) "
        'v("name", "就诊日期", age, district, note, status, "my col")'
    )
    yield connection
    connection.close()


def count(con: duckdb.DuckDBPyConnection, where: str) -> int:
    row = con.execute(f"SELECT count(*) FROM t WHERE {where}").fetchone()
    assert row is not None
    return int(row[0])


def refused(text: str, columns: list[str] = COLUMNS) -> str:
    with pytest.raises(InvalidInput) as info:
        parse_filter(text, columns)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# --- accepted filters run in DuckDB ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("district = '锦江区' AND age BETWEEN 18 AND 60", 2),
        ("\"就诊日期\" >= '2024-02-01' OR status IN ('b')", 3),
        ("就诊日期 < DATE '2024-01-01'", 1),  # unquoted Chinese column
        ('"就诊日期" IS NULL', 1),
        ("就诊日期 BETWEEN DATE '2024-01-01' AND TIMESTAMP '2024-03-01 00:00:00'", 2),
        ("note IS NOT NULL", 3),
        ("note IS NULL", 2),
        ("NOT (age < 30)", 3),
        ("NOT age < 30", 3),
        ("name LIKE '张%'", 2),
        ("name NOT LIKE '张%'", 3),
        ("name ILIKE 'ZHAO'", 1),
        ("age NOT BETWEEN 18 AND 60", 2),
        ("status IN ('a', 'b')", 3),
        ("status NOT IN ('a')", 2),
        ("((district = '锦江区' AND (age > 20 OR name = 'zhao')) OR (district = '青羊区'))", 3),
        ("age = 30 OR age = 17 AND district = '青羊区'", 1),  # AND binds tighter than OR
        ("(age = 30 OR age = 17) AND district = '锦江区'", 2),
        ('"my col" > 1 AND "my col" <> 3', 2),
        ('"my col" != 3', 3),
        ("age > -1", 5),
        ("age = -1", 0),
        ("age >= 17.5 AND age <= 1e2", 4),
        ("TRUE", 5),
        ("age > 18 IS TRUE", 3),
        ("(name, age) IN (('张三', 30), ('王五', 45))", 2),
        ("age >= 18 and district = '锦江区'", 2),  # keywords in lower case
        ("age >= 18\n  AND district = '锦江区'\n", 2),  # several lines
        ("district = 'it''s'", 0),
        ("name = '张三' /* a comment */", 1),
        ("name = 'a' -- comment", 0),
        ("age = 30 -- */ OR 1=1 /*", 1),  # a comment cannot smuggle code out
    ],
)
def test_accepted_filters_run_in_duckdb(
    con: duckdb.DuckDBPyConnection, text: str, expected: int
) -> None:
    f = parse_filter(text, COLUMNS)
    assert f.text == text.strip()
    assert count(con, f.sql) == expected
    assert "comment" not in f.sql and "--" not in f.sql and "/*" not in f.sql


def test_every_column_is_a_quoted_identifier() -> None:
    f = parse_filter("district = '锦江区' AND 就诊日期 >= '2024-01-01' AND \"my col\" = 1", COLUMNS)
    assert f.sql == '"district" = \'锦江区\' AND "就诊日期" >= \'2024-01-01\' AND "my col" = 1'
    assert f.columns == ("district", "my col", "就诊日期")


def test_columns_are_distinct_and_sorted() -> None:
    f = parse_filter("age > 3 AND name = 'x' AND age < 10 OR note IS NULL", iter(COLUMNS))
    assert f.columns == ("age", "name", "note")
    assert parse_filter("TRUE", COLUMNS).columns == ()


def test_quoted_and_unquoted_render_the_same() -> None:
    a = parse_filter("\"就诊日期\" >= '2024-01-01'", COLUMNS)
    b = parse_filter("就诊日期>='2024-01-01'", COLUMNS)
    assert a.sql == b.sql
    assert a.digest == b.digest


def test_a_column_name_with_a_double_quote() -> None:
    con = duckdb.connect()
    con.execute('CREATE TABLE t AS SELECT * FROM (VALUES (1), (2)) v("a""b")')
    f = parse_filter('"a""b" = 2', ['a"b'])
    assert f.sql == '"a""b" = 2'
    assert f.columns == ('a"b',)
    assert count(con, f.sql) == 1


def test_a_quote_inside_an_identifier_cannot_break_out() -> None:
    message = refused('"name"" = 1 OR ""age" = 1')
    assert "unknown column 'name\" = 1 OR \"age'" in message


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t "])
def test_empty_means_no_filter(text: str | None) -> None:
    f = parse_filter(text, COLUMNS)
    assert f == RowFilter("", "", (), "") == EMPTY


def test_the_text_is_kept_stripped() -> None:
    assert parse_filter("  age > 3 \n", COLUMNS).text == "age > 3"


def test_length_limit() -> None:
    at_limit = "name = '" + "a" * (MAX_LENGTH - 9) + "'"
    assert len(at_limit) == MAX_LENGTH
    assert parse_filter(at_limit, COLUMNS).sql.startswith('"name" = ')
    message = refused("name = '" + "a" * 5000 + "'")
    assert "too long" in message and "4000" in message


# --- combine ------------------------------------------------------------------------------------


def test_combine(con: duckdb.DuckDBPyConnection) -> None:
    a = parse_filter("age = 30 OR age = 17", COLUMNS)
    b = parse_filter("district = '锦江区'", COLUMNS)
    c = parse_filter("name LIKE '张%' OR note IS NULL", COLUMNS)
    where = combine(a, EMPTY, b, parse_filter(None, COLUMNS), c)
    assert where == f"({a.sql}) AND ({b.sql}) AND ({c.sql})"
    # without the parentheses the ORs would swallow the ANDs
    assert count(con, where) == 2
    assert count(con, combine(a)) == 2


def test_combine_nothing() -> None:
    assert combine() == ""
    assert combine(EMPTY, parse_filter("  ", COLUMNS)) == ""


# --- digest -------------------------------------------------------------------------------------


def test_digest_is_stable_and_distinguishes_filters() -> None:
    a1 = parse_filter("district = '锦江区' AND age > 18", COLUMNS)
    a2 = parse_filter("district = '锦江区' AND age > 18", COLUMNS)
    a3 = parse_filter("  district='锦江区'   and age>18 -- same filter", COLUMNS)
    b = parse_filter("district = '青羊区' AND age > 18", COLUMNS)
    assert a1.digest == a2.digest == a3.digest
    assert a1.digest != b.digest
    assert len(a1.digest) == 64
    int(a1.digest, 16)  # hex


def test_digest_is_sm3_of_the_sql() -> None:
    from cryptography.hazmat.primitives import hashes

    f = parse_filter("age > 18", COLUMNS)
    h = hashes.Hash(hashes.SM3())
    h.update(f.sql.encode("utf-8"))
    assert f.digest == h.finalize().hex()


def test_digest_and_columns_hold_no_literal_values() -> None:
    secret = "张三丰1234"
    f = parse_filter(f"name = '{secret}' OR note IN ('{secret}', 'x9y8')", COLUMNS)
    for value in (secret, "x9y8", "1234"):
        assert value not in f.digest
        assert all(value not in column for column in f.columns)
    assert f.columns == ("name", "note")


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1=1; DROP TABLE t", "single condition, without ';'"),
        ("age = 1;", "without ';'"),
        ("(SELECT 1) = 1", "a subquery is not allowed"),
        ("age IN (SELECT age FROM t)", "a subquery is not allowed"),
        ("EXISTS (SELECT 1)", "a subquery is not allowed"),
        ("SELECT 1", "not a query or statement (SELECT)"),
        ("DROP TABLE t", "not a query or statement (DROP)"),
        ("age = 1 UNION SELECT 1", "not a query or statement"),
        ("upper(name) = 'X'", "function upper() is not allowed; use comparisons"),
        ("read_csv('/etc/passwd') IS NOT NULL", "function read_csv() is not allowed"),
        ("mystery(age) = 1", "function mystery() is not allowed"),
        ("就诊日期 > CURRENT_DATE", "function current_date() is not allowed"),
        ("t.name = 'x'", "table-qualified column t.name is not allowed"),
        ("main.t.name = 'x'", "table-qualified column main.t.name"),
        ("age + 1 > 3", "the operator + is not allowed"),
        ("age * 2 > 3", "the operator * is not allowed"),
        ("name = 'a' || 'b'", "the operator || is not allowed"),
        ("age = -age", "negation -age (only of a number)"),
        ("name", "must be a condition such as age >= 18, not 'name'"),
        ("'x'", "must be a condition"),
        ("1", "must be a condition"),
        ("NOT name", "must be a condition"),
        ("name AND age > 3", "must be a condition"),
        ("?", "the parameter ? is not allowed"),
        ("$1", "the parameter $1 is not allowed"),
        ("age = $1", "the parameter $1 is not allowed"),
        ("age = :a", "parameter"),
        ("*", "* is not allowed"),
        ("age::INT = 1", "the cast"),
        ("CAST(age AS VARCHAR) = '1'", "the cast"),
        ("就诊日期 = TRY_CAST('2024-01-01' AS DATE)", "the cast"),
        ("age IS 1", "IS takes only NULL, TRUE or FALSE"),
        ("age IN name", "IN takes a list of values"),
        ("name LIKE 'a!%' ESCAPE '!'", "LIKE … ESCAPE is not allowed"),
        ("age IS DISTINCT FROM 1", "IS [NOT] DISTINCT FROM is not allowed"),
        ("age = 0x1F", "alias"),
        ("age = 1 age", "alias"),
        ("name = 'a", "check that quotes are balanced"),
        ("\"name = 'a'", "check that quotes are balanced"),
        ("age = 1 AND", "cannot be parsed (line 1, column 9, at 'AND')"),
        ("age = 1)", "cannot be parsed (line 1, column"),
        ("age = 1\nAND AND age = 2", "cannot be parsed (line 2, column"),
        ("district = ‘锦江区’", "use ASCII quotes"),
    ],
)
def test_refused(text: str, fragment: str) -> None:
    message = refused(text)
    assert message.startswith("row filter")
    assert fragment in message


def test_comments_are_dropped_not_rendered() -> None:
    f = parse_filter("name = 'a' -- comment; DROP TABLE t", COLUMNS)
    assert f.sql == "\"name\" = 'a'"
    assert f.text == "name = 'a' -- comment; DROP TABLE t"


def test_too_deeply_nested() -> None:
    assert "nested too deeply" in refused("(" * 40 + "age = 1" + ")" * 40)
    assert "nested too deeply" in refused("NOT " * 300 + "age = 1")
    # a long flat list is fine
    long_or = " OR ".join(f"age = {i}" for i in range(300))
    assert parse_filter(long_or, COLUMNS).columns == ("age",)


def test_unknown_column_is_named_with_a_suggestion() -> None:
    message = refused("unknown_col = 1")
    assert "unknown column 'unknown_col'" in message
    assert "the columns are: name, 就诊日期, age" in message
    assert "did you mean 'name'?" in refused("nme = 'a'")
    assert "did you mean '就诊日期'?" in refused("\"就诊日\" >= '2024-01-01'")


def test_column_names_are_case_sensitive() -> None:
    message = refused("Age > 3")
    assert "unknown column 'Age'" in message and "did you mean 'age'?" in message
    assert "unknown column 'NAME'" in refused('"NAME" = 1')


def test_a_value_without_quotes_is_an_unknown_column() -> None:
    message = refused("district = 锦江区")
    assert "unknown column '锦江区'" in message
    assert "text values go in single quotes" in message


def test_what_names_the_filter() -> None:
    with pytest.raises(InvalidInput, match=r"^query filter: function upper\(\)"):
        parse_filter("upper(name) = 'X'", COLUMNS, what="query filter")


def test_messages_in_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIZUO_LANG", "zh")
    with pytest.raises(InvalidInput) as info:
        parse_filter("upper(name) = 'X'", COLUMNS)
    assert str(info.value).startswith("行过滤条件：不允许使用 函数 upper()")
    with pytest.raises(InvalidInput) as info:
        parse_filter("nme = 1", COLUMNS, what="query filter")
    assert str(info.value).startswith("查询过滤条件：未知的列 'nme'")


def test_rowfilter_is_frozen() -> None:
    f = parse_filter("age > 1", COLUMNS)
    with pytest.raises(AttributeError):
        f.sql = "1=1"  # type: ignore[misc]


# --- re-rendering keeps the meaning -------------------------------------------------------------


def _random_filter(rng: random.Random, depth: int) -> str:
    values = {
        "age": ["17", "30", "-5", "2.5"],
        "name": ["'张三'", "'a''b'", "'zhao'"],
        "就诊日期": ["DATE '2024-01-01'", "'2024-03-01'", "TIMESTAMP '2024-01-05 00:00:00'"],
        '"就诊日期"': ["DATE '2024-01-01'", "'2024-03-01'"],
        "note": ["'x'", "'y'"],
    }
    r = rng.random()
    if depth > 0 and r < 0.3:
        op = rng.choice(["AND", "OR", "and", "or"])
        return f"{_random_filter(rng, depth - 1)} {op} {_random_filter(rng, depth - 1)}"
    if depth > 0 and r < 0.4:
        return f"NOT {_random_filter(rng, depth - 1)}"
    if depth > 0 and r < 0.55:
        return f"({_random_filter(rng, depth - 1)})"
    c = rng.choice(list(values))
    patterns = ["%a%", "Z%", "张_"]

    def v() -> str:
        return rng.choice(values[c])

    return rng.choice(
        [
            f"{c} {rng.choice(['=', '<>', '!=', '<', '<=', '>', '>='])} {v()}",
            f"{v()} {rng.choice(['=', '<', '>='])} {c}",
            f"{c} {rng.choice(['IN', 'NOT IN'])} ({', '.join(v() for _ in range(3))})",
            f"{c} {rng.choice(['BETWEEN', 'NOT BETWEEN'])} {v()} AND {v()}",
            f"{c} IS {rng.choice(['NULL', 'NOT NULL'])}",
            f"{c} = {v()} IS {rng.choice(['TRUE', 'NOT TRUE', 'FALSE'])}",
            f"name {rng.choice(['LIKE', 'NOT LIKE', 'ILIKE'])} {rng.choice(patterns)!r}",
            rng.choice(["TRUE", "FALSE"]),
        ]
    )


def test_rendering_keeps_the_meaning(con: duckdb.DuckDBPyConnection) -> None:
    """Random filters count the same rows as written and as re-rendered."""
    rng = random.Random(20240101)
    for _ in range(400):
        text = _random_filter(rng, rng.randint(0, 4))
        f = parse_filter(text, COLUMNS)
        assert count(con, f.sql) == count(con, text), (text, f.sql)
