"""Reading a delimited text file that a user exported from Excel, an MIS or an online form.

One reader for every such file (class lists, returned consent forms), so each is read the same way:

- **regular files only**: a folder, a named pipe or a device is refused with a plain message before
  anything is read (opening a pipe for reading would wait for ever); an Excel workbook, an empty file and
  a binary file are refused too;
- **the encoding** from a byte-order mark (UTF-8, UTF-16, UTF-32), else UTF-16 without one (Excel's
  "Unicode Text" written by other programs: every other byte of the heading is zero), else UTF-8 when
  every byte decodes, else Windows-1252 (what Excel writes for "CSV (Comma delimited)"); or the one the
  user names, from those a school's files come in (`ENCODINGS`); bytes that are not text in it are
  refused with their line;
- **the delimiter** sniffed from the heading line (comma, semicolon, tab or vertical bar);
- **rows with the line numbers an editor shows**: a row's first and last line, which differ when a quoted
  cell holds line breaks;
- **rows as wide as the heading**: a row with more cells (an unquoted separator) or fewer (a cell missing,
  a row cut short) is refused with its line (`width_problem`); empty cells after the last are harmless;
- **characters the text gate refuses** (NUL, escape and other control characters, invisible characters such
  as the zero-width space and the soft hyphen, direction-changing characters, unassigned and private-use
  code points) anywhere in the file: the reader notes that it has met one (`suspect`), so
  a caller checks rows closely only then, and `text_problems` says which cell, line and character.

The file is streamed in large blocks, so a million-row file never sits in memory; the check for refused
characters runs over each block at once, which costs almost nothing for the clean files nearly every
school has. Pure: nothing here touches the database.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import functools
import io
import os
import re
import stat
import unicodedata
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

# The characters `cloudctl.vocab.text` refuses in every field: control characters other than the tab and the
# line ends, invisible format characters (Cf: zero-width space, soft hyphen, a byte-order mark inside text,
# direction-changing characters, tag characters) but not the joiners ZWNJ and ZWJ, unassigned code points and
# non-characters (Cn), private use (Co), Unicode line and paragraph separators and surrogates; and those it
# refuses in one-line fields (the same, and line ends). Built from the Unicode database on first use (about
# 0.07 s), so `--help` never pays for it. A test holds these to the gate itself.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Co", "Zl", "Zp", "Cs"})
_KEPT = frozenset("\t\n\r\u200c\u200d")  # the tab and line ends (folded by the gate); the joiners
# Planes with assigned characters are looked at code point by code point; the others (4 to 13: unassigned;
# 15 and 16: private use) are refused whole, which `_refused_ranges` checks at their ends.
_PLANES_WITH_CHARACTERS = (0, 1, 2, 3, 14)


_RUN = re.compile(rb"\x01+")
_FLIP = bytes.maketrans(b"\x00\x01", b"\x01\x00")


@functools.cache
def _refused_ranges() -> tuple[tuple[int, int], ...]:
    """The code points the gate refuses in every field, as (first, last) ranges.

    Worked out at C speed, since every import pays for it once: `str.isprintable` is false exactly for
    the categories "Other" and "Separator" but the ASCII space, which are the refused categories and Zs;
    the Zs spaces (few, and all matched by `\\s`) and the kept characters are then let through."""
    category = unicodedata.category
    refused = _REFUSED_CATEGORIES
    ranges: list[tuple[int, int]] = []
    for plane in range(17):
        base = plane << 16
        if plane in _PLANES_WITH_CHARACTERS or not all(
            category(chr(code)) in refused for code in (base, base + 0xFFFD, base + 0xFFFF)
        ):
            text = "".join(map(chr, range(base, base + 0x10000)))
            flags = bytearray(map(str.isprintable, text)).translate(_FLIP)  # 1: not printable
            for space in re.finditer(r"\s", text):
                if category(space.group()) not in refused:
                    flags[space.start()] = 0
            for kept in _KEPT:
                if base <= ord(kept) < base + 0x10000:
                    flags[ord(kept) - base] = 0
        else:
            flags = b"\x01" * 0x10000
        for run in _RUN.finditer(flags):
            first, last = base + run.start(), base + run.end() - 1
            if ranges and ranges[-1][1] == first - 1:  # a range running on from the plane before
                first = ranges.pop()[0]
            ranges.append((first, last))
    return tuple(ranges)


def _character_class(ranges: tuple[tuple[int, int], ...], extra: str = "") -> re.Pattern[str]:
    parts = [
        re.escape(chr(first)) if first == last else f"{re.escape(chr(first))}-{re.escape(chr(last))}"
        for first, last in ranges
    ]
    return re.compile(f"[{''.join(parts)}{extra}]")


@functools.cache
def _candidates(one_line: bool) -> re.Pattern[str]:
    """Every refused character below U+10000, and every character above it (a class with hundreds of ranges
    up there makes the search a hundred times slower): those are then looked up one by one."""
    below = tuple((first, min(last, 0xFFFF)) for first, last in _refused_ranges() if first <= 0xFFFF)
    return _character_class(below, "\U00010000-\U0010ffff" + ("\r\n" if one_line else ""))


@functools.cache
def _astral_ranges() -> tuple[tuple[int, ...], tuple[int, ...]]:
    ranges = [(max(first, 0x10000), last) for first, last in _refused_ranges() if last > 0xFFFF]
    return tuple(first for first, _ in ranges), tuple(last for _, last in ranges)


def _astral_refused(code: int) -> bool:
    starts, ends = _astral_ranges()
    index = bisect.bisect_right(starts, code) - 1
    return index >= 0 and code <= ends[index]


def find_refused(text: str, *, one_line: bool = False) -> int | None:
    """Where the first character the text gate refuses is in the text (line ends too when `one_line`);
    None when there is none."""
    for found in _candidates(one_line).finditer(text):
        code = ord(found.group())
        if code < 0x10000 or _astral_refused(code):
            return found.start()
    return None


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
        "utf-32": "UTF-32",
        "utf-32-le": "UTF-32 (little-endian, no byte-order mark)",
        "utf-32-be": "UTF-32 (big-endian, no byte-order mark)",
        "cp1252": "Windows-1252",
        "iso8859-1": "Latin-1",
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
    if start.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
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
    """The encoding's name in Python's codecs, when it is one a school's files come in (`ENCODINGS`); else
    a plain refusal listing those (utf-7, idna, cp037 and the like are never what a class list is in)."""
    try:
        codec = codecs.lookup(encoding)
    except (LookupError, ValueError):
        codec = None
    if codec is not None and not getattr(codec, "_is_text_encoding", True):  # base64, zlib: bytes to bytes
        raise InvalidInput(
            f"'{encoding}' is not a text encoding cloudctl can read: use utf-8, utf-8-sig, cp1252 or utf-16 "
            f"(or another of {', '.join(ENCODINGS.values())}), or leave out --encoding to let cloudctl "
            "detect it."
        )
    name = codec.name if codec is not None else None
    if name not in ENCODINGS:
        shown = encoding if len(encoding) <= 40 and encoding.isprintable() else "that"
        raise InvalidInput(
            f'"{shown}" is not an encoding cloudctl knows. Use one of {", ".join(ENCODINGS.values())}, or '
            "leave out --encoding to let cloudctl detect it."
        )
    return name


# A byte-order mark is not text: a named encoding that would read it into the first cell reads it as the mark.
_BOMS = (
    (("utf-8",), (codecs.BOM_UTF8,), "utf-8-sig"),
    (("utf-32", "utf-32-le", "utf-32-be"), (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE), "utf-32"),
    (("utf-16", "utf-16-le", "utf-16-be"), (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), "utf-16"),
)


def _with_bom(name: str, start: bytes) -> str:
    """The encoding the user named, or its byte-order-mark reading when the file starts with one."""
    for names, marks, marked in _BOMS:
        if name in names and start.startswith(marks):
            return marked
    return name


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


# The encodings a school's files come in, by their names in Python's codecs (`codecs.lookup(...).name`),
# and how the user may write them.
ENCODINGS = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf-16": "utf-16",
    "utf-16-le": "utf-16-le",
    "utf-16-be": "utf-16-be",
    "utf-32": "utf-32",
    "utf-32-le": "utf-32-le",
    "utf-32-be": "utf-32-be",
    "cp1252": "cp1252 (or windows-1252)",
    "iso8859-1": "latin-1 (or iso-8859-1)",
    "iso8859-15": "iso-8859-15",
    "cp850": "cp850",
    "ascii": "ascii",
    "mac-roman": "mac-roman",
}
_ONE_BYTE = frozenset({"cp1252", "iso8859-1", "iso8859-15", "cp850", "ascii", "mac-roman"})
# Where UTF-8 changes how many bytes a character takes: between two, a character's first byte grows with it.
_UTF8_LENGTHS = ((0, 0x7F), (0x80, 0x7FF), (0x800, 0xFFFF), (0x10000, 0x10FFFF))


@functools.cache
def _flagged_bytes(name: str) -> bytes | None:
    """The bytes that can start a refused character in the encoding (by its codecs name); None when the
    encoding is not screened by bytes (UTF-16, UTF-32)."""
    if name in ("utf-8", "utf-8-sig"):
        leads: set[int] = set()
        for first, last in _refused_ranges():
            for low, high in _UTF8_LENGTHS:
                start, end = max(first, low), min(last, high)
                if start <= end:
                    lead = chr(start).encode("utf-8", "surrogatepass")[0]
                    leads.update(range(lead, chr(end).encode("utf-8", "surrogatepass")[0] + 1))
        return bytes(sorted(leads))
    if name in _ONE_BYTE:
        return bytes(
            byte for byte in range(256) if find_refused(bytes((byte,)).decode(name, errors="replace")) == 0
        )
    return None


def _screen_for(encoding: str) -> Callable[[bytes], bool]:
    """A cheap test of the file's blocks, in order: False when a block certainly holds no refused character.

    Regular expressions over every character of a large file cost more than reading it, so for the
    encodings schools use the bytes are screened instead (bytes.translate runs at memory speed): only the
    bytes that can start a refused character are looked for (in UTF-8, ASCII control bytes and the first
    bytes of the ranges holding refused characters: 0xC2 for the soft hyphen, 0xE2 for the zero-width space,
    and all from 0xCD up; in a one-byte encoding, the bytes that decode to a refused character). A block
    that passes the screen is clean; one that does not (curly quotes start with 0xE2 too) is decoded and
    searched, with the end of the block before it, for a character split between the two. Other encodings
    (UTF-16, UTF-32) are always decoded and searched, by one decoder that carries a split character over."""
    flagged = _flagged_bytes(codecs.lookup(encoding).name)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    if flagged is None:
        return lambda block: find_refused(decoder.decode(block)) is not None
    others = bytes(byte for byte in range(256) if byte not in flagged)
    tail = b""  # the end of the block before: a character may start there (3 bytes at most in UTF-8)

    def screen(block: bytes) -> bool:
        nonlocal tail
        joined, tail = tail + block, block[-3:]
        if not joined.translate(None, others):
            return False
        # The joined bytes may start or end inside a character: "replace" marks it, never a refused one.
        return find_refused(joined.decode(encoding, errors="replace")) is not None

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
    found = find_refused(cell, one_line=one_line)
    if found is None:
        return None
    try:
        gate_text(cell, field, limit=len(cell) + 1, multiline=not one_line, hint=hint)
    except InvalidInput as error:
        return found, error.message
    return None  # pragma: no cover (the patterns and the gate agree; a test holds them to it)


def width_problem(cells: list[str], width: int, delimiter: str, *, runs_on: int = 0) -> str | None:
    """Why a row with a different number of cells from the heading's cannot be read, or None when it can:
    the same number, or more with only empty cells after the last (as some exports write). `runs_on` is
    the row's last line when a quoted cell carried it over several lines."""
    count = len(cells)
    if count == width or (count > width and not any(cell.strip() for cell in cells[width:])):
        return None
    if runs_on:
        return (
            f'this row runs on to line {runs_on}: a double quote (") in a cell is probably missing its '
            "partner. Remove the stray quote, or close it."
        )
    if count > width:
        return (
            f"the row has {count} cells but the heading row has {width}: a cell holds the separator (a "
            f"{describe_delimiter(delimiter)}) without double quotes around it, perhaps a comma in a name or "
            'a note. Put that cell in double quotes ("..."), or take the separator out.'
        )
    return (
        f"the row has {count} cells but the heading row has {width}: a cell may be missing, or the row was "
        "cut short. Give every row a cell for every column (an empty one where there is nothing)."
    )


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
        if encoding is not None:
            chosen = _with_bom(check_encoding(encoding), start)
        else:
            chosen = _detect_encoding(self._binary)
        wide = codecs.lookup(chosen).name.startswith(("utf-16", "utf-32"))
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
        except UnicodeError:  # undecodable bytes; UTF-32 that is not UTF-32
            raise self.decode_error() from None
        except csv.Error:
            # Only a cell longer than csv's limit gets here: a quote that opens and never closes, or a
            # cell that really is that long.
            raise self.long_cell_error(self.lines_done + 1) from None

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
        encoding = describe_encoding(self.encoding)
        return InvalidInput(
            f"{self.path.name}, line {self._first_undecodable_line()}: the file is not {encoding} text (it "
            f"could not be read as {encoding}). Leave out --encoding to let cloudctl detect the "
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
                except UnicodeError:
                    return line
                if not text:
                    continue
                # A "\r\n" decoded in two pieces (UTF-16 splits at the byte 0x0A) is one line end.
                line += len(_LINE_BREAK.findall(text)) - (after_return and text.startswith("\n"))
                after_return = text.endswith("\r")
        return line

    def long_cell_error(self, line: int) -> InvalidInput:
        """A cell csv would not read to its end: a stray quote (an odd number of double quotes from the row
        on), or a cell longer than csv's limit."""
        if self._quotes_from(line) % 2:
            return self.quote_error(line)
        return InvalidInput(
            f"{self.path.name}, line {line}: a cell is longer than {csv.field_size_limit():,} characters, "
            "more than cloudctl reads in one cell (no name or note is that long). Shorten it; if it is not "
            'meant to be that long, a double quote (") that opens it may be missing its partner.'
        )

    def _quotes_from(self, line: int) -> int:
        """How many double quotes the file holds from the start of the line on (read again, line by line;
        a line that is not whole text is counted as it decodes)."""
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="replace")
        at, quotes, after_return = 1, 0, False
        with self.path.open("rb") as handle:
            for raw in handle:
                text = decoder.decode(raw)
                if not text:
                    continue
                if at >= line:
                    quotes += text.count('"')
                    continue
                pieces = _LINE_BREAK.split(text)
                skip = after_return and text.startswith("\n")  # the end of a "\r\n" split in two
                for index, piece in enumerate(pieces):
                    if index and not (skip and index == 1 and not pieces[0]):
                        at += 1
                    if at >= line:
                        quotes += piece.count('"')
                after_return = text.endswith("\r")
        return quotes

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
