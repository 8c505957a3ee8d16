"""Docs that cannot rot: the CLI reference is generated, settings are documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dizuo.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current() -> None:
    rendered = subprocess.run(
        [sys.executable, "-m", "dizuo.cli.docs"], capture_output=True, text=True, check=True
    ).stdout
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert rendered == current, "docs/cli.md is out of date: run `make docs`"


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"DIZUO_{name.upper()}" in text, name


def test_readme_gives_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text
