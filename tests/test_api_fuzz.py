"""Fuzz the OpenAPI with schemathesis: no 500s, bodies as documented, one error shape.

Every operation is fuzzed against one real server over one world (accounts, published products,
grants) once per role: no token, provider, operator, consumer and auditor, and the admin on the
account routes. A share of the generated cases is steered onto the world's real identifiers and
field names, so that authenticated requests get past the 404s into the handlers; objects that a
call spends for good (a revoked grant, a withdrawn product, a decided request, a revoked token)
are spares made for that purpose, so the world stays usable for every other operation.

The upload (multipart) is fuzzed like the rest, but schemathesis' file part has no extension
and stops at the format check: its content is fuzzed by a Hypothesis test of its own, next to
hand-made malformed files and forms. The download (binary) is fuzzed for its errors and its file
is checked by hand. The OpenAPI document itself is checked for summaries, 2xx schemas, the
bearer scheme and documented error responses.

Known bugs in ``src/`` are strict xfails (``KNOWN`` for the fuzz tests, and one hand-written
test each): they turn into failures once fixed, and then the xfail goes.
"""

from __future__ import annotations

import io
import json
import logging
import traceback
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import httpx2 as httpx
import pyarrow.parquet as pq
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from dizuo.api.app import create_app
from dizuo.auth import service as auth
from dizuo.share import service as share
from dizuo.share.schemas import DecisionIn, ProductIn, RequestIn
from dizuo.workspace import Workspace
from tests.api_support import API, Api, World, build_world, serve
from tests.test_api_e2e import RECIPE

# The document does not depend on the workspace (no route is ever called on this app), so it is
# built at import, when pytest makes one test per operation; `test_the_served_document_is_the_
# fuzzed_one` checks that the running server serves this very document.
DOC: dict[str, Any] = create_app(cast(Workspace, SimpleNamespace())).openapi()

# Nothing is read from a schemathesis.toml: the whole configuration is here. Security parameters
# are not generated: each role sends its own token (the "anonymous" role covers a missing one);
# otherwise a third of an authenticated role's cases would be schemathesis dropping the header.
CONFIG = schemathesis.Config.from_dict(
    {"generation": {"mode": "all", "with-security-parameters": False, "deterministic": True}}
)
schema = schemathesis.openapi.from_dict(DOC, config=CONFIG)

UNAUTHENTICATED = [f"{API}/auth/login", "/health"]  # routes that ignore the bearer token

FUZZ = settings(
    max_examples=25,  # per operation and role, on top of schemathesis' coverage cases
    deadline=None,
    derandomize=True,  # CI runs the same cases every time
    database=None,  # and writes no .hypothesis/ folder
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        # `as_role` sets the role once for all of a test's inputs, which is what it is for
        HealthCheck.function_scoped_fixture,
    ],
)

# role → the account it logs in as (None: no token) and the language it asks for; the operator
# reads Chinese so that the Chinese message templates are exercised too
ROLES: dict[str, tuple[str | None, str]] = {
    "anonymous": (None, "en"),
    "admin": ("admin", "en"),
    "provider": ("edu_provider", "en"),
    "operator": ("operator", "zh-CN"),
    "consumer": ("consumer", "en"),
    "auditor": ("auditor", "en"),
}
AUTHENTICATED = ["admin", "provider", "operator", "consumer", "auditor"]

# Bugs in src/ the fuzzing found (fixed; the hand-written tests below guard each fix):
# naive token times, a recipe keeping no field (500), a version number beyond the database's
# integer (500), 409 undocumented, the server's upload path in errors.
KNOWN: dict[tuple[str, str], str] = {}


@dataclass
class Fuzz:
    """The server, one token per role, and the real identifiers cases are steered onto."""

    base: str
    world: World
    tokens: dict[str, str]
    spare: dict[str, Any]
    # path parameter → operation path → values ("*": any other path with that parameter)
    paths: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # "METHOD /path" → partial bodies merged into generated ones
    bodies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    role: str = "anonymous"
    # (role, operation, status) → responses
    seen: Counter[tuple[str, str, int]] = field(default_factory=Counter)


