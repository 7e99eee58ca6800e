"""What the benchmark scripts share: the machine line under a table, and printing a report and
writing it into the folder the user named (``--out``), nothing outside it."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoresym.outputs import output_folder, write_text  # noqa: E402


def machine() -> str:
    """'x86_64, Python 3.11.7, NumPy 2.4.6': where a table was measured."""
    return f"{platform.machine()}, Python {platform.python_version()}, NumPy {np.__version__}"


def publish(text: str, out, filename: str) -> None:
    """Print ``text``; with ``out`` (a folder, made if needed) also write it to out/filename."""
    folder = output_folder(out) if out else None
    print(text)
    if folder is not None:
        print(f"wrote {write_text(folder, filename, text)}")
