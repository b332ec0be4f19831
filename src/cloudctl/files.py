"""Writing files that hold children's data: readable and writable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path


def write_private_text(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "w", encoding="utf-8", newline="") as stream:
        stream.write(text)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