STATE: dict[str, Fuzz] = {}
FRESH = object()  # in a steered body: a new, valid code
log = logging.getLogger(__name__)  # the summary: pytest --log-cli-level=INFO shows it


_who = auth.principal_of


def _spares(ws: Workspace) -> dict[str, Any]:
    """What the state-changing operations may spend, so that the world's own grant, request
    and products stay usable for every other operation and role: a product to withdraw, a
    grant to suspend / resume / revoke (revocation is final), pending requests to decide, and
    for each account a token to revoke (never the one it calls with)."""
    out: dict[str, Any] = {"pending": [], "tokens": {}}
    with ws.session() as s:
        operator = _who(s, "operator")
        share.publish(
            ws,
            s,
            operator,
            ProductIn(
                code="edu.spare",
                name="spare",
                dataset="edu_roll_shared",
                purposes=["教育研究"],
                delivery=["download", "query", "statistics"],
            ),
        )
        request = share.create_request(
            ws, s, _who(s, "consumer2"), RequestIn(product="edu.scores", purpose="教育研究")
        )
        share.decide(ws, s, _who(s, "edu_provider"), request.id, DecisionIn(decision="approve"))
        _, grant = share.decide(ws, s, operator, request.id, DecisionIn(decision="approve"))
        assert grant is not None
        out["grant"] = str(grant.id)
        for who, product in [("consumer", "edu.scores"), ("consumer2", "edu.private")] * 3:
            pending = share.create_request(
                ws, s, _who(s, who), RequestIn(product=product, purpose="教育研究")
            )
            out["pending"].append(str(pending.id))
        for role, (account, _) in ROLES.items():
            if account is not None:
                token, _ = auth.create_token(s, auth.get_user(s, account), name="spare", days=1)
                out["tokens"][role] = str(token.id)
    return out


