"""Reading a delimited text file that a user exported from Excel, an MIS or an online form.

One reader for every such file (class lists, returned consent forms), so each is read the same way:

- **regular files only**: a folder, a named pipe or a device is refused with a plain message before
  anything is read (opening a pipe for reading would wait for ever); an Excel workbook, an empty file and
  a binary file are refused too;
- **the encoding** from a byte-order mark (UTF-8, UTF-16), else UTF-16 without one (Excel's "Unicode Text"
  written by other programs: every other byte of the heading is zero), else UTF-8 when every byte decodes,
  else Windows-1252 (what Excel writes for "CSV (Comma delimited)"); or the one the user names;
- **the delimiter** sniffed from the heading line (comma, semicolon, tab or vertical bar);
- **rows with the line numbers an editor shows**: a row's first and last line, which differ when a quoted
  cell holds line breaks;
- **characters the text gate refuses** (NUL, escape and other control characters, invisible
  direction-changing characters) anywhere in the file: the reader notes that it has met one (`suspect`), so
  a caller checks rows closely only then, and `text_problems` says which cell, line and character.

The file is streamed in large blocks, so a million-row file never sits in memory; the check for refused
characters runs over each block at once, which costs almost nothing for the clean files nearly every
school has. Pure: nothing here touches the database.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import stat
from collections.abc import Callable, Container, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from cloudctl.errors import InvalidInput
from cloudctl.vocab.text import gate_text

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
# How many rows from the top may be a report's title lines before the heading row.
HEADING_SEARCH_ROWS = 10
_CHUNK = 1 << 20
_SAMPLE = 4096

# The characters `cloudctl.vocab.text` refuses in every field (control characters other than the tab and
# the line ends, Unicode line and paragraph separators, surrogates, direction-changing characters), and
# those it refuses in one-line fields (the same, and line ends). A test holds these to the gate itself.
_REFUSED = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
)
REFUSED_ANYWHERE = re.compile(f"[{_REFUSED}]")
REFUSED_IN_ONE_LINE = re.compile(f"[{_REFUSED}\r\n]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MEND = "Mend it where the file came from (the MIS, the form) and export the file again."
_ASCII_CONTROLS = bytes((*range(0, 9), 11, 12, *range(14, 32), 127))


def normalise_heading(text: str) -> str:
    """ "Date of Birth (dd/mm/yyyy)", "date_of_birth" and "DATE OF BIRTH" all become "dateofbirth"."""
    text = re.sub(r"\([^)]*\)", "", text)
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def describe_encoding(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return {
        "utf-8": "UTF-8",
        "utf-8-sig": "UTF-8 (with a byte-order mark)",
        "utf-16": "UTF-16",
        "utf-16-le": "UTF-16 (little-endian, no byte-order mark)",
        "utf-16-be": "UTF-16 (big-endian, no byte-order mark)",
        "cp1252": "Windows-1252",
    }.get(name, encoding)


def describe_delimiter(delimiter: str) -> str:
    return DELIMITER_NAMES.get(delimiter, repr(delimiter))


def sniff_delimiter(line: str) -> str:
    """The delimiter used most often in the heading line (outside quotes); a comma when there is none."""
    outside = re.sub(r'"[^"]*"', "", line)
    counts = {delimiter: outside.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _utf16_without_bom(start: bytes) -> str | None:
    """utf-16-le or utf-16-be when the sample is plainly UTF-16 text without a byte-order mark: a heading
    is mostly ASCII, so every other byte is zero (the odd ones little-endian, the even ones big-endian)."""
    pairs = len(start) // 2
    if pairs < 2:
        return None
    evens, odds = start[0 : 2 * pairs : 2], start[1 : 2 * pairs : 2]
    for encoding, zeros, others in (("utf-16-le", odds, evens), ("utf-16-be", evens, odds)):
        if zeros.count(0) >= pairs * 0.6 and others.count(0) <= pairs * 0.05:
            try:
                codecs.getincrementaldecoder(encoding)().decode(start[: 2 * pairs])
            except UnicodeDecodeError:
                return None
            return encoding
    return None


def detect_encoding(path: Path) -> str:
    """utf-8-sig or utf-16 from a byte-order mark; utf-16-le/-be from the pattern of zero bytes; utf-8
    when every byte decodes as UTF-8; else cp1252."""
    with path.open("rb") as handle:
        return _detect_encoding(handle)


def _detect_encoding(handle: BinaryIO) -> str:
    start = handle.read(_SAMPLE)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    wide = _utf16_without_bom(start)
    if wide is not None:
        return wide
    handle.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := handle.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def check_encoding(encoding: str) -> str:
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise InvalidInput(
            f'"{encoding}" is not an encoding cloudctl knows. Use utf-8, utf-8-sig, cp1252 (Windows), '
            "latin-1 or utf-16, or leave out --encoding to let cloudctl detect it."
        ) from None
    if not getattr(codec, "_is_text_encoding", True):  # base64, zlib, hex: bytes to bytes, not text
        raise InvalidInput(
            f"'{encoding}' is not a text encoding cloudctl can read: use utf-8, utf-8-sig, cp1252 or utf-16, "
            "or leave out --encoding to let cloudctl detect it."
        )
    return encoding


def looks_like_workbook(start: bytes) -> bool:
    # .xlsx is a zip file; .xls an OLE2 compound file.
    return start.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0"))


def _looks_binary(start: bytes) -> bool:
    """Many control bytes in a sample that is not UTF-16: an image, a database, a program. A stray NUL
    or two in a text file is not this: those are found and named with their line and column."""
    controls = sum(start.count(byte) for byte in (*range(0, 9), *range(14, 32), 127))
    return controls > max(8, len(start) // 20)


def _kind_of(mode: int) -> str | None:
    """What a path that is not a regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _screen_for(encoding: str) -> Callable[[bytes], bool]:
    """A cheap test of the file's blocks, in order: False when a block certainly holds no refused character.

    Regular expressions over every character of a large file cost more than reading it, so for the
    encodings schools use the bytes are screened instead (bytes.translate runs at memory speed): in UTF-8
    every refused character is an ASCII control byte or starts with 0xC2, 0xD8 or 0xE2; in Windows-1252
    only ASCII control bytes decode to refused characters; in Latin-1 also 0x80 to 0x9F. A block that
    passes the screen is clean; one that does not (curly quotes start with 0xE2 too) is decoded and
    searched, with the end of the block before it, for a character split between the two. Other encodings
    (UTF-16) are always decoded and searched, by one decoder that carries a split character over."""
    name = codecs.lookup(encoding).name
    if name in ("utf-8", "utf-8-sig"):
        flagged = _ASCII_CONTROLS + b"\xc2\xd8\xe2"
    elif name == "cp1252":
        flagged = _ASCII_CONTROLS
    elif name == "iso8859-1":
        flagged = _ASCII_CONTROLS + bytes(range(0x80, 0xA0))
    else:
        flagged = None
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    if flagged is None:
        return lambda block: REFUSED_ANYWHERE.search(decoder.decode(block)) is not None
    others = bytes(byte for byte in range(256) if byte not in flagged)
    tail = b""  # the end of the block before: a character may start there (3 bytes at most in UTF-8)

    def screen(block: bytes) -> bool:
        nonlocal tail
        joined, tail = tail + block, block[-3:]
        if not joined.translate(None, others):
            return False
        # The joined bytes may start or end inside a character: "replace" marks it, never a refused one.
        return REFUSED_ANYWHERE.search(joined.decode(encoding, errors="replace")) is not None

    return screen


