"""Data files: CSV and .npy points load exactly, and every bad file is one clear line."""

import io
import time

import numpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scoresym import datafiles
from scoresym.datafiles import load_points
from scoresym.errors import ScoresymInputError

MISSING = object()  # no file at all
FOLDER = object()  # a directory where the file should be


def npy_bytes(array) -> bytes:
    """What numpy.save writes for ``array``."""
    buffer = io.BytesIO()
    numpy.save(buffer, array)
    return buffer.getvalue()


def create(path, content):
    """Put ``content`` at ``path``: text (UTF-8, newlines as given), bytes or an array."""
    if content is FOLDER:
        path.mkdir()
    elif isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not MISSING:
        path.write_bytes(npy_bytes(content))


NAN, INF = float("nan"), float("inf")
STRUCTURED = numpy.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")])

# (file name, content, d, the points expected or a fragment of the error)
CASES = [
    # CSV that loads
    ("plain.csv", "1,2\n3,4\n", 2, [[1, 2], [3, 4]]),
    ("header.csv", "x,y\n1,2\n", 2, [[1, 2]]),
    ("spaced_header.csv", "x1, x2\n 1 , 2 \n", 2, [[1, 2]]),
    ("quoted_header.csv", '"x","y"\n1,2\n', 2, [[1, 2]]),
    ("unicode_header.csv", "σ, μ\n1,2\n", 2, [[1, 2]]),
    ("bom_header.csv", "\ufeffx,y\n1,2\n", 2, [[1, 2]]),
    ("bom_data.csv", "\ufeff1,2\n", 2, [[1, 2]]),
    ("crlf.csv", "x,y\r\n1,2\r\n3,4\r\n", 2, [[1, 2], [3, 4]]),
    ("old_mac.csv", "1,2\r3,4\r", 2, [[1, 2], [3, 4]]),
    ("blank_and_comments.csv", "# c\n\n1,2\n  \n  # more\n3,4\n", 2, [[1, 2], [3, 4]]),
    ("comment_then_header.csv", "# by hand\nx,y\n1,2\n", 2, [[1, 2]]),
    ("one_column.csv", "x\n1\n2\n", 1, [[1], [2]]),
    ("no_final_newline.csv", "1,2\n3,4", 2, [[1, 2], [3, 4]]),
    ("nan_inf.csv", "nan,inf\n-inf,NaN\n", 2, [[NAN, INF], [-INF, NAN]]),
    ("overflow_is_inf.csv", "1e999\n", 1, [[INF]]),
    ("number_forms.csv", "1e-3, .5\n-2., +7\n", 2, [[1e-3, 0.5], [-2, 7]]),
    ("tabs.txt", "\t1,\t2\t\n", 2, [[1, 2]]),
    ("data.TXT", "1 , 2\n", 2, [[1, 2]]),
    # CSV refused
    ("letter_o.csv", "1.O\n", 1, "line 1, column 1: '1.O' is not a number"),
    ("trailing_comma.csv", "1.0,\n", 1, "line 1, column 2: '' (an empty field) is not a number"),
    ("two_points.csv", "1..0,2\n", 2, "line 1, column 1: '1..0' is not a number"),
    ("mixed_first_line.csv", "x,1\n2,3\n", 2, "line 1, column 1: 'x' is not a number"),
    ("empty_header_field.csv", "x,\n1,2\n", 2, "line 1, column 1: 'x' is not a number"),
    ("digit_name.csv", "2x,y\n1,2\n", 2, "line 1, column 1: '2x' is not a number"),
    ("bad_later.csv", "x,y\n1,2\n3,abc\n", 2, "line 3, column 2: 'abc' is not a number"),
    ("second_header.csv", "x,y\n1,2\nx,y\n", 2, "line 3, column 1: 'x' is not a number"),
    ("ragged.csv", "1,2\n3,4\n\n# c\n5,6\n7,8\n9,10,11\n", 2, "line 7 has 3 fields, line 1 has 2"),
    ("ragged_after_header.csv", "x,y\n1\n", 2, "line 2 has 1 field, line 1 has 2"),
    ("trailing_comma_later.csv", "1,2\n3,4,\n", 2, "line 2 has 3 fields, line 1 has 2"),
    ("underscore.csv", "1_000,2\n", 2,
     "line 1, column 1: '1_000' (underscores are not allowed in numbers) is not a number"),
    ("full_width.csv", "1,\uff12\n", 2,
     "line 1, column 2: '\uff12' (only ASCII characters are allowed in numbers) is not a number"),
    ("no_break_space.csv", "1,\u00a02\n", 2, "line 1, column 2: '\\xa02' (only ASCII"),
    ("quoted.csv", '"1","2"\n', 2, "line 1, column 1: '\"1\"' is not a number"),
    ("hex.csv", "0x10\n", 1, "line 1, column 1: '0x10' is not a number"),
    ("inline_comment.csv", "1,2 # note\n", 2, "line 1, column 2: '2 # note' is not a number"),
    ("semicolons.csv", "1;2\n", 2, "line 1, column 1: '1;2' is not a number"),
    ("long_field.csv", "1," + "9" * 30 + "x" * 30 + "\n", 2, "'" + "9" * 30 + "x" * 10 + "...'"),
    ("too_many_columns.csv", "1,2,3\n", 2, "has 3 columns, the model has d = 2 variables"),
    ("header_too_wide.csv", "x,y\n1,2\n", 1, "has 2 columns, the model has d = 1 variable"),
    ("empty.csv", "", 1, "holds no data rows"),
    ("header_only.csv", "x,y\n", 2, "holds no data rows"),
    ("comments_only.csv", "# nothing\n\n", 2, "holds no data rows"),
    ("latin1.csv", b"1,2\n\xb5,3\n", 2, "line 2: byte 0xb5 is not UTF-8"),
    ("binary.csv", b"\x00\xff\xfe", 1, "line 1: byte 0xff is not UTF-8"),
    ("saved_npy.csv", npy_bytes(numpy.zeros((2, 2))), 2, "is a NumPy .npy file"),
    # .npy that loads
    ("float64.npy", numpy.array([[1.5, 2.0], [3.0, 4.0]]), 2, [[1.5, 2], [3, 4]]),
    ("int64.npy", numpy.array([[1, 2], [3, 4]]), 2, [[1, 2], [3, 4]]),
    ("uint8.npy", numpy.array([[255]], dtype=numpy.uint8), 1, [[255]]),
    ("float32.npy", numpy.array([[0.5, 0.25]], dtype=numpy.float32), 2, [[0.5, 0.25]]),
    ("one_d.npy", numpy.array([1.0, 2.0, 3.0]), 1, [[1], [2], [3]]),
    ("column.npy", numpy.array([[1.0], [2.0]]), 1, [[1], [2]]),
    ("fortran.npy", numpy.asfortranarray([[1.0, 2.0], [3.0, 4.0]]), 2, [[1, 2], [3, 4]]),
    ("big_endian.npy", numpy.array([[1.0, -2.0]], dtype=">f8"), 2, [[1, -2]]),
    ("nan.npy", numpy.array([[NAN, INF]]), 2, [[NAN, INF]]),
    ("upper.NPY", numpy.array([[7.0]]), 1, [[7]]),
    # .npy refused
    ("complex.npy", numpy.array([[1 + 2j]]), 1,
     "holds complex numbers (dtype complex128), not real numbers"),
    ("bool.npy", numpy.array([[True]]), 1, "holds booleans (dtype bool), not real numbers"),
    ("text.npy", numpy.array([["1.0"]]), 1, "holds text (dtype <U3), not real numbers"),
    ("bytes.npy", numpy.array([[b"1.0"]]), 1, "holds bytes (dtype |S3), not real numbers"),
    ("dates.npy", numpy.array([["2024-01-01"]], dtype="datetime64[D]"), 1, "holds dates"),
    ("objects.npy", numpy.array([[1.0, None]], dtype=object), 2,
     "holds Python objects (dtype object), not numbers"),
    ("structured.npy", STRUCTURED, 2, "holds a structured array (fields 'a', 'b')"),
    ("scalar.npy", numpy.array(3.0), 1, "holds a single value (a 0-d array)"),
    ("cube.npy", numpy.zeros((2, 2, 2)), 2, "holds a 3-d array of shape (2, 2, 2)"),
    ("one_d_for_two.npy", numpy.zeros(4), 2, "holds a 1-d array of 4 values"),
    ("wide.npy", numpy.zeros((5, 3)), 2, "has 3 columns, the model has d = 2 variables"),
    ("no_rows.npy", numpy.zeros((0, 2)), 2, "holds no data rows"),
    ("text_named.npy", "1,2\n", 2, "is not a readable .npy file"),
    ("truncated.npy", npy_bytes(numpy.zeros((100, 2)))[:-8], 2, "is not a readable .npy file"),
    # not a file
    ("missing.csv", MISSING, 1, "no such file: "),
    ("folder.csv", FOLDER, 1, "is a directory, not a data file"),
    ("folder.npy", FOLDER, 1, "is a directory, not a data file"),
]