class _NoCarets(logging.Filter):
    """The server thread logs the traceback of each 500. Python 3.11 draws its carets with
    ast.parse, which before 3.11.8 is not thread-safe (cpython gh-106905): pytest formatting a
    failure in the main thread at the same moment crashed the session (INTERNALERROR
    "AST constructor recursion depth mismatch"). The same frames, without carets."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            frames = [
                f'  File "{f.filename}", line {f.lineno}, in {f.name}'
                for f in traceback.extract_tb(exc.__traceback__)
            ]
            text = "\n".join(
                [record.getMessage().rstrip(), *frames, f"{type(exc).__name__}: {exc}"]
            )
            record.msg, record.args, record.exc_info, record.exc_text = text, (), None, None
        return True


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    # conftest's autouse `_english` is function-scoped: a module's world needs its own
    mp = pytest.MonkeyPatch()
    mp.setenv("DIZUO_LANG", "en")
    mp.setenv("DIZUO_USER", "tester")
    mp.delenv("DIZUO_HOME", raising=False)
    mp.delenv("DIZUO_DATABASE_URL", raising=False)
    no_carets = _NoCarets()
    logging.getLogger("uvicorn.error").addFilter(no_carets)
    folder = tmp_path_factory.mktemp("fuzz")
    ws = Workspace.init(folder / "ws")
    try:
        world = build_world(ws, folder)
        spare = _spares(ws)
        with serve(ws) as base:
            tokens = {
                role: str(Api(base).as_user(account).token)
                for role, (account, _) in ROLES.items()
                if account is not None
            }
            state = Fuzz(base=base, world=world, tokens=tokens, spare=spare)
            columns = ["身份证号", "区县", "成绩"]
            state.paths = {
                "code": {
                    f"{API}/datasets/{{code}}": ["edu_roll", "edu_roll_shared"],
                    f"{API}/datasets/{{code}}/classification": ["edu_roll", "edu_roll_shared"],
                    f"{API}/products/{{code}}": ["edu.scores", "edu.private"],
                    f"{API}/products/{{code}}/withdraw": ["edu.spare"],
                    "*": ["edu_roll"],  # upload, classify, overrides, protect
                },
                "request_id": {
                    f"{API}/requests/{{request_id}}/decision": spare["pending"],
                    "*": [world.request_id],
                },
                "grant_id": {
                    f"{API}/grants/{{grant_id}}/{action}": [spare["grant"]]
                    for action in ("suspend", "resume", "revoke")
                }
                | {"*": [world.grant_id, world.grant_id, spare["grant"]]},
            }
            state.bodies = {
                f"POST {API}/users": [{"org": "acme", "roles": ["consumer"]}],
                f"POST {API}/datasets": [{"org": "edu"}, {"org": "datagroup"}],
                f"POST {API}/datasets/{{code}}/classify": [{"version": 1}],
                f"POST {API}/datasets/{{code}}/overrides": [
                    {"column": "成绩", "entity": None, "grade": None},
                    {"column": "", "grade": "核心数据"},
                ],
                f"POST {API}/datasets/{{code}}/protect": [
                    {"recipe": RECIPE, "version": 1, "target": None},
                    {"recipe": RECIPE, "version": 1, "target": FRESH},
                ],
                f"POST {API}/products": [
                    {"dataset": "edu_roll_shared"},
                    {
                        "code": FRESH,
                        "dataset": "edu_roll_shared",
                        "version": None,
                        "columns": None,
                        "row_filter": "",
                        "rights": {},
                        "audience": [],
                    },
                    {
                        "code": FRESH,
                        "dataset": "edu_roll_shared",
                        "version": 1,
                        "columns": columns,
                        "row_filter": "成绩 >= 60",
                        "rights": {"holding": "edu"},
                        "audience": ["uni"],
                    },
                ],
                f"POST {API}/requests": [
                    {"product": "edu.scores", "purpose": "教育研究"},
                    {"product": "edu.scores", "purpose": "教育研究", "columns": columns},
                ],
                f"POST {API}/requests/{{request_id}}/decision": [
                    {"decision": "approve"},
                    {"decision": "approve", "step": "operator"},
                ],
                f"POST {API}/grants/{{grant_id}}/query": [
                    {"columns": columns},
                    {"columns": None, "filter": "区县 = '锦江区' AND 成绩 >= 60"},
                    {"columns": columns[1:], "filter": "", "offset": 0, "limit": 10},
                ],
                f"POST {API}/grants/{{grant_id}}/statistics": [
                    {"group_by": ["区县"]},
                    {"group_by": ["区县", "成绩"], "filter": ""},
                ],
            }
            STATE["fuzz"] = state
            yield state
    finally:
        STATE.pop("fuzz", None)
        ws.close()
        logging.getLogger("uvicorn.error").removeFilter(no_carets)
        mp.undo()


def _real_path_values(path: str, name: str) -> list[str]:
    state = STATE.get("fuzz")
    if state is None:
        return []  # coverage cases are built at collection, before the world exists
    if name == "token_id":
        token = state.spare["tokens"].get(state.role)
        return [token] if token else []
    by_path = state.paths.get(name, {})
    return by_path.get(path, by_path.get("*", []))


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> Any:
    """As often as not (as Hypothesis chooses), the path names a real object."""
    options = [path_parameters]
    if isinstance(path_parameters, dict):
        for name in path_parameters:
            for value in _real_path_values(context.operation.path, name):
                options.append({**path_parameters, name: value})
    return st.sampled_from(options)


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """Half the time the body names a real product, dataset, column or organisation (and
    ``FRESH``: a valid code made of the generated body, so that creation can succeed)."""
    state = STATE.get("fuzz")
    label = f"{context.operation.method.upper()} {context.operation.path}"
    if state is None or not isinstance(body, dict) or label not in state.bodies:
        return st.just(body)
    fresh = f"fuzz.{zlib.crc32(repr(sorted(body.items())).encode()):08x}"
    steered = [
        {**body, **{k: fresh if v is FRESH else v for k, v in real.items()}}
        for real in state.bodies[label]
    ]
    return st.one_of(st.just(body), st.sampled_from(steered))  # half of them steered


# -- checks ------------------------------------------------------------------------------


def assert_error_shape(status: int, content_type: str, content: bytes) -> dict[str, Any]:
    """The one error body: ``{"error": {"kind", "message", "hint"?, "where"?}}``."""
    assert content_type.startswith("application/json"), f"{status} with {content_type!r}"
    body = json.loads(content)
    assert isinstance(body, dict) and set(body) == {"error"}, body
    detail = body["error"]
    assert isinstance(detail, dict), body
    assert {"kind", "message"} <= set(detail) <= {"kind", "message", "hint", "where"}, body
    assert isinstance(detail["kind"], str) and detail["kind"], body
    assert isinstance(detail["message"], str) and detail["message"], body
    assert all(detail.get(k) is None or isinstance(detail[k], str) for k in ("hint", "where"))
    return detail


def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx has the one error shape."""
    if 400 <= response.status_code < 500:
        kind = (response.headers.get("content-type") or [""])[0]
        assert_error_shape(response.status_code, kind, response.content)
    return None


