"""Reading an operator's YAML or JSON file into a pydantic model, with one clear error.

Policies, recipes and other files operators write share the same failure modes — a missing
file, a syntax error, a wrong field — and each must end as one line that names the file, the
line where the parser knows it, and the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from dizuo.errors import InvalidInput, Location, NotFound
from dizuo.i18n import tr

M = TypeVar("M", bound=BaseModel)


def error_text(error: Any, skip: tuple[str, ...] = ()) -> str:
    """One pydantic error as ``where: what`` (``fields.姓名.transform: …``)."""
    loc = [str(p) for p in error["loc"] if str(p) not in skip]
    where = ".".join(loc) or tr("（顶层）", "(top level)")
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}"


def read_mapping(path: Path, what: tuple[str, str]) -> dict[str, Any]:
    """The top-level mapping of a YAML (or JSON, a subset of YAML) file.

    Args:
        path: The file.
        what: What the file is, in Chinese and English ("配方文件", "recipe file").

    Raises:
        NotFound: The file does not exist.
        InvalidInput: Not valid YAML / JSON, or not a mapping at the top level.
    """
    if not path.is_file():
        raise NotFound(
            tr("{w}不存在", "{w} not found", w=_pick(what)), where=Location(file=str(path))
        )
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            tr(
                "{w}不是有效的 JSON：{p}",
                "the {w} is not valid JSON: {p}",
                w=_pick(what),
                p=exc.msg,
            ),
            where=Location(file=str(path), line=exc.lineno),
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(
            tr(
                "{w}不是有效的 YAML：{p}",
                "the {w} is not valid YAML: {p}",
                w=_pick(what),
                p=problem,
            ),
            where=Location(file=str(path), line=line),
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInput(
            tr("{w}的顶层应是映射", "the {w} must be a mapping at the top level", w=_pick(what)),
            where=Location(file=str(path)),
        )
    return data


def validate(
    model: type[M],
    data: dict[str, Any],
    *,
    name: str,
    what: tuple[str, str],
    hint: str | None = None,
    describe: Callable[[Any], str] = error_text,
) -> M:
    """``model.model_validate(data)``, turning a ValidationError into one InvalidInput that
    lists the first three problems."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        details = "; ".join(describe(e) for e in errors[:3])
        if len(errors) > 3:
            details += tr("（另有 {n} 处错误）", " (and {n} more)", n=len(errors) - 3)
        raise InvalidInput(
            tr("{w}有误：{d}", "invalid {w}: {d}", w=_pick(what), d=details),
            where=Location(file=name),
            hint=hint,
        ) from exc


def _zh() -> bool:
    from dizuo.i18n import current_lang

    return current_lang() == "zh"


def _pick(what: tuple[str, str]) -> str:
    return what[0] if _zh() else what[1]
