"""File writers with byte-for-byte deterministic output.

- CSV/TSV: Arrow's CSV writer, in batches, transcoded to GBK/GB18030 where asked.
- Excel .xlsx: a small writer of our own (inline strings, no shared-string table, fixed
  zip timestamps and document properties), with the sheet XML assembled by Arrow kernels.
- JSON and NDJSON: DuckDB's ``COPY … (FORMAT JSON)`` on one thread (order preserved).
- Parquet: pyarrow, zstd, no timestamps in the file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from dizuo.demo import strings

CSV_BATCH_ROWS = 200_000
EXCEL_MAX_ROWS = 200_000  # larger tables are handed over as CSV instead
FIXED_ZIP_TIME = (2024, 12, 31, 0, 0, 0)
DOC_TIME = "2024-12-31T00:00:00Z"


class CsvWriter:
    """Delimited text written table by table (the header once), in ``encoding``."""

    def __init__(
        self, path: Path, *, encoding: str = "utf-8", delimiter: str = ",", eol: str = "\n"
    ) -> None:
        self.encoding = encoding
        self.delimiter = delimiter
        self.eol = eol
        self.rows = 0
        self._out = path.open("wb")
        self._header = True
        if encoding == "utf-8-sig":
            self._out.write(b"\xef\xbb\xbf")

    def write(self, table: pa.Table) -> None:
        """Append ``table`` (same columns every time)."""
        for start in range(0, max(table.num_rows, 1), CSV_BATCH_ROWS):
            options = pcsv.WriteOptions(
                include_header=self._header,
                delimiter=self.delimiter,
                eol=self.eol,
                quoting_header="none",
            )
            self._header = False
            sink = pa.BufferOutputStream()
            pcsv.write_csv(table.slice(start, CSV_BATCH_ROWS), sink, options)
            data = sink.getvalue().to_pybytes()
            if self.encoding not in ("utf-8", "utf-8-sig"):
                data = data.decode("utf-8").encode(self.encoding)
            self._out.write(data)
        self.rows += table.num_rows

    def close(self) -> None:
        """Close the file."""
        self._out.close()

    def __enter__(self) -> CsvWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_csv(
    table: pa.Table,
    path: Path,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    eol: str = "\n",
) -> None:
    """Write ``table`` as delimited text in ``encoding`` ("utf-8", "utf-8-sig", "gbk", …)."""
    with CsvWriter(path, encoding=encoding, delimiter=delimiter, eol=eol) as out:
        out.write(table)


def write_json(table: pa.Table, path: Path, *, lines: bool) -> None:
    """Write ``table`` as a JSON array (``lines=False``) or as NDJSON (``lines=True``)."""
    con = duckdb.connect()
    try:
        con.execute("SET threads = 1")
        con.execute("SET enable_progress_bar = false")
        con.register("t", table)
        target = str(path).replace("'", "''")
        array = "false" if lines else "true"
        con.execute(f"COPY (SELECT * FROM t) TO '{target}' (FORMAT JSON, ARRAY {array})")
    finally:
        con.close()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _cells(array: pa.Array, letter: str, row_numbers: pa.Array) -> pa.Array:
    """The XML of one column's cells (empty string for nulls)."""
    ref = strings.join([letter, row_numbers])
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
        cell = strings.join(['<c r="', ref, '"><v>', pc.cast(array, pa.string()), "</v></c>"])
    else:
        text = strings.xml_escape(pc.cast(array, pa.string()))
        cell = strings.join(
            ['<c r="', ref, '" t="inlineStr"><is><t xml:space="preserve">', text, "</t></is></c>"]
        )
    return pc.fill_null(cell, "")


