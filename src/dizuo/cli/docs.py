"""Render the CLI reference (docs/cli.md) from the commands' own --help texts.

``make docs`` rewrites the file; a test fails when it is out of date, so the reference cannot
drift from the code.
"""

from __future__ import annotations

from typing import Any

import typer

HEADER = """# CLI reference

Generated from `dizuo --help` by `make docs` — do not edit by hand. The CLI speaks Chinese by
default; this reference is the English help (`--lang en`).
"""


def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    out = [(path, command)]
    for name in sorted(getattr(command, "commands", {})):
        out.extend(_walk(command.commands[name], [*path, name]))
    return out


def render() -> str:
    """The reference, in English."""
    from dizuo.i18n import set_lang

    set_lang("en")
    import importlib

    import dizuo.cli.app
    import dizuo.cli.catalog_cmds
    import dizuo.cli.lake_cmds

    for module in (dizuo.cli.catalog_cmds, dizuo.cli.lake_cmds, dizuo.cli.app):
        importlib.reload(module)
    root = typer.main.get_command(dizuo.cli.app.app)
    parts = [HEADER]
    for path, command in _walk(root, ["dizuo"]):
        if command.hidden:
            continue
        ctx = command.context_class(command, info_name=" ".join(path), terminal_width=100)
        parts.append(f"## `{' '.join(path)}`\n\n```text\n{command.get_help(ctx).rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    import sys

    sys.stdout.write(render())