def token_accepted(role: str) -> Callable[[Any, Any, Any], bool | None]:
    """A role's valid token is never refused (a 401 only from a failed login): the cases
    reach the handlers."""

    def check(ctx: Any, response: Any, case: Any) -> bool | None:
        if role != "anonymous" and response.status_code == 401:
            raise AssertionError(f"{role}'s valid token was refused by {case.operation.label}")
        return None

    check.__name__ = "token_accepted"
    return check


# -- the fuzzing -------------------------------------------------------------------------


@pytest.fixture
def as_role(fuzz: Fuzz, request: pytest.FixtureRequest) -> Iterator[str]:
    role = str(request.node.callspec.params["role"])
    reason = KNOWN.get((str(getattr(request.node, "operation_label", "")), role))
    if reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    fuzz.role = role  # read by the path hook while Hypothesis draws this test's cases
    yield role
    fuzz.role = "anonymous"


def _call_and_check(case: Any, role: str, fuzz: Fuzz) -> None:
    account, lang = ROLES[role]
    headers = {"Accept-Language": lang}
    if account is not None:
        headers["Authorization"] = f"Bearer {fuzz.tokens[role]}"
    response = case.call(base_url=fuzz.base, headers=headers, timeout=60)
    fuzz.seen[(role, case.operation.label, response.status_code)] += 1
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            # every documented status has an application/json schema except the download's
            # 200 (Parquet or CSV): the check skips it, and content_type_conformance holds it
            # to the two documented media types
            response_schema_conformance,
            content_type_conformance,
            error_shape,
            token_accepted(role),
        ],
        headers=headers,
    )


@schema.exclude(path=UNAUTHENTICATED).parametrize()
@pytest.mark.parametrize("role", ["provider", "operator", "consumer", "auditor"])
@FUZZ
def test_fuzz(case: Any, role: str, as_role: str, fuzz: Fuzz) -> None:
    _call_and_check(case, role, fuzz)


@schema.include(path_regex=rf"^{API}/(auth/(me|tokens)|users)").parametrize()
@pytest.mark.parametrize("role", ["admin"])
@FUZZ
def test_fuzz_admin(case: Any, role: str, as_role: str, fuzz: Fuzz) -> None:
    """The admin only manages accounts: its other routes are the same 403 each time."""
    _call_and_check(case, role, fuzz)


@schema.parametrize()
@pytest.mark.parametrize("role", ["anonymous"])
@FUZZ
def test_fuzz_anonymous(case: Any, role: str, as_role: str, fuzz: Fuzz) -> None:
    """Without a token: 401 everywhere but the login and /health (fuzzed only here, since
    they ignore the token)."""
    _call_and_check(case, role, fuzz)


def _documented(label: str) -> set[int]:
    method, path = label.split(" ", 1)
    return {int(code) for code in DOC["paths"][path][method.lower()]["responses"]}


