"""Reading points from the data files a user names (``--data``, ``--samples``).

Invariant: :func:`load_points` returns a float64 array of shape (n, d) with n >= 1, or raises a
:class:`~scoresym.errors.ScoresymInputError` whose one-line message starts with the option's
name and names the file and, for a CSV file, the line, the column and the offending text. No
NumPy, OS or Unicode exception escapes, and the file is read once, in time linear in its size.

>>> import tempfile, pathlib
>>> scratch = tempfile.TemporaryDirectory()
>>> path = pathlib.Path(scratch.name) / "points.csv"
>>> _ = path.write_text("x, y\\n1, 2\\n3.5, -4\\n")
>>> load_points(path, d=2)
array([[ 1. ,  2. ],
       [ 3.5, -4. ]])
>>> scratch.cleanup()
"""

from __future__ import annotations

from pathlib import Path

import numpy

from .errors import ScoresymInputError

# what a .npy file of each refused dtype kind holds, in words
REFUSED_KINDS = {"b": "booleans", "c": "complex numbers", "U": "text", "S": "bytes",
                 "M": "dates", "m": "time spans", "V": "raw records"}
SHOWN = 40  # characters of a bad field quoted in a message
ASCII_SPACE = " \t\n\r\x0b\x0c"  # stripped from a bad field before it is quoted


def load_points(path, d: int, what: str = "--data") -> numpy.ndarray:
    """Points of shape (n, d), float64, from a ``.npy`` file or a CSV file.

    ``.npy`` (by extension, any case): read without pickle. Integer and real floating dtypes are
    converted to float64; booleans, complex numbers, text, bytes, dates, Python objects and
    structured (record) arrays are refused, naming the dtype. A 1-d array is accepted when
    ``d == 1``; 0-d arrays and arrays of 3 or more dimensions are refused.

    Any other extension is CSV: comma-separated UTF-8 text (a byte order mark is allowed), with
    no quoting of numbers (a header's names may be quoted). Blank lines and comment lines (first
    non-blank character ``#``) are skipped; whitespace around a field is ignored. The first
    remaining line is a header only when every one of its fields is a name: not empty, not a
    number and not starting like one (a digit, or a sign or point followed by a digit); so "x,y"
    and "x1, x2" are headers, while "x,1", "1.O" and "1.0," are data lines with a bad field.
    Every line has the same number of fields as the first, and every field is a number as
    Python's ``float`` reads it, with two deliberate refusals: no underscores ("1_000") and no
    characters outside ASCII (full-width digits, non-breaking spaces). "nan", "inf" and "-inf"
    are accepted here (and "1e999" reads as inf): this layer reports the file's content
    faithfully; the fit and check layers refuse non-finite points with their own message.

    The messages, with ``what`` first: ``no such file: PATH``; ``PATH is a directory, not a data
    file``; ``cannot read PATH: permission denied``; ``PATH: line 3: byte 0xff is not UTF-8``;
    ``PATH: line 1, column 1: '1.O' is not a number``; ``PATH: line 7 has 3 fields, line 1 has
    2``; ``PATH holds no data rows``; ``PATH has 3 columns, the model has d = 2 variables``;
    ``PATH holds complex numbers (dtype complex128), not real numbers``.

    >>> import tempfile, pathlib
    >>> scratch = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(scratch.name) / "x.csv"
    >>> _ = path.write_text("# one variable\\n0.5\\n\\n-2e1\\nnan\\n")
    >>> load_points(path, d=1)
    array([[  0.5],
           [-20. ],
           [  nan]])
    >>> _ = path.write_text("x,y\\n1,2\\n3,4,\\n")
    >>> load_points(path, d=2, what="--samples")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: --samples: ...x.csv: line 3 has 3 fields, line 1 has 2
    >>> scratch.cleanup()
    """
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise ScoresymInputError(f"{what}: the number of variables d must be a positive "
                                 f"integer, got {d!r}")
    if Path(path).suffix.lower() == ".npy":
        points = _npy_points(path, d, what)
    else:
        points = _csv_points(path, d, what)
    if len(points) == 0:
        raise ScoresymInputError(f"{what}: {path} holds no data rows")
    return points