@pytest.mark.parametrize("name, content, d, expected", CASES,
                         ids=[case[0] for case in CASES])
def test_load_points(tmp_path, name, content, d, expected):
    path = tmp_path / name
    create(path, content)
    if isinstance(expected, str):
        with pytest.raises(ScoresymInputError) as caught:
            load_points(path, d)
        message = str(caught.value)
        assert expected in message
        assert message.startswith("--data: ") and str(path) in message
        assert "\n" not in message
    else:
        points = load_points(path, d)
        assert points.dtype == numpy.float64 and points.shape == (len(expected), d)
        numpy.testing.assert_array_equal(points, numpy.array(expected, dtype=float))


def test_the_option_named_leads_the_message(tmp_path):
    with pytest.raises(ScoresymInputError, match=r"^--samples: no such file: "):
        load_points(tmp_path / "nope.csv", 1, what="--samples")


@pytest.mark.parametrize("error, fragment", [
    (PermissionError(13, "Permission denied"), "cannot read {path}: permission denied"),
    (OSError(5, "Input/output error"), "cannot read {path}: Input/output error"),
])
def test_os_errors_are_one_line(monkeypatch, tmp_path, error, fragment):
    """Simulated, since the tests may run as root, who may read anything."""
    path = tmp_path / "x.csv"
    path.write_text("1\n")

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(datafiles, "open", refuse, raising=False)
    with pytest.raises(ScoresymInputError) as caught:
        load_points(path, 1)
    assert str(caught.value) == "--data: " + fragment.format(path=path)