def test_fuzz_reached_the_handlers(fuzz: Fuzz) -> None:
    """The fuzzing got past authentication: each role had answers of each kind it should."""
    if not fuzz.seen:
        pytest.skip("the fuzz tests were deselected")
    by_role: dict[str, Counter[int]] = {}
    for (role, _label, status), n in fuzz.seen.items():
        by_role.setdefault(role, Counter())[status] += n
    for (role, label, status), n in sorted(fuzz.seen.items()):
        log.debug("%s %s: %d × %d", role, label, n, status)
    for role, statuses in sorted(by_role.items()):
        log.info("%s: %d cases, %s", role, sum(statuses.values()), dict(sorted(statuses.items())))
    undocumented = sorted(
        {(label, status) for (_r, label, status), _n in fuzz.seen.items()}
        - {(label, s) for (_r, label, _s) in fuzz.seen for s in _documented(label)}
    )
    log.info("statuses seen but not documented: %s", undocumented)
    for role in ("provider", "operator", "consumer", "auditor", "admin"):
        if role in by_role:
            ok = sum(n for status, n in by_role[role].items() if 200 <= status < 300)
            assert ok >= 20, f"{role}: only {ok} successful calls — is the world usable?"
    if "anonymous" in by_role:
        assert by_role["anonymous"][401] > 100


# -- the upload (multipart) --------------------------------------------------------------


def _upload(fuzz: Fuzz, files: Any = None, data: Any = None, **kw: Any) -> httpx.Response:
    provider = Api(fuzz.base, fuzz.tokens["provider"])
    return provider.post("/datasets/edu_roll/versions", files=files, data=data, **kw)


def _refused(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text}"
    return assert_error_shape(
        response.status_code, response.headers.get("content-type", ""), response.content
    )


CSV = "身份证号,姓名,区县,年龄,成绩\n".encode()
ROW = "110101200001011234,张三,锦江区,20,90\n".encode()
GB18030 = "姓名\n张三\n".encode("gb18030")
ONE = {"file": ("a.csv", CSV + ROW)}


@pytest.mark.parametrize(
    ("name", "content", "form"),
    [
        pytest.param("empty.csv", b"", {}, id="empty"),
        pytest.param("garbage.csv", bytes(range(256)) * 64, {}, id="binary-garbage"),
        pytest.param("garbage.xlsx", b"PK\x03\x04" + bytes(range(256)) * 16, {}, id="bad-xlsx"),
        pytest.param("garbage.parquet", b"PAR1" + b"\x00" * 100 + b"PAR1", {}, id="bad-parquet"),
        pytest.param("garbage.json", b'{"rows": [1, 2', {}, id="bad-json"),
        pytest.param("data.csv", CSV + ROW, {"delimiter": "||||"}, id="4-char-delimiter"),
        pytest.param("data.csv", CSV + ROW, {"delimiter": "\x00"}, id="nul-delimiter"),
        pytest.param("data.csv", CSV + ROW, {"encoding": "no-such-codec"}, id="unknown-codec"),
        pytest.param("data.csv", CSV + ROW, {"encoding": "utf-16"}, id="wrong-codec"),
        pytest.param("data.csv", GB18030, {"encoding": "ascii"}, id="ascii-for-gb18030"),
    ],
)
def test_upload_refuses_malformed_files(
    fuzz: Fuzz, name: str, content: bytes, form: dict[str, str]
) -> None:
    response = _upload(fuzz, files={"file": (name, content)}, data=form or None)
    _refused(response)


@pytest.mark.parametrize(
    ("name", "content", "form"),
    [
        pytest.param("header-only.csv", CSV, {}, id="header-only"),  # a version of 0 rows
        pytest.param("noextension", CSV + ROW, {}, id="no-extension"),
        pytest.param("data.csv", CSV + ROW, {"sheet": "Sheet1"}, id="sheet-of-a-csv"),
        pytest.param("a.csv", b"a\n1\n", {}, id="another-schema"),
        pytest.param("../../../../etc/passwd.csv", CSV + ROW, {}, id="path-in-the-name"),
        pytest.param("data.csv", CSV + ROW, {"mode": "append"}, id="append"),
    ],
)
def test_upload_odd_but_possible_files(
    fuzz: Fuzz, name: str, content: bytes, form: dict[str, str]
) -> None:
    """Taken as a new version, or refused with the error shape; never a 500."""
    response = _upload(fuzz, files={"file": (name, content)}, data=form or None)
    if response.status_code != 201:
        _refused(response)


