"""Text encodings: detect UTF-8 / UTF-8 with BOM / UTF-16 / GBK / GB18030, and transcode.

DuckDB reads UTF-8 natively; its other encodings are an extension downloaded at run time,
which dizuo cannot rely on. So a GBK or GB18030 file is transcoded to UTF-8 in large chunks
(the codec runs in C; no per-row Python) into the staging folder first.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from dizuo.errors import InvalidInput, Location
from dizuo.i18n import tr

SAMPLE_BYTES = 1 << 20
CHUNK_BYTES = 8 << 20

# How people spell encodings → Python codec names.
ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf8-bom": "utf-8-sig",
    "utf-8-bom": "utf-8-sig",
    "gbk": "gbk",
    "cp936": "gbk",
    "gb2312": "gbk",  # GBK is a superset of GB2312
    "gb18030": "gb18030",
    "utf-16": "utf-16",
    "utf16": "utf-16",
}


@dataclass(frozen=True)
class Detected:
    encoding: str  # a Python codec name
    sample: str  # the decoded sample (without BOM)
    ascii_only: bool  # the sample had only ASCII bytes: the rest of the file may still differ
    complete: bool  # the sample is the whole file


def normalise_encoding(name: str) -> str:
    key = name.strip().lower().replace("_", "-")
    if key not in ALIASES:
        raise InvalidInput(
            tr(
                "不支持的编码 {n}（可用: utf-8, utf-8-sig, gbk, gb18030, utf-16）",
                "unsupported encoding {n} (use utf-8, utf-8-sig, gbk, gb18030 or utf-16)",
                n=name,
            )
        )
    return ALIASES[key]


def _decode_prefix(raw: bytes, encoding: str, final: bool) -> str | None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        return decoder.decode(raw, final=final)
    except UnicodeDecodeError:
        return None


def detect(path: Path, encoding: str | None = None) -> Detected:
    """Decide the encoding from the first megabyte (or use the one given)."""
    with path.open("rb") as fh:
        raw = fh.read(SAMPLE_BYTES + 1)
    complete = len(raw) <= SAMPLE_BYTES
    raw = raw[:SAMPLE_BYTES]
    ascii_only = raw.isascii()
    if encoding:
        try:
            enc = normalise_encoding(encoding)
        except InvalidInput as exc:
            exc.where = Location(file=str(path))
            raise
        if enc == "utf-8" and raw.startswith(codecs.BOM_UTF8):
            enc = "utf-8-sig"
        text = _decode_prefix(raw, enc, complete)
        if text is None:
            _raise_decode_error(path, enc, raw)
        return Detected(enc, text.lstrip("\ufeff"), ascii_only, complete)
    if raw.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gbk", "gb18030"]
    for enc in candidates:
        text = _decode_prefix(raw, enc, complete)
        if text is not None:
            return Detected(enc, text.lstrip("\ufeff"), ascii_only, complete)
        if enc == "utf-8":
            _refuse_mixed_utf8(path, raw)
    _raise_decode_error(path, candidates[-1], raw, label="UTF-8 / GBK / GB18030")


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _refuse_mixed_utf8(path: Path, raw: bytes) -> None:
    """UTF-8 text with a stretch of other bytes is mixed, not GBK.

    Chinese in UTF-8 often happens to decode as GBK too (as mojibake), so falling back to GBK
    would silently garble the file. Real GBK text fails UTF-8 within its first few Chinese
    characters (a GBK pair is sometimes a valid two-byte UTF-8 sequence, rarely a run of
    three-byte CJK ones); if whole lines with Chinese characters decoded as UTF-8 before the
    first bad byte, the file mixes encodings and the bad line is reported.
    """
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        last_newline = raw.rfind(b"\n", 0, exc.start)
        complete_lines = raw[: last_newline + 1].decode("utf-8", errors="ignore")
        if len(_CJK.findall(complete_lines)) >= 4:
            raise InvalidInput(
                tr(
                    "该行不是有效的 UTF-8 文本（文件前面是 UTF-8）",
                    "this line is not valid UTF-8 text (the lines before it are UTF-8)",
                ),
                where=Location(file=str(path), line=raw.count(b"\n", 0, exc.start) + 1),
                hint=tr(
                    "文件可能混用了多种编码；请修正文件或用 --encoding 指定",
                    "the file may mix encodings; fix it or pass --encoding",
                ),
            ) from None


def _raise_decode_error(
    path: Path, encoding: str, raw: bytes, label: str | None = None
) -> NoReturn:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InvalidInput(
            tr(
                "无法按 {enc} 解码（字节偏移 {off}）",
                "bytes cannot be decoded as {enc} (byte offset {off})",
                enc=label or encoding,
                off=exc.start,
            ),
            where=Location(file=str(path), line=line),
            hint=tr(
                "文件可能混用了多种编码；请修正文件或用 --encoding 指定",
                "the file may mix encodings; fix it or pass --encoding",
            ),
        ) from None
    raise InvalidInput(tr("无法识别文件编码", "cannot detect the file's encoding"))


def transcode_to_utf8(source: Path, target: Path, encoding: str) -> None:
    """Stream ``source`` from ``encoding`` to UTF-8 at ``target``; bad bytes name their line."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    newlines = 0
    offset = 0
    with source.open("rb") as src, target.open("wb") as dst:
        while True:
            chunk = src.read(CHUNK_BYTES)
            final = not chunk
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                line = newlines + chunk.count(b"\n", 0, max(exc.start, 0)) + 1
                raise InvalidInput(
                    tr(
                        "无法按 {enc} 解码（字节偏移 {off}）",
                        "bytes cannot be decoded as {enc} (byte offset {off})",
                        enc=encoding,
                        off=offset + max(exc.start, 0),
                    ),
                    where=Location(file=str(source), line=line),
                    hint=tr(
                        "文件可能混用了多种编码；请修正文件或用 --encoding 指定",
                        "the file may mix encodings; fix it or pass --encoding",
                    ),
                ) from None
            if text:
                dst.write(text.lstrip("\ufeff").encode("utf-8") if offset == 0 else text.encode())
            if final:
                break
            newlines += chunk.count(b"\n")
            offset += len(chunk)
