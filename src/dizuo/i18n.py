"""Chinese by default, English on request.

dizuo speaks Chinese unless ``DIZUO_LANG`` starts with ``en`` (or the CLI's ``--lang en``
sets it). Messages are written next to the code that says them, in both languages::

    tr("已创建工作区 {path}", "Created workspace {path}", path=home)
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any, Literal

Lang = Literal["zh", "en"]

_override: Lang | None = None
# the language of one API request (Accept-Language), set by the API for that request only
request_lang: ContextVar[Lang | None] = ContextVar("request_lang", default=None)


def set_lang(lang: str | None) -> None:
    """Force the language for this process (the CLI's ``--lang``)."""
    global _override
    _override = None if lang is None else ("en" if lang.lower().startswith("en") else "zh")


def current_lang() -> Lang:
    asked = request_lang.get()
    if asked is not None:
        return asked
    if _override is not None:
        return _override
    return "en" if os.environ.get("DIZUO_LANG", "zh").lower().startswith("en") else "zh"


def tr(zh: str, en: str, /, **values: Any) -> str:
    """Return the message in the current language, formatted with ``values``."""
    text = en if current_lang() == "en" else zh
    return text.format(**values) if values else text