@pytest.mark.parametrize(
    ("files", "data"),
    [
        pytest.param({"data": ("a.csv", CSV + ROW)}, None, id="file-under-another-name"),
        pytest.param(None, {"mode": "replace"}, id="no-file"),
        pytest.param(ONE, {"mode": "merge"}, id="unknown-mode"),
        pytest.param(ONE, {"delimiter": ";" * 5000}, id="huge-delimiter"),
        pytest.param(ONE, {"encoding": "x" * 33}, id="long-encoding"),
        pytest.param(ONE, {"sheet": "s" * 101}, id="long-sheet"),
    ],
)
def test_upload_refuses_wrong_forms(fuzz: Fuzz, files: Any, data: Any) -> None:
    response = _upload(fuzz, files=files, data=data)
    assert response.status_code == 422, response.text
    assert _refused(response)["kind"] == "invalid_input"


def _table_text(rows: list[list[str]], delimiter: str) -> str:
    return "".join(delimiter.join(row) + "\n" for row in rows)


CELLS = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
UPLOADS = st.one_of(
    st.binary(max_size=4000),
    st.builds(
        lambda rows, delimiter, codec: _table_text(rows, delimiter).encode(codec, "replace"),
        st.lists(st.lists(CELLS, min_size=1, max_size=6), max_size=30),
        st.sampled_from([",", ";", "\t", "|"]),
        st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
    ),
    st.lists(st.lists(CELLS, min_size=5, max_size=5), max_size=20).map(
        lambda rows: CSV + _table_text(rows, ",").encode()  # the dataset's own header
    ),
)


@given(
    name=st.sampled_from(["a.csv", "a.tsv", "a.txt", "a.json", "a.jsonl", "a.xlsx", "a.parquet"]),
    content=UPLOADS,
    form=st.fixed_dictionaries(
        {},
        optional={
            "encoding": st.sampled_from(["utf-8", "gb18030", "latin-1", "utf-16", "bogus"]),
            "delimiter": st.sampled_from([",", ";", "\t", "|", "ab", "\\"]),
            "mode": st.sampled_from(["replace", "append"]),
            "sheet": st.sampled_from(["Sheet1", "0", ""]),
        },
    ),
)
@settings(FUZZ, max_examples=60)
def test_upload_content_fuzz(fuzz: Fuzz, name: str, content: bytes, form: dict[str, str]) -> None:
    """What the schema cannot fuzz: the file's content (schemathesis names the part after the
    field, without an extension, so its uploads stop at the format check)."""
    response = _upload(fuzz, files={"file": (name, content)}, data=form or None)
    if response.status_code != 201:
        _refused(response)


def test_upload_errors_name_the_callers_file(fuzz: Fuzz) -> None:
    response = _upload(fuzz, files={"file": ("roll.csv", b"")})
    where = _refused(response)["where"]
    assert where == "roll.csv", where


def test_upload_refuses_json_and_wrong_callers(fuzz: Fuzz) -> None:
    _refused(_upload(fuzz, json={"file": "a,b\n1,2\n"}))
    files = ONE
    anonymous = Api(fuzz.base).post("/datasets/edu_roll/versions", files=files)
    assert anonymous.status_code == 401 and _refused(anonymous)["kind"] == "unauthenticated"
    consumer = Api(fuzz.base, fuzz.tokens["consumer"])
    refused = consumer.post("/datasets/edu_roll/versions", files=files)
    assert refused.status_code == 403 and _refused(refused)["kind"] == "forbidden"
    provider = Api(fuzz.base, fuzz.tokens["provider"])
    missing = provider.post("/datasets/no_such/versions", files=files)
    assert missing.status_code == 404 and _refused(missing)["kind"] == "not_found"


# -- the download (binary) ---------------------------------------------------------------


def test_download_gives_the_granted_file(fuzz: Fuzz) -> None:
    consumer = Api(fuzz.base, fuzz.tokens["consumer"])
    grant = fuzz.world.grant_id
    parquet = consumer.get(f"/grants/{grant}/download")
    assert parquet.status_code == 200, parquet.text
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == int(parquet.headers["x-dizuo-rows"]) > 0
    assert set(table.column_names) == {"身份证号", "区县", "成绩"}
    csv = consumer.get(f"/grants/{grant}/download", params={"format": "csv"})
    assert csv.status_code == 200, csv.text
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.decode("utf-8-sig").count("\n") == table.num_rows + 1


