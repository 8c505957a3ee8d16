"""API load benchmark (the data service): concurrent clients against the real server.

For each catalog database (``--backend``: SQLite, PostgreSQL or both), in one run:

* **The world** (built through the services, not timed): a workspace in a fresh folder under
  ``benchmarks/_data/api/`` (on PostgreSQL its catalog in a fresh schema of the server at
  ``$DIZUO_TEST_POSTGRES_URL``, default the test server of ``tests/conftest.py``), the
  accounts of the API tests (password ``correct-horse-battery``), a roll of ``--rows``
  students (default 100,000: name, resident ID with a valid check digit, mobile, one of nine
  Chengdu districts, age, score; generated with NumPy) ingested, classified and protected
  (name and mobile masked, ID pseudonymised), ``--products`` data products published over the
  protected version (default 200, a ninth of them restricted to organisation ``uni``; names and
  descriptions from a vocabulary of education topics), and one grant of user ``consumer`` on
  ``edu.scores`` for query delivery of four fields **without quotas** (the API tests' grant
  stops at 1,000 calls).
* **The server**: ``dizuo --home WS serve --port P --workers 40`` (``--workers``) as a process
  of its own: uvicorn, one process, the synchronous routes on a pool of worker threads; up
  when ``/health`` answers.
* **The load**: ``--clients`` virtual clients (default 50) on one asyncio loop in this process,
  each with its own ``httpx2.AsyncClient`` (one keep-alive connection on loopback) and its own
  session token. The logins (``POST /auth/login``, Argon2id) are a burst before the clock,
  reported on their own line; a failed login is counted and retried. Half the clients search
  the catalog (``GET /api/v1/products?q=WORD``: a random Chinese or English word, sometimes
  two, sometimes none; half of them as ``consumer``, half as ``consumer2``, who also sees the
  restricted products), the other half run granted queries (``POST /api/v1/grants/{id}/query``,
  100 rows at a random offset, one in three with a filter such as ``区县 = '锦江区'``). Each
  client sends two warm-up requests; then one client alone sends 30 sequential requests of
  each kind and 5 logins (the **probe**: latency without queueing, and the server's CPU per
  request); then all clients run closed-loop (the next request when the previous one has
  answered) for ``--seconds`` (default 60), and requests in flight at the end are awaited.
* **Measured**: every request's latency (sending to the whole body read) and status; per kind
  the requests, throughput (requests / wall seconds of the run), p50, p95, p99 and max, and
  failures (a non-2xx answer or an exception; the target is none). CPU seconds over the run:
  the server process (all threads, ``/proc/PID/stat``) and its event-loop thread, this load
  generator (``getrusage``), every ``postgres`` process, and the rest of the machine; the
  server's peak RSS.
* **Afterwards**: ``dizuo audit verify`` on the workspace (timed: it walks the whole chain);
  from the catalog, the audit entries written since the set-up (every granted query writes
  one, in the transaction that meters it), the usage records and the grant's ``calls_used``,
  which must all equal the successful queries. Then, with the server stopped, **where one
  request's time goes**: the service functions the two routes call (token check, product
  search, grant check, DuckDB connection, page read, metering and audit, Argon2id), each
  called 30 times in this process, and the same page read on one DuckDB database kept open.

The script exits non-zero if a request or a login failed (the first failures are printed),
the audit log does not verify, or the metering disagrees with the successful queries. It
prints the commit the server ran (others may be committing while it runs).

Usage::

    .venv/bin/python benchmarks/api.py                       # both backends, 50 clients, 60 s
    .venv/bin/python benchmarks/api.py --quick               # 10 clients, 10 s, smoke run
    .venv/bin/python benchmarks/api.py --backend sqlite --seconds 30 --workers 4
    .venv/bin/python benchmarks/api.py --keep                # keep workspaces (and schemas)

Without ``--keep`` the workspaces and the PostgreSQL schemas are deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from common import busy_seconds, machine, table, wait_idle

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "_data" / "api"
DIZUO = ROOT / ".venv" / "bin" / "dizuo"
API = "/api/v1"
PASSWORD = "correct-horse-battery"
PG_URL = os.environ.get(
    "DIZUO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DEFAULT_ROWS = 100_000
DEFAULT_PRODUCTS = 200
WORKERS = 8  # dizuo serve's default
WARMUP = 2  # requests per client before the clock
PROBE = 30  # sequential requests of one client alone, per kind
PROBE_LOGINS = 5
PHASE_REPEAT = 30  # calls per step in the in-process breakdown
TIMEOUT = 120.0  # seconds: a slower answer counts as a failure

# organisation code → (name, kind); user → (org, roles) — as in tests/api_support.py
ORGS = {
    "edu": ("市教育局", "provider"),
    "health": ("市卫健委", "provider"),
    "datagroup": ("市数据集团", "operator"),
    "acme": ("某科技公司", "consumer"),
    "uni": ("某大学", "consumer"),
    "regulator": ("市网信办", "auditor"),
}
USERS = {
    "admin": ("datagroup", ["admin"]),
    "edu_provider": ("edu", ["provider"]),
    "operator": ("datagroup", ["operator"]),
    "consumer": ("acme", ["consumer"]),
    "consumer2": ("uni", ["consumer"]),
    "auditor": ("regulator", ["auditor"]),
}

# Chengdu districts with their administrative codes (the first six digits of an ID number)
DISTRICTS = {
    "锦江区": "510104",
    "青羊区": "510105",
    "金牛区": "510106",
    "武侯区": "510107",
    "成华区": "510108",
    "龙泉驿区": "510112",
    "青白江区": "510113",
    "新都区": "510114",
    "温江区": "510115",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然子涵欣怡梓轩思雨"
RECIPE = {
    "version": 1,
    "default": "drop",
    "fields": {
        "姓名": {"transform": "mask", "preset": "person_name"},
        "身份证号": {"transform": "pseudonymise"},
        "联系电话": {"transform": "mask", "preset": "mobile_phone"},
        "区县": "keep",
        "年龄": "keep",
        "成绩": "keep",
    },
}
GRANTED = ["身份证号", "区县", "年龄", "成绩"]

# products: topic × aspect, with purposes and English words in the description
TOPICS = [
    ("学生成绩", "student scores"),
    ("义务教育学籍", "compulsory education enrolment"),
    ("学校分布", "school locations"),
    ("教师队伍", "teaching staff"),
    ("升学去向", "graduate destinations"),
    ("体质健康", "physical fitness"),
    ("营养餐", "school meals"),
    ("校车线路", "school bus routes"),
    ("招生计划", "admission plans"),
    ("学区划分", "school districts"),
]
ASPECTS = ["（去标识化）", "统计", "明细", "年度汇总", "分区县", "趋势", "抽样", "月度"]
PURPOSES = ["教育研究", "政策评估", "城市规划", "公共服务改进", "学术研究"]
SEARCH_WORDS = [
    "学生",
    "成绩",
    "学生成绩",
    "教育",
    "学籍",
    "学校",
    "教师",
    "体质健康",
    "营养",
    "校车",
    "招生",
    "学区",
    "锦江区",
    "统计",
    "明细",
    "研究",
    "政策评估",
    "城市规划",
    "市教育局",
    "去标识化",
    "education",
    "scores",
    "school",
    "student",
    "bus",
    "enrolment",
    "edu",
    "annual",
    "医疗",  # matches nothing
    "hospital",  # matches nothing
]
FILTERS = [
    "区县 = '{d}'",
    "成绩 >= 90",
    "年龄 < 12 AND 区县 = '{d}'",
    "区县 IN ('{d}', '武侯区') AND 成绩 < 60",
]


# -- the world ---------------------------------------------------------------------------------


def student_csv(path: Path, n: int, seed: int = 7) -> None:
    """``n`` students as UTF-8 CSV: 姓名, 身份证号 (valid GB 11643 check digit), 联系电话, 区县,
    年龄, 成绩 — vectorised (about 0.3 s per 100,000 rows)."""
    rng = np.random.default_rng(seed)
    surnames = np.array(list(SURNAMES))
    given = np.array(list(GIVEN))
    names = np.char.add(
        np.char.add(
            surnames[rng.integers(0, len(surnames), n)], given[rng.integers(0, len(given), n)]
        ),
        given[rng.integers(0, len(given), n)],
    )
    district_names = np.array(list(DISTRICTS))
    district = rng.integers(0, len(district_names), n)
    codes = np.array([[int(c) for c in code] for code in DISTRICTS.values()])[district]
    year = rng.integers(2008, 2019, n)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    serial = rng.integers(0, 1000, n)
    digits = np.column_stack(
        [
            codes,
            *(year // 10**k % 10 for k in (3, 2, 1, 0)),
            month // 10,
            month % 10,
            day // 10,
            day % 10,
            serial // 100,
            serial // 10 % 10,
            serial % 10,
        ]
    )
    weights = np.array([pow(2, 17 - i, 11) for i in range(17)])
    check = np.array(list("10X98765432"))[(digits @ weights) % 11]
    body = ["".join(map(str, row)) for row in digits.tolist()]
    phone = rng.integers(10**9, 2 * 10**9, n) + 12 * 10**9  # 13xxxxxxxxx
    age = 2026 - year
    score = rng.integers(40, 101, n)
    lines = ["姓名,身份证号,联系电话,区县,年龄,成绩"]
    lines += [
        f"{a},{b}{c},{p},{d},{g},{s}"
        for a, b, c, p, d, g, s in zip(
            names.tolist(),
            body,
            check.tolist(),
            phone.tolist(),
            district_names[district].tolist(),
            age.tolist(),
            score.tolist(),
            strict=True,
        )
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass
class World:
    home: Path
    database_url: str | None
    grant_id: str
    products: int
    restricted: int
    audit_entries: int  # after the set-up
    seconds: float = 0.0
    rows: int = 0


def build_world(home: Path, database_url: str | None, rows: int, products: int) -> World:
    """Accounts, the protected roll, the products and a quota-free grant, via the services."""
    import yaml

    from dizuo.audit import log as audit
    from dizuo.auth import service as auth
    from dizuo.catalog import service as catalog
    from dizuo.classify.run import classify_version
    from dizuo.ingest.pipeline import ingest
    from dizuo.ingest.spec import IngestSpec
    from dizuo.protect.run import protect_version
    from dizuo.share import service as share
    from dizuo.share.schemas import DecisionIn, GrantTerms, ProductIn, RequestIn
    from dizuo.workspace import Workspace

    start = time.perf_counter()
    ws = Workspace.init(home, database_url=database_url)
    try:
        with ws.session() as s:
            for code, (name, kind) in ORGS.items():
                catalog.add_org(s, code, name, kind)
            for username, (org, roles) in USERS.items():
                auth.add_user(s, username, PASSWORD, org=org, roles=roles)
                audit.record(ws, s, actor="bench", action="user.add", target=f"user:{username}")
        source = home / "学生名册.csv"
        student_csv(source, rows)
        with ws.session() as s:
            edu = catalog.get_org(s, "edu")
            catalog.create_dataset(s, "edu_roll", edu, name="学生名册", share_type="有条件共享")
        ingested = ingest(ws, IngestSpec(source=str(source), dataset="edu_roll"))
        source.unlink()
        classify_version(ws, "edu_roll", save=True)
        recipe = home / "recipe.yaml"
        recipe.write_text(yaml.safe_dump(RECIPE, allow_unicode=True), encoding="utf-8")
        protect_version(ws, "edu_roll", recipe)

        who = principal_of

        rng = random.Random(11)
        restricted = 0
        with ws.session() as s:
            operator = who(s, "operator")
            for i in range(products):
                code = "edu.scores" if i == 0 else f"edu.p{i:04d}"
                topic, english = TOPICS[i % len(TOPICS)]
                aspect = ASPECTS[(i // len(TOPICS)) % len(ASPECTS)]
                hidden = i % 9 == 4
                restricted += hidden
                share.publish(
                    ws,
                    s,
                    operator,
                    ProductIn(
                        code=code,
                        name=f"{topic}{aspect}" if i else "学生成绩（去标识化）",
                        description=f"{topic}数据，第 {i} 号产品；{english}, annual release",
                        dataset="edu_roll_shared",
                        columns=["身份证号", "姓名", "区县", "年龄", "成绩"],
                        purposes=rng.sample(PURPOSES, 2) if i else PURPOSES[:2],
                        delivery=["download", "query", "statistics"],
                        visibility="restricted" if hidden else "public",
                        audience=["uni"] if hidden else [],
                        min_cell=5,
                    ),
                )
            request = share.create_request(
                ws,
                s,
                who(s, "consumer"),
                RequestIn(
                    product="edu.scores",
                    purpose="教育研究",
                    columns=GRANTED,
                    delivery=["query"],
                    duration_days=30,
                ),
            )
            provider = who(s, "edu_provider")
            share.decide(ws, s, provider, request.id, DecisionIn(decision="approve"))
            _, grant = share.decide(
                ws, s, operator, request.id, DecisionIn(decision="approve", terms=GrantTerms())
            )
            assert grant is not None and grant.max_calls is None and grant.max_rows is None
            grant_id = str(grant.id)
        counts = catalog_counts(ws, grant_id)
    finally:
        ws.close()
    return World(
        home=home,
        database_url=database_url,
        grant_id=grant_id,
        products=products,
        restricted=restricted,
        audit_entries=counts["audit"],
        seconds=time.perf_counter() - start,
        rows=int(ingested.rows),
    )


def principal_of(s: Any, name: str) -> Any:
    """The principal of account ``name`` with all its roles' permissions (as a login gets)."""
    from dizuo.auth import service as auth

    return auth.principal_of(s, name)


