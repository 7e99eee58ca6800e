"""Writing output files (reports, figures) into the folder a user named (``--out``).

Invariant: a file is only ever written inside that folder, under a plain file name, never
through a symbolic link, and it appears atomically: the bytes go to a new temporary file in the
same folder (created exclusively, so never through a link, with the permissions a plain
``open()`` would give under the umask), are flushed to disk, and the temporary file is then
``os.replace``'d onto the real name. A crash leaves either the old file or the new one under
that name, never a half-written one; an error leaves no temporary file behind. Every problem
raises a :class:`~scoresym.errors.ScoresymInputError` with a one-line message naming the path.

The folder itself, or one of its parents, may be a symbolic link the user named (``/tmp`` on
macOS is one): that is the user's choice of folder, not a file written through a link.

Temporary files are named ``.NAME.tmp-RANDOM.SUFFIX`` (``.report.json.tmp-3f9a0c1b.json``):
hidden, recognisable, and ending with the real suffix so that libraries which choose a format
from the file name (matplotlib's ``savefig``, PIL's ``Image.save``) write the right one.

>>> import tempfile, pathlib
>>> scratch = tempfile.TemporaryDirectory()
>>> folder = output_folder(pathlib.Path(scratch.name) / "report")
>>> write_text(folder, "report.md", "# scoresym\\n").read_text()
'# scoresym\\n'
>>> sorted(path.name for path in folder.iterdir())
['report.md']
>>> scratch.cleanup()
"""

from __future__ import annotations

import os
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path

from .errors import ScoresymInputError

SEPARATORS = ("/", "\\")  # refused in file names on every system, so names stay portable
ATTEMPTS = 100  # random temporary names tried before giving up


def output_folder(path, what: str = "--out", create: bool = True) -> Path:
    """The folder ``path``, checked before any work is done; created (with its parents) unless
    ``create`` is False, in which case it is only checked that it could be.

    Messages, with ``what`` first: ``PATH exists and is not a folder``; ``cannot create the
    folder PATH: Permission denied`` (the system's reason); ``cannot write in the folder PATH:
    permission denied``; ``PATH is a symbolic link to nothing``; ``no folder named``.

    >>> import tempfile, pathlib
    >>> scratch = tempfile.TemporaryDirectory()
    >>> later = output_folder(pathlib.Path(scratch.name) / "a" / "b", create=False)
    >>> later.exists()
    False
    >>> output_folder(later).is_dir()
    True
    >>> output_folder(write_text(later, "notes.txt", ""))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: --out: ...notes.txt exists and is not a folder
    >>> scratch.cleanup()
    """
    if not str(path):
        raise ScoresymInputError(f"{what}: no folder named (an empty path)")
    folder = Path(path)  # os.path's tests below answer False, not raise, when stat fails
    if os.path.isdir(folder):
        _check_writable(folder, what)
    elif os.path.exists(folder):
        raise ScoresymInputError(f"{what}: {folder} exists and is not a folder")
    elif os.path.islink(folder):
        raise ScoresymInputError(f"{what}: {folder} is a symbolic link to nothing")
    elif create:
        _make_folder(folder, what)
    else:
        _check_creatable(folder, what)
    return folder


def _make_folder(folder: Path, what: str) -> None:
    """mkdir -p, its failures as one-line errors."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScoresymInputError(f"{what}: cannot create the folder {folder}: "
                                 f"{exc.strerror or exc}") from None


def _check_creatable(folder: Path, what: str) -> None:
    """The nearest existing ancestor of a missing folder must be a folder one may write in."""
    ancestor = next(parent for parent in folder.absolute().parents if os.path.exists(parent))
    if not os.path.isdir(ancestor):
        raise ScoresymInputError(f"{what}: cannot create the folder {folder}: {ancestor} is "
                                 "not a folder")
    _check_writable(ancestor, what, f"cannot create the folder {folder}")


def _check_writable(folder: Path, what: str, doing: str = "") -> None:
    """Whether files can be created in an existing folder (as far as permissions tell)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        doing = doing or f"cannot write in the folder {folder}"
        raise ScoresymInputError(f"{what}: {doing}: permission denied")