@pytest.mark.parametrize("d", [0, -1, 1.0, True, "2"])
def test_d_must_be_a_positive_integer(tmp_path, d):
    path = tmp_path / "x.csv"
    path.write_text("1\n")
    with pytest.raises(ScoresymInputError, match="d must be a positive integer"):
        load_points(path, d)


POINTS = st.integers(1, 4).flatmap(lambda d: arrays(
    numpy.float64, st.tuples(st.integers(1, 20), st.just(d)),
    elements=st.floats(allow_nan=True, allow_infinity=True, width=64)))


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(points=POINTS, header=st.booleans())
def test_savetxt_output_round_trips_exactly(tmp_path, points, header):
    path = tmp_path / "points.csv"
    names = ",".join(f"x{j}" for j in range(points.shape[1])) if header else ""
    numpy.savetxt(path, points, delimiter=",", fmt="%.17g", header=names, comments="")
    loaded = load_points(path, points.shape[1])
    numpy.testing.assert_array_equal(loaded, points)  # NaN where NaN
    finite = ~numpy.isnan(points)
    assert (numpy.signbit(loaded[finite]) == numpy.signbit(points[finite])).all()  # -0.0


def test_loading_is_linear_time(tmp_path):
    """200 000 rows well within seconds (1e6 rows take about a second); a guard against a
    quadratic slip, generous for slow machines."""
    path = tmp_path / "big.csv"
    points = numpy.random.default_rng(0).standard_normal((200_000, 2))
    numpy.savetxt(path, points, delimiter=",", fmt="%.17g", header="x,y", comments="")
    start = time.perf_counter()
    loaded = load_points(path, 2)
    assert time.perf_counter() - start < 5
    assert (loaded == points).all()
