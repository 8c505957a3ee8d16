"""Entry point: pick the language, build the app, turn user errors into one red line."""

from __future__ import annotations

import sys


def _lang_from_argv(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str] | None = None) -> None:
    from dizuo.i18n import set_lang

    args = list(sys.argv[1:] if argv is None else argv)
    lang = _lang_from_argv(args)
    if lang:
        set_lang(lang)
    from dizuo.cli.app import run

    sys.exit(run(args))


if __name__ == "__main__":
    main()