def sheet_xml(table: pa.Table) -> bytes:
    """The worksheet XML of ``table`` (header row + data rows)."""
    n = table.num_rows
    letters = [_column_letter(i) for i in range(table.num_columns)]
    numbers = strings.num(np.arange(2, n + 2))
    cells = [
        _cells(table.column(i).combine_chunks(), letters[i], numbers)
        for i in range(table.num_columns)
    ]
    rows = strings.join(['<row r="', numbers, '">', *cells, "</row>"])
    head_cells = "".join(
        f'<c r="{letters[i]}1" t="inlineStr"><is><t>{_escape(name)}</t></is></c>'
        for i, name in enumerate(table.column_names)
    )
    last = f"{letters[-1]}{n + 1}"
    start = (
        f'{_XML}<worksheet xmlns="{_MAIN}">'
        f'<dimension ref="A1:{last}"/><sheetData><row r="1">{head_cells}</row>'
    )
    body = strings.concat_bytes(rows) if n else b""
    return start.encode() + body + b"</sheetData></worksheet>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_OOXML = "http://schemas.openxmlformats.org"
_MAIN = f"{_OOXML}/spreadsheetml/2006/main"
_PKG_REL = f"{_OOXML}/package/2006/relationships"
_DOC_REL = f"{_OOXML}/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-"
_SHEET_CT = f"{_CT}officedocument.spreadsheetml"


def _override(part: str, content_type: str) -> str:
    return f'<Override PartName="{part}" ContentType="{content_type}"/>'


def _relationship(rid: str, kind: str, target: str) -> str:
    return f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"/>'


_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_OOXML}/package/2006/content-types">'
    f'<Default Extension="rels" ContentType="{_CT}package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    + _override("/xl/workbook.xml", f"{_SHEET_CT}.sheet.main+xml")
    + _override("/xl/worksheets/sheet1.xml", f"{_SHEET_CT}.worksheet+xml")
    + _override("/xl/styles.xml", f"{_SHEET_CT}.styles+xml")
    + _override("/docProps/core.xml", f"{_CT}package.core-properties+xml")
    + _override("/docProps/app.xml", f"{_CT}officedocument.extended-properties+xml")
    + "</Types>"
)
_ROOT_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG_REL}">'
    + _relationship("rId1", f"{_DOC_REL}/officeDocument", "xl/workbook.xml")
    + _relationship("rId2", f"{_PKG_REL}/metadata/core-properties", "docProps/core.xml")
    + _relationship("rId3", f"{_DOC_REL}/extended-properties", "docProps/app.xml")
    + "</Relationships>"
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG_REL}">'
    + _relationship("rId1", f"{_DOC_REL}/worksheet", "worksheets/sheet1.xml")
    + _relationship("rId2", f"{_DOC_REL}/styles", "styles.xml")
    + "</Relationships>"
)
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _workbook(sheet: str) -> str:
    return (
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_REL}">'
        f'<sheets><sheet name="{_escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _core(title: str, creator: str) -> str:
    return (
        f'{_XML}<cp:coreProperties xmlns:cp="{_OOXML}/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{_escape(title)}</dc:title><dc:creator>{_escape(creator)}</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{DOC_TIME}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{DOC_TIME}</dcterms:modified>'
        "</cp:coreProperties>"
    )


_APP = (
    f'{_XML}<Properties xmlns="{_OOXML}/officeDocument/2006/extended-properties">'
    "<Application>dizuo</Application></Properties>"
)


def write_xlsx(table: pa.Table, path: Path, *, sheet: str, title: str, creator: str) -> None:
    """Write ``table`` as a one-sheet .xlsx workbook with fixed timestamps."""
    parts = [
        ("[Content_Types].xml", _CONTENT_TYPES.encode()),
        ("_rels/.rels", _ROOT_RELS.encode()),
        ("docProps/app.xml", _APP.encode()),
        ("docProps/core.xml", _core(title, creator).encode()),
        ("xl/workbook.xml", _workbook(sheet).encode()),
        ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.encode()),
        ("xl/styles.xml", _STYLES.encode()),
        ("xl/worksheets/sheet1.xml", sheet_xml(table)),
    ]
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            zf.writestr(info, data, compresslevel=6)