def _open(path, what: str):
    """``open(path, "rb")`` with every OS error turned into a one-line input error."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise ScoresymInputError(f"{what}: no such file: {path}") from None
    except IsADirectoryError:
        raise ScoresymInputError(f"{what}: {path} is a directory, not a data file") from None
    except PermissionError:
        raise ScoresymInputError(f"{what}: cannot read {path}: permission denied") from None
    except OSError as exc:
        raise ScoresymInputError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None


def _read_bytes(path, what: str) -> bytes:
    """The whole file, read once."""
    with _open(path, what) as handle:
        try:
            return handle.read()
        except OSError as exc:  # e.g. EISDIR on read, EIO
            raise ScoresymInputError(f"{what}: cannot read {path}: {exc.strerror or exc}") \
                from None


# .npy


def _npy_points(path, d: int, what: str) -> numpy.ndarray:
    """The array of a .npy file, its dtype checked from the header before the data is read."""
    with _open(path, what) as handle:
        try:
            _npy_dtype(handle)  # refuses what is not real numbers, before reading
            handle.seek(0)
            array = numpy.lib.format.read_array(handle, allow_pickle=False)
        except ScoresymInputError as exc:  # before ValueError, of which it is one
            raise ScoresymInputError(f"{what}: {path} holds {exc}") from None
        except (ValueError, EOFError, OSError) as exc:
            reason = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise ScoresymInputError(f"{what}: {path} is not a readable .npy file ({reason})") \
                from None
    return _as_points(array, d, f"{what}: {path}")


def _npy_dtype(handle) -> numpy.dtype:
    """The dtype a .npy header announces; a ScoresymInputError (the words only) if refused.

    >>> import io
    >>> buffer = io.BytesIO()
    >>> numpy.save(buffer, numpy.array([1 + 2j]))
    >>> _ = buffer.seek(0)
    >>> _npy_dtype(buffer)
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: complex numbers (dtype complex128), not real numbers
    """
    major, _ = numpy.lib.format.read_magic(handle)
    read_header = (numpy.lib.format.read_array_header_1_0 if major == 1
                   else numpy.lib.format.read_array_header_2_0)
    _, _, dtype = read_header(handle)
    if dtype.names:
        fields = ", ".join(repr(name) for name in dtype.names)
        raise ScoresymInputError(f"a structured array (fields {fields}), not plain numbers")
    if dtype.kind == "O":
        raise ScoresymInputError("Python objects (dtype object), not numbers; reading them "
                                 "would need pickle, which is refused")
    if dtype.kind in REFUSED_KINDS:
        raise ScoresymInputError(f"{REFUSED_KINDS[dtype.kind]} (dtype {dtype}), "
                                 "not real numbers")
    return dtype


def _as_points(array: numpy.ndarray, d: int, where: str) -> numpy.ndarray:
    """A numeric array as points (n, d): a 1-d array is a column when d == 1.

    >>> _as_points(numpy.arange(3), 1, "--data: x.npy").tolist()
    [[0.0], [1.0], [2.0]]
    >>> _as_points(numpy.zeros(()), 1, "--data: x.npy")
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: --data: x.npy holds a single value (a 0-d array), \
not points of shape (n, 1)
    """
    if array.ndim == 1 and d == 1:
        array = array.reshape(-1, 1)
    if array.ndim == 0:
        raise ScoresymInputError(f"{where} holds a single value (a 0-d array), "
                                 f"not points of shape (n, {d})")
    if array.ndim == 1:
        raise ScoresymInputError(f"{where} holds a 1-d array of {array.size} values, "
                                 f"not points of shape (n, {d})")
    if array.ndim > 2:
        raise ScoresymInputError(f"{where} holds a {array.ndim}-d array of shape "
                                 f"{array.shape}, not points of shape (n, {d})")
    _check_columns(array.shape[1], d, where)
    return numpy.ascontiguousarray(array, dtype=numpy.float64)


def _check_columns(columns: int, d: int, where: str) -> None:
    """One column a variable.

    >>> _check_columns(3, 2, "--data: x.csv")
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: --data: x.csv has 3 columns, the model has d = 2 variables
    """
    if columns != d:
        raise ScoresymInputError(f"{where} has {_counted(columns, 'column')}, "
                                 f"the model has d = {_counted(d, 'variable')}")


def _counted(count: int, noun: str) -> str:
    """A count and its noun, plural unless the count is 1.

    >>> _counted(1, "field"), _counted(3, "field")
    ('1 field', '3 fields')
    """
    return f"{count} {noun}{'s' * (count != 1)}"


# CSV


def _csv_points(path, d: int, what: str) -> numpy.ndarray:
    """The rows of a CSV file, checked line by line in one pass; the number of columns is
    checked against d after the header or the first data line, before the rest is read."""
    where = f"{what}: {path}"
    lines = _text_lines(_read_bytes(path, what), where)
    rows = ((number, line) for number, line in enumerate(lines, 1)
            if line.strip()[:1] not in ("", "#"))
    first = next(rows, None)
    if first is None:
        return numpy.empty((0, d))
    first_number, first_line = first
    columns = first_line.count(",") + 1
    values = []
    if not _is_header(first_line):
        _read_rows([first], columns, first_number, where, values)
    _check_columns(columns, d, where)
    _read_rows(rows, columns, first_number, where, values)
    return numpy.array(values, dtype=numpy.float64).reshape(-1, columns)


def _read_rows(rows, columns: int, first_number: int, where: str, values: list) -> None:
    """Append the numbers of each (line number, line) to ``values``: ``float`` on each field
    of a line, the first line with a refused field explained by :func:`_bad_field`.

    >>> values = []
    >>> _read_rows([(1, "1, 2"), (2, "3,4 ")], 2, 1, "--data: x.csv", values)
    >>> values
    [1.0, 2.0, 3.0, 4.0]
    """
    for number, line in rows:
        fields = line.split(",")
        if len(fields) != columns:
            raise ScoresymInputError(f"{where}: line {number} has "
                                     f"{_counted(len(fields), 'field')}, "
                                     f"line {first_number} has {columns}")
        try:
            if "_" in line or not line.isascii():
                raise ValueError
            values += map(float, fields)
        except ValueError:
            raise _bad_field(line, number, where) from None


def _text_lines(data: bytes, where: str) -> list:
    """UTF-8 text (an optional byte order mark) split at \\n, \\r\\n or \\r.

    >>> _text_lines(b"\\xef\\xbb\\xbfx\\r\\n1\\r2", "--data: x.csv")
    ['x', '1', '2']
    >>> _text_lines(b"1\\n\\xff\\n", "--data: x.csv")
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: --data: x.csv: line 2: byte 0xff is not UTF-8 \
(save the file as UTF-8 text)
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if data.startswith(b"\x93NUMPY"):
            raise ScoresymInputError(f"{where} is a NumPy .npy file; give its name the "
                                     ".npy extension") from None
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScoresymInputError(f"{where}: line {line}: byte 0x{data[exc.start]:02x} is not "
                                 "UTF-8 (save the file as UTF-8 text)") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def _is_header(line: str) -> bool:
    """Whether every field of a (first) line is a column name.

    >>> [_is_header(line) for line in ("x,y", "x1, x2", "x,1", "1.O", "x,", "nan,inf")]
    [True, True, False, False, False, False]
    """
    return all(_is_name(field.strip()) for field in line.split(","))