def catalog_counts(ws: Any, grant_id: str) -> dict[str, int]:
    """Audit entries (all, and granted queries), usage records and the grant's calls."""
    import sqlalchemy as sa

    from dizuo.audit.models import AuditEntry
    from dizuo.share.models import Grant, Usage

    with ws.session() as s:
        gid = uuid.UUID(grant_id)
        return {
            "audit": int(s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0),
            "audit_query": int(
                s.scalar(
                    sa.select(sa.func.count())
                    .select_from(AuditEntry)
                    .where(AuditEntry.action == "data.query", AuditEntry.outcome == "ok")
                )
                or 0
            ),
            "usage": int(
                s.scalar(sa.select(sa.func.count()).select_from(Usage).where(Usage.grant_id == gid))
                or 0
            ),
            "calls_used": int(s.scalar(sa.select(Grant.calls_used).where(Grant.id == gid)) or 0),
        }


# -- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(world: World) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIZUO_")}
    env.update({"DIZUO_HOME": str(world.home), "DIZUO_USER": "bench", "DIZUO_LANG": "en"})
    if world.database_url:
        env["DIZUO_DATABASE_URL"] = world.database_url
    return env


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base: str
    log: Path

    def cpu_seconds(self, loop_only: bool = False) -> float:
        """User + system seconds of the server process, all its threads (``loop_only``: of
        its main thread, which runs the event loop: HTTP parsing, writing the responses)."""
        pid = self.proc.pid
        where = f"/proc/{pid}/task/{pid}/stat" if loop_only else f"/proc/{pid}/stat"
        fields = Path(where).read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/task"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(world: World, workers: int) -> Server:
    import httpx2 as httpx

    port = free_port()
    log = world.home / "server.log"
    cmd = [str(DIZUO), "--home", str(world.home), "serve", "--port", str(port)]
    cmd += ["--workers", str(workers)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=server_env(world), stdout=out, stderr=subprocess.STDOUT, cwd=world.home
        )
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped (exit {proc.returncode}):\n{log.read_text()}")
        try:
            if httpx.get(server.base + "/health", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise SystemExit(f"the server did not answer /health in 60 s:\n{log.read_text()}")
        time.sleep(0.1)


# -- the load ----------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    start: float  # seconds since the clock started
    ms: float
    status: int  # 0: an exception
    error: str = ""


@dataclass
class Load:
    samples: list[Sample]  # the timed run
    logins: list[Sample]  # the burst before the clock
    probe: dict[str, list[Sample]]  # kind → one client's sequential requests
    probe_cpu: dict[str, float]  # kind → server CPU ms per request in the probe
    wall: float
    client_cpu: float
    server_cpu: float
    loop_cpu: float  # the server's event-loop thread
    postgres_cpu: float | None
    machine_cpu: float | None
    ok_queries: int  # successful granted queries, warm-up and probe included
    rows_returned: int  # by the timed queries
    peak_rss_mb: float = 0.0
    threads: int = 0


def failed(s: Sample) -> bool:
    return s.status == 0 or s.status >= 300


def postgres_cpu() -> float | None:
    """User + system seconds of every process named ``postgres`` on this machine, with those
    of its reaped children (a backend that exits moves its time into the postmaster's)."""
    total = 0
    found = False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = text.split("(", 1)[1].rsplit(")", 1)
        if name == "postgres":
            fields = rest.split()
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
            found = True
    return total / os.sysconf("SC_CLK_TCK") if found else None


def _login_user(index: int, clients: int) -> tuple[str, str]:
    """Client ``index``'s kind and account: the first half search, the second half query."""
    searchers = clients // 2
    if index < searchers:
        return "search", "consumer" if index % 2 == 0 else "consumer2"
    return "query", "consumer"


def _search_params(rng: random.Random) -> dict[str, str]:
    roll = rng.random()
    if roll < 0.1:
        return {}
    words = rng.sample(SEARCH_WORDS, 2 if roll > 0.8 else 1)
    return {"q": " ".join(words)}


def _query_body(rng: random.Random, rows: int) -> dict[str, Any]:
    if rng.random() < 1 / 3:
        district = rng.choice(list(DISTRICTS))
        text = rng.choice(FILTERS).format(d=district)
        # the filters keep 4–18 % of the rows: offsets within the first 4 % (full pages)
        return {"filter": text, "offset": rng.randrange(0, max(1, rows // 25 - 100)), "limit": 100}
    return {"offset": rng.randrange(0, max(1, rows - 100)), "limit": 100}


async def drive(
    server: Server, grant_id: str, clients: int, seconds: float, rows: int, pg: bool
) -> Load:
    """Log the clients in, warm up, probe one client alone, then run them all for ``seconds``."""
    import httpx2 as httpx

    rng_seed = random.Random(2026)
    returned = [0]
    ok_queries = [0]
    failures_seen = [0]

    async def send(client: Any, kind: str, rng: random.Random) -> httpx.Response:
        if kind == "search":
            return await client.get("/products", params=_search_params(rng))
        body = _query_body(rng, rows)
        return await client.post(f"/grants/{grant_id}/query", json=body)

    async def timed(client: Any, kind: str, rng: random.Random, t0: float) -> Sample:
        began = time.perf_counter()
        try:
            response = await send(client, kind, rng)
            await response.aread()
            ms = (time.perf_counter() - began) * 1000
            sample = Sample(kind, began - t0, ms, response.status_code)
            if response.is_success:
                if kind == "query":
                    returned[0] += len(response.json()["rows"])
                    ok_queries[0] += 1
            else:
                sample.error = response.text[:300]
        except Exception as exc:  # every failure is recorded, none stops the run
            ms = (time.perf_counter() - began) * 1000
            sample = Sample(kind, began - t0, ms, 0, f"{type(exc).__name__}: {exc}"[:300])
        if failed(sample):
            failures_seen[0] += 1
            if failures_seen[0] <= 3:
                print(f"    failure: {kind} {sample.status} {sample.error}", flush=True)
        return sample

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=600)
    pool = [
        httpx.AsyncClient(
            base_url=server.base + API,
            headers={"Accept-Language": "en"},
            limits=limits,
            timeout=TIMEOUT,
            trust_env=False,
        )
        for _ in range(clients)
    ]
    kinds = [_login_user(i, clients) for i in range(clients)]
    rngs = [random.Random(rng_seed.random()) for _ in range(clients)]

    async def login(i: int) -> list[Sample]:
        """Log client ``i`` in: every attempt (a failed one is retried, up to 3 in all)."""
        tries = []
        for _ in range(3):
            began = time.perf_counter()
            try:
                response = await pool[i].post(
                    "/auth/login", json={"username": kinds[i][1], "password": PASSWORD}
                )
                sample = Sample("login", 0.0, (time.perf_counter() - began) * 1000, 0)
                sample.status = response.status_code
                if response.status_code == 200:
                    pool[i].headers["Authorization"] = f"Bearer {response.json()['token']}"
                    return [*tries, sample]
                sample.error = response.text[:300]
            except Exception as exc:
                sample = Sample("login", 0.0, (time.perf_counter() - began) * 1000, 0)
                sample.error = f"{type(exc).__name__}: {exc}"[:300]
            print(f"    login failure: {sample.status} {sample.error}", flush=True)
            tries.append(sample)
        raise SystemExit(f"client {i} could not log in: {tries[-1].error}")

    try:
        logins = [t for tries in await asyncio.gather(*map(login, range(clients))) for t in tries]

        async def warm_up(i: int) -> None:
            for _ in range(WARMUP):
                sample = await timed(pool[i], kinds[i][0], rngs[i], 0.0)
                if failed(sample):
                    raise SystemExit(f"warm-up request failed: {sample}")

        await asyncio.gather(*(warm_up(i) for i in range(clients)))

        # one client alone: latency without queueing, and the server's CPU per request
        probe: dict[str, list[Sample]] = {}
        probe_cpu: dict[str, float] = {}
        for kind, i in (("search", 0), ("query", clients - 1), ("login", clients - 1)):
            before = server.cpu_seconds()
            if kind == "login":
                probe[kind] = [t for _ in range(PROBE_LOGINS) for t in await login(i)]
            else:
                probe[kind] = [await timed(pool[i], kind, rngs[i], 0.0) for _ in range(PROBE)]
            probe_cpu[kind] = (server.cpu_seconds() - before) * 1000 / len(probe[kind])
        returned[0] = 0

        samples: list[Sample] = []
        busy0 = busy_seconds()
        pg0 = postgres_cpu() if pg else None
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        server0, loop0 = server.cpu_seconds(), server.cpu_seconds(loop_only=True)
        t0 = time.perf_counter()
        deadline = t0 + seconds

        async def client_loop(i: int) -> None:
            kind = kinds[i][0]
            while time.perf_counter() < deadline:
                samples.append(await timed(pool[i], kind, rngs[i], t0))

        await asyncio.gather(*(client_loop(i) for i in range(clients)))
        wall = time.perf_counter() - t0
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        server1, loop1 = server.cpu_seconds(), server.cpu_seconds(loop_only=True)
        pg1 = postgres_cpu() if pg else None
        busy1 = busy_seconds()
    finally:
        await asyncio.gather(*(c.aclose() for c in pool))
    client_cpu = (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
    return Load(
        samples=samples,
        logins=logins,
        probe=probe,
        probe_cpu=probe_cpu,
        wall=wall,
        client_cpu=client_cpu,
        server_cpu=server1 - server0,
        loop_cpu=loop1 - loop0,
        postgres_cpu=None if pg0 is None or pg1 is None else pg1 - pg0,
        machine_cpu=None if busy0 is None or busy1 is None else busy1 - busy0,
        ok_queries=ok_queries[0],
        rows_returned=returned[0],
    )


# -- where one request's time goes -------------------------------------------------------------


def phases(ws: Any, grant_id: str, rows: int) -> dict[str, tuple[float, float]]:
    """The steps of the two requests, in this process on one thread, after the load: step →
    (wall ms, CPU ms), the mean of ``PHASE_REPEAT`` calls after one untimed call. Uses the
    service's own functions (private ones included); a step whose function changed is left
    out with a note."""
    from dizuo.api.share import brief
    from dizuo.auth import service as auth
    from dizuo.share import deliver
    from dizuo.share import service as share

    rng = random.Random(5)
    out: dict[str, tuple[float, float]] = {}

    def timed(name: str, fn: Any, repeat: int = PHASE_REPEAT, setup: Any = None) -> None:
        """``fn(setup())`` (``fn()`` without ``setup``); ``setup`` is not timed."""
        try:
            for i in range(repeat + 1):
                args = (setup(),) if setup else ()
                w, c = time.perf_counter(), time.process_time()
                fn(*args)
                if i == 0:  # the untimed first call
                    wall = cpu = 0.0
                    continue
                wall += time.perf_counter() - w
                cpu += time.process_time() - c
            out[name] = (wall * 1000 / repeat, cpu * 1000 / repeat)
        except Exception as exc:  # the service changed under the benchmark: say so, go on
            print(f"  (step {name!r} left out: {type(exc).__name__}: {exc})", flush=True)

    with ws.session() as s:
        consumer = principal_of(s, "consumer")
    with ws.session(write=True) as s:
        _, secret = auth.create_token(s, auth.get_user(s, "consumer"), name="phases", days=1)
    source = deliver.open_source(ws, consumer, grant_id, "query")

    def page() -> str:
        offset = rng.randrange(0, rows - 100)
        return f"{source.select(source.columns)} {source.order()} LIMIT 101 OFFSET {offset}"

    def authenticate() -> None:
        with ws.session() as s:
            auth.authenticate(s, secret)

    def search() -> None:
        with ws.session() as s:
            items, _ = share.list_products(s, consumer, "学生", offset=0, limit=50)
            [brief(p) for p in items]

    def read_fresh(con_sql: tuple[Any, str]) -> None:
        con, sql = con_sql
        try:
            con.sql(sql).to_arrow_table()
        finally:
            con.close()

    kept = deliver._connect(ws)

    def read_cursor(sql: str) -> None:
        cursor = kept.cursor()
        try:
            cursor.sql(sql).to_arrow_table()
        finally:
            cursor.close()

    def whole() -> None:
        offset = rng.randrange(0, rows - 100)
        deliver.query(
            ws, consumer, grant_id, columns=None, filter_text="", offset=offset, limit=100
        )

    timed("token check (authenticate)", authenticate)
    timed("catalog search: list_products + briefs", search)
    timed(
        "granted query: check the grant (open_source)",
        lambda: deliver.open_source(ws, consumer, grant_id, "query"),
    )
    timed("granted query: new DuckDB database (_connect)", lambda: deliver._connect(ws).close())
    timed(
        "granted query: read 100 rows on it",
        read_fresh,
        setup=lambda: (deliver._connect(ws), page()),
    )
    timed(
        "granted query: meter + audit (_meter)",
        lambda: deliver._meter(ws, consumer, source, "query", 100, 10_000),
    )
    timed("granted query: whole service call (deliver.query)", whole)
    timed("what if: read 100 rows on a cursor of a kept database", read_cursor, setup=page)
    kept.close()
    with ws.session() as s:
        timed("login: check_login (Argon2id)", lambda: auth.check_login(s, "consumer", PASSWORD), 5)

    return out


# -- one backend -------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    world: World
    load: Load
    counts_after: dict[str, int]
    verify: dict[str, Any]
    verify_seconds: float
    code: str
    phases: dict[str, tuple[float, float]]


def pg_schema(create: bool, name: str) -> str:
    import sqlalchemy as sa

    admin = sa.create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            if create:
                conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
            else:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            version = str(conn.execute(sa.text("SHOW server_version")).scalar())
    finally:
        admin.dispose()
    return version


def verify_audit(world: World) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [str(DIZUO), "--home", str(world.home), "audit", "verify", "--json"],
        env=server_env(world),
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    try:
        verdict: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        verdict = {"ok": False, "problem": (proc.stdout + proc.stderr).strip()[-500:]}
    if proc.returncode != 0:
        verdict["ok"] = False
    return verdict, seconds


def run_backend(backend: str, args: argparse.Namespace, folder: Path) -> Result:
    from dizuo.workspace import Workspace

    url = None
    if backend == "postgres":
        schema = folder.name.replace("-", "_")
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    print(f"{backend}: building the world ({args.rows:,} rows, {args.products} products) …")
    world = build_world(folder / "ws", url, args.rows, args.products)
    print(
        f"  built in {world.seconds:.1f} s: {world.rows:,} rows protected, "
        f"{world.products} products ({world.restricted} restricted), grant {world.grant_id}",
        flush=True,
    )
    wait_idle(args.idle_wait)
    code = code_version()  # what the server imports now (others may be committing)
    server = start_server(world, args.workers)
    try:
        print(
            f"  server pid {server.proc.pid} at {server.base}; {args.clients} clients "
            f"for {args.seconds:g} s …",
            flush=True,
        )
        pg = backend == "postgres"
        load = asyncio.run(
            drive(server, world.grant_id, args.clients, args.seconds, world.rows, pg)
        )
        load.peak_rss_mb = server.peak_rss_mb()
        load.threads = server.threads()
    finally:
        server.stop()
    verdict, verify_seconds = verify_audit(world)
    ws = Workspace.open(world.home)  # its config names the catalog database
    try:
        counts = catalog_counts(ws, world.grant_id)  # before the breakdown adds its own calls
        wait_idle(min(args.idle_wait, 60))
        steps = phases(ws, world.grant_id, world.rows)
    finally:
        ws.close()
    return Result(backend, world, load, counts, verdict, verify_seconds, code, steps)


# -- reporting ---------------------------------------------------------------------------------


def percentiles(samples: list[Sample]) -> tuple[float, float, float, float]:
    ms = np.array([s.ms for s in samples])
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return float(p50), float(p95), float(p99), float(ms.max())


def report(results: list[Result], args: argparse.Namespace) -> int:
    header = ["backend: kind", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    header += ["failures", "1 client p50 ms", "server CPU ms/req"]
    rows: list[list[str]] = []
    for r in results:
        load = r.load
        for kind, label in (("search", "catalog search"), ("query", "granted query"), ("", "all")):
            chosen = [s for s in load.samples if s.kind == kind or not kind]
            if not chosen:
                rows.append([f"{r.backend}: {label}", "0", *["—"] * 5, "0", "—", "—"])
                continue
            alone = load.probe.get(kind, [])
            cpu = (
                load.probe_cpu[kind]
                if kind
                else load.server_cpu * 1000 / len(chosen)  # the whole run, queueing included
            )
            rows.append(
                [
                    f"{r.backend}: {label}",
                    f"{len(chosen):,}",
                    f"{len(chosen) / load.wall:,.1f}",
                    *(f"{v:,.0f}" for v in percentiles(chosen)),
                    f"{sum(failed(s) for s in chosen):,}",
                    f"{percentiles(alone)[0]:,.0f}" if alone else "—",
                    f"{cpu:,.1f}",
                ]
            )
        p50, p95, p99, top = percentiles(load.logins)
        rows.append(
            [
                f"{r.backend}: login burst ¹",
                f"{len(load.logins):,}",
                "—",
                f"{p50:,.0f}",
                f"{p95:,.0f}",
                f"{p99:,.0f}",
                f"{top:,.0f}",
                f"{sum(failed(s) for s in load.logins):,}",
                f"{percentiles(load.probe['login'])[0]:,.0f}",
                f"{load.probe_cpu['login']:,.1f}",
            ]
        )
    print()
    print(table(rows, header))
    print(
        f"\n1 client p50: one client alone, {PROBE} sequential requests per kind (logins: "
        f"{PROBE_LOGINS}) after the warm-up; server CPU ms/req: the server process's CPU in that "
        "probe per request (for 'all': its CPU over the timed run per request).\n"
        f"¹ the {args.clients} logins (Argon2id) all at once before the clock, failed attempts "
        "retried (up to 3 per client, each counted); not in 'all'."
    )

    header2 = ["backend", "wall s", "server CPU s", "of it event loop", "client CPU s"]
    header2 += ["PostgreSQL CPU s"]
    header2 += ["others' CPU s", "server peak RSS MB", "audit entries written", "verify s"]
    rows2 = []
    for r in results:
        load = r.load
        pg = load.postgres_cpu or 0.0
        others = (
            "n/a"
            if load.machine_cpu is None
            else f"{max(0.0, load.machine_cpu - load.server_cpu - load.client_cpu - pg):.1f}"
        )
        written = r.counts_after["audit"] - r.world.audit_entries
        rows2.append(
            [
                r.backend,
                f"{load.wall:.1f}",
                f"{load.server_cpu:.1f}",
                f"{load.loop_cpu:.1f}",
                f"{load.client_cpu:.1f}",
                "—" if load.postgres_cpu is None else f"{load.postgres_cpu:.1f}",
                others,
                f"{load.peak_rss_mb:,.0f}",
                f"{written:,}",
                f"{r.verify_seconds:.1f}",
            ]
        )
    print()
    print(table(rows2, header2))
    print(
        "\nCPU seconds over the timed run. Server: all its threads; event loop: its main "
        "thread (HTTP, responses), the rest is the worker threads that run the routes. "
        "PostgreSQL: every process named postgres on the machine; others': the rest of the "
        "machine. Audit entries written: from the end of the "
        "set-up to the end (logins, warm-up and probe included); verify s: `dizuo audit verify` "
        "over the whole chain."
    )

    names = list(dict.fromkeys(n for r in results for n in r.phases))
    header3 = ["step (in-process, one thread, mean of 30)"]
    header3 += [f"{r.backend} {u}" for r in results for u in ("wall ms", "CPU ms")]
    rows3 = []
    for name in names:
        row = [name]
        for r in results:
            wall, cpu = r.phases.get(name, (float("nan"), float("nan")))
            row += [f"{wall:.1f}", f"{cpu:.1f}"]
        rows3.append(row)
    print()
    print(table(rows3, header3))
    print(
        "\nAfter the load, with the server stopped: the service functions called directly "
        f"({PHASE_REPEAT} times each at random offsets, the login 5); CPU ms: of this whole "
        "process. The what-if row reads the same pages through one database kept open "
        "(deliver._connect once, a cursor per call).\n"
    )

    problems: list[str] = []
    for r in results:
        bad = [s for s in [*r.load.logins, *r.load.samples] if failed(s)]
        if bad:
            problems.append(f"{r.backend}: {len(bad):,} failed requests; the first ones:")
            problems += [f"    {s.kind} {s.status} at {s.start:.1f} s: {s.error}" for s in bad[:5]]
        if not r.verify.get("ok"):
            problems.append(f"{r.backend}: the audit log does not verify: {r.verify}")
        counts = r.counts_after
        expected = r.load.ok_queries
        if not (counts["calls_used"] == counts["usage"] == counts["audit_query"] == expected):
            problems.append(
                f"{r.backend}: metering disagrees with the {expected:,} successful queries: "
                f"calls_used {counts['calls_used']:,}, usage records {counts['usage']:,}, "
                f"audit entries data.query {counts['audit_query']:,}"
            )
        else:
            entries, points = r.verify.get("entries", 0), r.verify.get("checkpoints", 0)
            print(
                f"{r.backend} (server at {r.code}): {expected:,} successful granted "
                "queries (warm-up and probe included) = the grant's calls_used = usage "
                f"records = data.query audit entries; the audit chain verifies: {entries:,} "
                f"entries, {points} signed checkpoints; the timed queries returned "
                f"{r.load.rows_returned:,} rows; the server ran {r.load.threads} threads at "
                "the end"
            )
    if problems:
        print("\nFAIL")
        print("\n".join(problems))
        return 1
    print("\nPASS  no request failed; the audit chain verifies; the metering matches")
    return 0


def code_version() -> str:
    """The commit measured (read-only git calls), and whether ``src/`` differs from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "src")
    return f"commit {commit}" + (" + uncommitted changes in src/" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--backend", choices=["sqlite", "postgres", "both"], default="both", help="catalog (both)"
    )
    parser.add_argument("--seconds", type=float, help="timed run per backend (60; quick: 10)")
    parser.add_argument("--clients", type=int, help="concurrent clients (50; quick: 10)")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="students (100,000)")
    parser.add_argument(
        "--products", type=int, default=DEFAULT_PRODUCTS, help="data products (200)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=WORKERS,
        help="server threads (8, the default of dizuo serve)",
    )
    parser.add_argument("--quick", action="store_true", help="10 clients for 10 s (smoke run)")
    parser.add_argument("--keep", action="store_true", help="keep workspaces and schemas")
    parser.add_argument(
        "--idle-wait",
        type=float,
        default=30.0,
        metavar="S",
        help="before each run, wait up to S seconds for other processes to go quiet (30)",
    )
    args = parser.parse_args(argv)
    if args.seconds is None:
        args.seconds = 10.0 if args.quick else 60.0
    if args.clients is None:
        args.clients = 10 if args.quick else 50
    if args.clients < 2 or args.seconds <= 0 or args.rows < 1000 or args.products < 1:
        parser.error("--clients ≥ 2, --seconds > 0, --rows ≥ 1000 and --products ≥ 1")
    if not DIZUO.exists():
        raise SystemExit(f"{DIZUO} is missing: install the project into .venv first")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]

    import httpx2
    import uvicorn

    extra = [f"uvicorn {uvicorn.__version__}", f"httpx2 {httpx2.__version__}"]
    run_id = f"run-{date.today():%Y%m%d}-{uuid.uuid4().hex[:8]}"
    schemas: list[str] = []
    results: list[Result] = []
    try:
        for backend in backends:
            folder = DATA / f"{run_id}-{backend}"
            folder.mkdir(parents=True)
            if backend == "postgres":
                schema = folder.name.replace("-", "_")
                extra.append(f"PostgreSQL {pg_schema(True, schema)}")
                schemas.append(schema)
            results.append(run_backend(backend, args, folder))
    finally:
        if not args.keep:
            for schema in schemas:
                with contextlib.suppress(Exception):
                    pg_schema(False, schema)
            for backend in backends:
                shutil.rmtree(DATA / f"{run_id}-{backend}", ignore_errors=True)
            with contextlib.suppress(OSError):
                DATA.rmdir()
                DATA.parent.rmdir()
        else:
            print(
                f"kept: {DATA}/{run_id}-*" + (f"; schemas {', '.join(schemas)}" if schemas else "")
            )
    print()
    print(machine(*extra))
    print(
        f"{args.clients} clients ({args.clients // 2} catalog search, "
        f"{args.clients - args.clients // 2} granted query), {args.seconds:g} s per backend, "
        f"{args.rows:,} rows, {args.products} products, server --workers {args.workers}; "
        f"{date.today():%Y-%m-%d}"
    )
    return report(results, args)


if __name__ == "__main__":
    sys.exit(main())
