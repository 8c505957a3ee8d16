"""Lake file helpers that need no Iceberg: table names, staging folders, local paths."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path
from urllib.parse import unquote, urlparse

_SAFE = re.compile(r"[^a-z0-9_]")


def table_name(code: str) -> str:
    """An Iceberg-safe table name for a dataset code (stable, collision-free)."""
    safe = _SAFE.sub("_", code.lower())
    if safe != code:
        safe = f"{safe}_{hashlib.sha1(code.encode()).hexdigest()[:8]}"
    return safe


def uri_to_path(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return unquote(parsed.path)
    return uri


def staging_dir(tmp: Path) -> Path:
    """A fresh staging folder under ``tmp``, marked with the owning process id."""
    path = tmp / f"stage-{uuid.uuid4().hex}"
    path.mkdir(parents=True)
    (path / "owner.pid").write_text(str(os.getpid()))
    return path


def owner_alive(stage: Path) -> bool:
    try:
        pid = int((stage / "owner.pid").read_text())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
