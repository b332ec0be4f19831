"""Files in and out: reading what a user hands cloudctl, and writing files that hold children's data
(readable and writable by their owner only)."""

from __future__ import annotations

import os
from pathlib import Path

from cloudctl.errors import InvalidInput


def write_private_text(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # An existing file keeps its old mode through O_CREAT: make it private before anything is written.
    os.fchmod(descriptor, 0o600)
    with open(descriptor, "w", encoding="utf-8", newline="") as stream:
        stream.write(text)


def read_input_bytes(path: Path, what: str) -> bytes:
    """The bytes of a file the user named, or a plain message saying why it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"There is no file {path}. Check the name and the folder.") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder: give the {what} file itself.") from None
    except PermissionError:
        raise InvalidInput(f"cloudctl may not read {path}: check the file's permissions.") from None


def read_text_file(path: Path, what: str) -> str:
    """A text file as Word or Notepad saves it: UTF-8 (with or without a byte-order mark) or Windows-1252."""
    raw = read_input_bytes(path, what)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(f"{path} is not a text file: save the {what} as plain text (.txt) and try again.")
