"""Small helpers shared by tests."""

from __future__ import annotations

from pathlib import Path

from dizuo.catalog import service
from dizuo.ingest import IngestResult, IngestSpec, ingest
from dizuo.workspace import Workspace


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def add_org(ws: Workspace, code: str = "edu", name: str = "市教育局") -> None:
    with ws.session() as s:
        if code not in {o.code for o in service.list_orgs(s)}:
            service.add_org(s, code, name)


def load(ws: Workspace, path: Path | str, dataset: str, **options: object) -> IngestResult:
    options.setdefault("org", "edu")
    add_org(ws, str(options["org"]))
    return ingest(ws, IngestSpec(source=str(path), dataset=dataset, **options))  # type: ignore[arg-type]


def version_count(ws: Workspace, dataset: str) -> int:
    with ws.session() as s:
        found = service.find_dataset(s, dataset)
        return 0 if found is None else len(service.list_versions(s, found))