@pytest.mark.parametrize(
    ("who", "grant", "params", "status"),
    [
        ("consumer", "world", {"format": "xlsx"}, 422),
        ("consumer", "world", {"format": ""}, 422),
        ("consumer", "not-a-uuid", {}, 404),
        ("consumer", "00000000-0000-0000-0000-000000000000", {}, 404),
        ("consumer", "spare", {}, 404),  # another consumer's grant is not visible
        ("operator", "world", {}, 403),  # the operator sees the grant, takes no data
        ("anonymous", "world", {}, 401),
    ],
)
def test_download_errors_have_the_error_shape(
    fuzz: Fuzz, who: str, grant: str, params: dict[str, str], status: int
) -> None:
    grant_id = {"world": fuzz.world.grant_id, "spare": fuzz.spare["grant"]}.get(grant, grant)
    api = Api(fuzz.base, fuzz.tokens.get(who))
    response = api.get(f"/grants/{grant_id}/download", params=params)
    assert response.status_code == status, response.text
    _refused(response)


# -- the bugs the fuzzing found, pinned down ---------------------------------------------


def test_token_times_carry_their_offset(fuzz: Fuzz) -> None:
    auditor = Api(fuzz.base, fuzz.tokens["auditor"])
    listed = auditor.get("/auth/tokens")
    assert listed.status_code == 200, listed.text
    used = [t["last_used_at"] for t in listed.json()["items"] if t["last_used_at"]]
    assert used, "the calling token is marked as used"
    new = auditor.post("/auth/tokens", json={"name": "to revoke", "days": 1}).json()["info"]
    auditor.delete(f"/auth/tokens/{new['id']}")
    again = auditor.delete(f"/auth/tokens/{new['id']}")  # read back from the database
    assert again.status_code == 200, again.text
    for value in [*used, again.json()["revoked_at"]]:
        assert value.endswith("Z") or value[-6] in "+-", f"{value!r} has no UTC offset"


@pytest.mark.parametrize(
    "recipe", [{}, {"version": 1, "default": "drop", "fields": {}}, {"fields": {"姓名": "drop"}}]
)
def test_a_recipe_that_keeps_nothing_is_refused(fuzz: Fuzz, recipe: dict[str, Any]) -> None:
    operator = Api(fuzz.base, fuzz.tokens["operator"])
    # version 1: the uploads above add versions of other shapes to edu_roll
    body = {"recipe": recipe, "version": 1}
    response = operator.post("/datasets/edu_roll/protect", json=body)
    _refused(response)


BIG = 2**63  # one past SQLite's largest INTEGER


@pytest.mark.parametrize(
    ("who", "method", "path", "kw"),
    [
        ("provider", "get", "/datasets/edu_roll/classification", {"params": {"version": BIG}}),
        ("operator", "post", "/datasets/edu_roll/classify", {"json": {"version": BIG}}),
        (
            "operator",
            "post",
            "/datasets/edu_roll/protect",
            {"json": {"recipe": RECIPE, "version": BIG}},
        ),
        (
            "operator",
            "post",
            "/products",
            {
                "json": {
                    "code": "edu.huge",
                    "name": "huge",
                    "dataset": "edu_roll_shared",
                    "version": BIG,
                    "purposes": ["教育研究"],
                    "delivery": ["query"],
                }
            },
        ),
    ],
    ids=["classification", "classify", "protect", "publish"],
)
def test_a_huge_version_number_is_not_found(
    fuzz: Fuzz, who: str, method: str, path: str, kw: dict[str, Any]
) -> None:
    response = getattr(Api(fuzz.base, fuzz.tokens[who]), method)(path, **kw)
    assert response.status_code in (404, 422), response.text
    _refused(response)


CONFLICTS = [
    ("admin", "post", f"{API}/users", "already exists"),
    ("operator", "post", f"{API}/datasets", "already exists"),
    ("operator", "post", f"{API}/products", "already exists"),
    ("operator", "post", f"{API}/requests/{{request_id}}/decision", "already decided"),
    ("operator", "post", f"{API}/grants/{{grant_id}}/resume", "not suspended"),
]