class _ScreenedReader(io.BufferedReader):
    """The file's bytes, screened block by block as they are read for `refused_seen`."""

    screen: Callable[[bytes], bool] | None = None
    refused_seen = False

    def read1(self, size: int = -1) -> bytes:
        block = super().read1(size)
        if self.screen is not None and not self.refused_seen and block and self.screen(block):
            self.refused_seen = True
        return block

    def read(self, size: int | None = -1) -> bytes:
        block = super().read(size)
        if self.screen is not None and not self.refused_seen and block and self.screen(block):
            self.refused_seen = True
        return block


def open_regular_file(path: Path, what: str) -> _ScreenedReader:
    """The file opened for reading in binary, or a plain message: only a regular file is read.

    The path is looked at before it is opened (a device is never opened), then opened without waiting
    (a pipe would otherwise wait for a writer) and looked at again, in case it changed in between."""
    try:
        kind = _kind_of(path.stat().st_mode)
        if kind is None:
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            try:
                kind = _kind_of(os.fstat(descriptor).st_mode)
            except BaseException:
                os.close(descriptor)
                raise
            if kind is None:
                return _ScreenedReader(io.FileIO(descriptor, "r"), buffer_size=_CHUNK)
            os.close(descriptor)
    except (FileNotFoundError, NotADirectoryError):
        raise InvalidInput(f"There is no file {path}. Check the name and the folder.") from None
    except PermissionError:
        raise InvalidInput(f"cloudctl may not read {path}: check the file's permissions.") from None
    except OSError as error:
        raise InvalidInput(
            f"{path} cannot be read ({error.strerror}). Check the name and the folder."
        ) from None
    if kind == "a folder":
        raise InvalidInput(f"{path} is a folder: give the {what} file itself.")
    raise InvalidInput(f"{path} is {kind}, not a file: save the {what} as a file and give that file's name.")