def target(folder, name: str) -> Path:
    """``folder / name``, once ``name`` is a plain file name and that path is not a symbolic
    link or a folder (a missing file or a regular one is fine: it will be replaced).

    >>> target("out", "report.md")
    PosixPath('out/report.md')
    >>> target("out", "../report.md")
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: '../report.md' is not a plain file name (no folders, \
'.', '..' or NUL)
    """
    if (not isinstance(name, str) or name in ("", ".", "..") or "\0" in name
            or any(separator in name for separator in SEPARATORS)):
        raise ScoresymInputError(f"{name!r} is not a plain file name (no folders, '.', '..' "
                                 "or NUL)")
    path = Path(folder) / name
    if os.path.islink(path):
        raise ScoresymInputError(f"refusing to write through the symbolic link {path}")
    if os.path.isdir(path):
        raise ScoresymInputError(f"cannot write {path}: it is a folder")
    return path


@contextmanager
def atomic_file(folder, name: str):
    """A temporary path in ``folder`` (same suffix as ``name``) for the caller to write; on a
    normal exit it replaces ``folder / name``, on an exception it is removed. An ``OSError``
    raised inside the block (a full disk, say) becomes a ScoresymInputError.

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> with atomic_file(scratch.name, "points.csv") as tmp:
    ...     (tmp.name.startswith(".points.csv.tmp-"), tmp.suffix)
    ...     _ = tmp.write_text("1,2\\n")
    (True, '.csv')
    >>> sorted(os.listdir(scratch.name))
    ['points.csv']
    >>> scratch.cleanup()
    """
    path = target(folder, name)
    tmp = _new_temporary(path)
    try:
        try:
            yield tmp
        except OSError as exc:
            raise ScoresymInputError(f"cannot write {path}: {exc.strerror or exc}") from None
        _publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(folder, name: str, data: bytes) -> Path:
    """``data`` as ``folder / name``, atomically; returns that path.

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> write_bytes(scratch.name, "x.bin", b"\\x00\\x01").read_bytes()
    b'\\x00\\x01'
    >>> scratch.cleanup()
    """
    with atomic_file(folder, name) as tmp:
        tmp.write_bytes(data)
    return Path(folder) / name


def write_text(folder, name: str, text: str, encoding: str = "utf-8") -> Path:
    """``text`` as ``folder / name`` (UTF-8, newlines written as they are), atomically.

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> write_text(scratch.name, "a.txt", "café\\n").read_bytes()
    b'caf\\xc3\\xa9\\n'
    >>> scratch.cleanup()
    """
    return write_bytes(folder, name, text.encode(encoding))


def _new_temporary(path: Path) -> Path:
    """A new empty file ``.NAME.tmp-RANDOM.SUFFIX`` beside ``path``, created exclusively (so
    never through a link) with mode 0o666 less the umask, like a plain ``open()``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(ATTEMPTS):
        tmp = path.with_name(f".{path.name[:64]}.tmp-{secrets.token_hex(4)}{path.suffix}")
        try:
            os.close(os.open(tmp, flags, 0o666))
            return tmp
        except FileExistsError:
            continue
        except OSError as exc:
            raise ScoresymInputError(f"cannot write in the folder {path.parent}: "
                                     f"{exc.strerror or exc}") from None
    raise ScoresymInputError(f"cannot write in the folder {path.parent}: no free temporary "
                             "name")


def _publish(tmp: Path, path: Path) -> None:
    """Flush the finished temporary file to disk and rename it onto ``path``.

    ``os.replace`` renames: if a symbolic link appeared at ``path`` since :func:`target`
    looked, the link itself is replaced, and nothing is written where it points."""
    target(path.parent, path.name)
    try:
        if not stat.S_ISREG(os.lstat(tmp).st_mode):
            raise ScoresymInputError(f"cannot write {path}: its temporary file {tmp} was "
                                     "replaced by something other than a file")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise ScoresymInputError(f"cannot write {path}: {exc.strerror or exc}") from None
