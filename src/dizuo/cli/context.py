"""Shared state of one CLI invocation: which workspace, and closing it afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dizuo.workspace import Workspace


@dataclass
class State:
    home: Path | None = None
    opened: list[Workspace] = field(default_factory=list)

    def workspace(self) -> Workspace:
        from dizuo.workspace import Workspace

        if not self.opened:
            self.opened.append(Workspace.open(self.home))
        return self.opened[0]

    def close(self) -> None:
        for ws in self.opened:
            ws.close()
        self.opened.clear()


state = State()