def text_problem(cell: str, field: str, *, one_line: bool, hint: str = "") -> tuple[int, str] | None:
    """Where in the cell the text gate refuses a character, and the gate's message; None for clean text.

    `one_line` cells may not hold line breaks either (a name, a class); other cells may (a note)."""
    found = (REFUSED_IN_ONE_LINE if one_line else REFUSED_ANYWHERE).search(cell)
    if found is None:
        return None
    try:
        gate_text(cell, field, limit=len(cell) + 1, multiline=not one_line, hint=hint)
    except InvalidInput as error:
        return found.start(), error.message
    return None  # pragma: no cover (the patterns and the gate agree; a test holds them to it)


def locate_in_row(cells: list[str], index: int, offset: int, first_line: int) -> int:
    """The line a character of a row is on: the row's first line, plus the line breaks before it."""
    before = sum(len(_LINE_BREAK.findall(cell)) for cell in cells[:index])
    return first_line + before + len(_LINE_BREAK.findall(cells[index][:offset]))


class DelimitedFile:
    """An open delimited file: its encoding, delimiter and size, and its rows with their line numbers.

    `what` names the file in messages ("class list"); `advice` says how to get a good one ("Export the class
    list from the MIS again and save it as CSV."). `heading` (a pattern) picks, among the first lines, the
    one to sniff the delimiter from: the heading row, below any title lines.
    """

    def __init__(
        self,
        path: Path,
        *,
        what: str,
        advice: str,
        encoding: str | None = None,
        heading: re.Pattern[str] | None = None,
    ) -> None:
        self.path = path
        self.what = what
        self.advice = advice
        self.lines_done = 0  # the physical lines read up to the last whole row
        self._binary = open_regular_file(path, what)
        # For tight loops: `screened.refused_seen` is `suspect` without a property call.
        self.screened = self._binary
        try:
            self.size = os.fstat(self._binary.fileno()).st_size
            self.encoding = self._choose_encoding(encoding)
            self.delimiter = sniff_delimiter(self._heading_line(heading))
            self._binary.seek(0)
            self._binary.screen = _screen_for(self.encoding)
            self._text = io.TextIOWrapper(self._binary, encoding=self.encoding, newline="")
            self.reader = csv.reader(self._text, delimiter=self.delimiter)
        except BaseException:
            self.close()
            raise

    # -- opening -------------------------------------------------------------------------------------

    def _choose_encoding(self, encoding: str | None) -> str:
        start = self._binary.read(_SAMPLE)
        name = self.path.name
        if not start:
            raise InvalidInput(f"{name} is empty. {self.advice}")
        if looks_like_workbook(start):
            raise InvalidInput(
                f"{name} is an Excel workbook, not a CSV file. Open it in Excel and use "
                'File > Save As > "CSV UTF-8 (Comma delimited)", then import the .csv file.'
            )
        self._binary.seek(0)
        chosen = check_encoding(encoding) if encoding is not None else _detect_encoding(self._binary)
        wide = codecs.lookup(chosen).name.startswith("utf-16")
        if not wide and _looks_binary(start):
            raise InvalidInput(
                f"{name} is not a text file cloudctl can read. Save the {self.what} from Excel as "
                '"CSV UTF-8 (Comma delimited)" and import that.'
            )
        return chosen

    def _heading_line(self, heading: re.Pattern[str] | None) -> str:
        self._binary.seek(0)
        sample = self._binary.read(64 * 1024).decode(self.encoding, errors="replace")
        lines = [line for line in _LINE_BREAK.split(sample) if line.strip()]
        if heading is not None:
            for line in lines[:HEADING_SEARCH_ROWS]:
                if heading.search(line):
                    return line
        return lines[0] if lines else ""

    # -- reading -------------------------------------------------------------------------------------

    @property
    def suspect(self) -> bool:
        """Whether a character the text gate refuses has been read (the rows read since need checking)."""
        return self._binary.refused_seen

    def rows(self) -> Iterator[tuple[int, int, list[str]]]:
        """Each row as (first line, last line, cells); line numbers as an editor shows them."""
        reader = self.reader
        last = self.lines_done
        with self.reading():
            for cells in reader:
                first, last = last + 1, reader.line_num
                self.lines_done = last
                yield first, last, cells

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Around code that pulls rows from `reader` itself (a tight loop): undecodable bytes and a quote
        that never closes become plain messages with their line."""
        try:
            yield
        except UnicodeDecodeError:
            raise self.decode_error() from None
        except csv.Error:
            # Only a cell longer than csv's limit gets here: a quote that opens and never closes.
            raise self.quote_error(self.lines_done + 1) from None

    def text_problems(
        self,
        first_line: int,
        cells: list[str],
        columns: list[str],
        one_line: Container[int],
        report: Callable[[int, str, str], None],
    ) -> bool:
        """Report each cell holding a character the gate refuses, as report(line, column, message); True
        if there was one. `columns` names the cells (the heading); cells at the `one_line` positions may
        not hold line breaks either."""
        found = False
        for index, cell in enumerate(cells):
            column = columns[index].strip() if index < len(columns) else ""
            problem = text_problem(
                cell, column or f"text in cell {index + 1}", one_line=index in one_line, hint=_MEND
            )
            if problem is not None:
                offset, message = problem
                report(locate_in_row(cells, index, offset, first_line), column, message)
                found = True
        return found

    @property
    def bytes_read(self) -> int:
        """How far through the file reading has got (read-ahead included), for a progress bar."""
        if self._binary.closed:
            return self.size
        return self._binary.tell()

    def decode_error(self) -> InvalidInput:
        return InvalidInput(
            f"{self.path.name}, line {self._first_undecodable_line()}: the file is not "
            f"{describe_encoding(self.encoding)} text. Leave out --encoding to let cloudctl detect the "
            'encoding, or save the file from Excel as "CSV UTF-8 (Comma delimited)".'
        )

    def _first_undecodable_line(self) -> int:
        """Text is decoded in blocks, so find the line with the bad bytes by decoding line by line."""
        decoder = codecs.getincrementaldecoder(self.encoding)()
        line, after_return = 1, False
        with self.path.open("rb") as handle:
            for raw in handle:
                try:
                    text = decoder.decode(raw)
                except UnicodeDecodeError:
                    return line
                if not text:
                    continue
                # A "\r\n" decoded in two pieces (UTF-16 splits at the byte 0x0A) is one line end.
                line += len(_LINE_BREAK.findall(text)) - (after_return and text.startswith("\n"))
                after_return = text.endswith("\r")
        return line

    def quote_error(self, line: int) -> InvalidInput:
        return InvalidInput(
            f'{self.path.name}, line {line}: a cell opens with a double quote (") that is never closed, so '
            "the rest of the file runs into it. Remove the stray quote, or put a second one after it."
        )

    def close(self) -> None:
        # Closing the text wrapper closes the file under it; the file alone when the wrapper never came.
        text = getattr(self, "_text", None)
        if text is not None:
            text.close()
        self._binary.close()

    def __enter__(self) -> DelimitedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
