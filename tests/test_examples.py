"""The commands in examples/README.md work as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def commands() -> list[list[str]]:
    text = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block is not None
    out = []
    for line in block.group(1).splitlines():
        for part in line.split("&&"):
            args = shlex.split(part.strip())
            if args and args[0] == "dizuo":
                out.append(args[1:])
    return out


def test_example_commands(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)
    home = tmp_path / "example-home"
    results = []
    for args in commands():
        if args[0] == "init":
            args = ["init", str(home)]
        r = cli(home if args[0] != "init" else None, *args)
        assert r.code == 0, (args, r.err)
        results.append((args, r.out))
    listing = next(out for args, out in results if args[:2] == ["datasets", "list"])
    assert "学校名录" in listing and "医疗机构名录" in listing
    counts = next(out for args, out in results if args[0] == "sql")
    assert "青羊区" in counts
