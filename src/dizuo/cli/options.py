"""Options and arguments several commands share (their help text is translated once)."""

from __future__ import annotations

from typing import Annotated

import typer

from dizuo.i18n import tr

JsonOpt = Annotated[bool, typer.Option("--json", help=tr("输出 JSON", "print JSON"))]
#: a catalogued dataset (code or code@N) or a file the ingester reads
TargetArg = Annotated[
    str,
    typer.Argument(
        help=tr(
            "数据集代码（code 或 code@N），或任意可导入的文件",
            "a dataset code (code or code@N), or any file the ingester reads",
        )
    ),
]
EncodingOpt = Annotated[str | None, typer.Option("--encoding")]
DelimiterOpt = Annotated[str | None, typer.Option("--delimiter")]
SheetOpt = Annotated[str | None, typer.Option("--sheet")]