def _is_name(field: str) -> bool:
    """Not empty, not a number, and not a malformed one (starting with a digit, or a sign or
    point followed by one, inside quotes or not: '"x"' is a name, '"1"' is not).

    >>> [_is_name(field) for field in ("x_1", '"x"', "", "inf", "1.O", '"1"', "-.5x")]
    [True, True, False, False, False, False, False]
    """
    head = field.strip("\"'").lstrip("+-.")[:1]
    return bool(field) and not head.isdigit() and _number(field) is None


def _bad_field(line: str, number: int, where: str) -> ScoresymInputError:
    """The error naming the first field of a line that is not a number.

    >>> _bad_field("1.0,", 4, "--data: x.csv")
    ScoresymInputError("--data: x.csv: line 4, column 2: '' (an empty field) is not a number")
    """
    column, field = next((column, field) for column, field in enumerate(line.split(","), 1)
                         if _number(field) is None)
    return ScoresymInputError(f"{where}: line {number}, column {column}: "
                              f"{_described(field)} is not a number")


def _number(field: str):
    """The float a CSV field holds, or None: Python's float() (which ignores surrounding
    whitespace) refusing underscores and characters outside ASCII.

    >>> [_number(field) for field in ("1e5", "-inf", "1_000", "１", "1..0", "")]
    [100000.0, -inf, None, None, None, None]
    """
    if "_" in field or not field.isascii():
        return None
    try:
        return float(field)
    except ValueError:
        return None


def _described(field: str) -> str:
    """A bad field as a message quotes it: without surrounding ASCII spaces, repr (so control
    characters and non-ASCII spaces show), shortened, with a hint for the puzzling ones.

    >>> _described("1_000")
    "'1_000' (underscores are not allowed in numbers)"
    >>> _described("x" * 50)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"
    """
    field = field.strip(ASCII_SPACE)
    shown = repr(field[:SHOWN] + "...") if len(field) > SHOWN else repr(field)
    if not field:
        return f"{shown} (an empty field)"
    if "_" in field and _number(field.replace("_", "")) is not None:
        return f"{shown} (underscores are not allowed in numbers)"
    if not field.isascii():
        return f"{shown} (only ASCII characters are allowed in numbers)"
    return shown