@pytest.mark.parametrize(("who", "method", "path", "why"), CONFLICTS, ids=lambda v: str(v))
def test_conflicts_answer_409(fuzz: Fuzz, who: str, method: str, path: str, why: str) -> None:
    body = {
        f"{API}/users": {
            "username": "consumer",
            "password": "long-enough-password",
            "org": "acme",
            "roles": ["consumer"],
        },
        f"{API}/datasets": {"code": "edu_roll", "name": "again"},
        f"{API}/products": {
            "code": "edu.scores",
            "name": "again",
            "dataset": "edu_roll_shared",
            "purposes": ["教育研究"],
            "delivery": ["query"],
        },
        f"{API}/requests/{{request_id}}/decision": {"decision": "approve"},
        f"{API}/grants/{{grant_id}}/resume": {},
    }[path]
    url = path.removeprefix(API).format(
        request_id=fuzz.world.request_id, grant_id=fuzz.world.grant_id
    )
    response = getattr(Api(fuzz.base, fuzz.tokens[who]), method)(url, json=body)
    assert response.status_code == 409, response.text
    assert _refused(response)["kind"] in ("conflict", "already_exists")


def test_409_is_documented() -> None:
    missing = [
        f"{method.upper()} {path}"
        for _who, method, path, _why in CONFLICTS
        if "409" not in DOC["paths"][path][method]["responses"]
    ]
    assert not missing, missing


# -- the document ------------------------------------------------------------------------


def test_the_served_document_is_the_fuzzed_one(fuzz: Fuzz) -> None:
    served = Api(fuzz.base).get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(json.dumps(DOC))


def _resolve(ref: dict[str, Any]) -> dict[str, Any]:
    name = ref["$ref"].rsplit("/", 1)[1]
    resolved: dict[str, Any] = DOC["components"]["schemas"][name]
    return resolved


def test_the_document_is_complete() -> None:
    assert DOC["components"]["securitySchemes"] == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": DOC["components"]["securitySchemes"]["HTTPBearer"]["description"],
        }
    }
    assert DOC["info"]["title"] and DOC["info"]["description"]
    operations = [
        (method, path, op) for path, ops in DOC["paths"].items() for method, op in ops.items()
    ]
    assert len(operations) >= 37
    problems: list[str] = []
    for method, path, op in operations:
        label = f"{method.upper()} {path}"
        # FastAPI makes a summary of the function's name ("Create Token") when none is given
        generated = op["operationId"].startswith(op.get("summary", "").lower().replace(" ", "_"))
        if not op.get("description") and (not op.get("summary") or generated):
            problems.append(f"{label}: no summary or description of its own")
        responses = op["responses"]
        success = [code for code in responses if code.startswith("2")]
        if len(success) != 1:
            problems.append(f"{label}: 2xx responses {success}")
            continue
        content = responses[success[0]].get("content", {})
        if path == f"{API}/grants/{{grant_id}}/download":
            if set(content) != {"application/vnd.apache.parquet", "text/csv"}:
                problems.append(f"{label}: the file's media types are {sorted(content)}")
        else:
            body = content.get("application/json", {}).get("schema")
            if not body:
                problems.append(f"{label}: no JSON schema for {success[0]}")
            elif body == {} or body.get("type") not in (None, "object", "array"):
                problems.append(f"{label}: a vague {success[0]} schema {body}")
        security = op.get("security")
        if path in UNAUTHENTICATED:
            if security:
                problems.append(f"{label}: asks for a token it does not need")
        elif security != [{"HTTPBearer": []}]:
            problems.append(f"{label}: security {security}")
        if path == "/health":
            continue
        for code in ("401", "403", "404", "422"):
            schema_ = responses.get(code, {}).get("content", {}).get("application/json", {})
            if schema_.get("schema") != {"$ref": "#/components/schemas/ErrorBody"}:
                problems.append(f"{label}: {code} not documented with ErrorBody")
    assert not problems, "\n".join(problems)
    error_body = DOC["components"]["schemas"]["ErrorBody"]
    assert error_body["required"] == ["error"]
    detail = _resolve(error_body["properties"]["error"])
    assert set(detail["required"]) == {"kind", "message"}
    assert set(detail["properties"]) == {"kind", "message", "hint", "where"}
