"""Output files: written only inside the folder named, never through a link, atomically."""

import os
import stat

import pytest

from scoresym import outputs
from scoresym.errors import ScoresymInputError
from scoresym.outputs import atomic_file, output_folder, target, write_bytes, write_text


def names_in(folder) -> list:
    return sorted(os.listdir(folder))


# (how a file is written, the name, the bytes it must hold)
WRITERS = [
    ("text", "report.md", lambda folder, name: write_text(folder, name, "# é\n"),
     "# é\n".encode()),
    ("bytes", "data.bin", lambda folder, name: write_bytes(folder, name, b"\x00\xff"),
     b"\x00\xff"),
    ("atomic", "points.csv", lambda folder, name: _write_atomically(folder, name, b"1,2\n"),
     b"1,2\n"),
    ("dotfile", ".hidden", lambda folder, name: write_text(folder, name, "x"), b"x"),
    ("no suffix", "README", lambda folder, name: write_text(folder, name, ""), b""),
]


def _write_atomically(folder, name, data):
    with atomic_file(folder, name) as tmp:
        assert tmp.parent == folder and tmp.name.startswith(f".{name}.tmp-")
        assert tmp.suffix == os.path.splitext(name)[1]
        tmp.write_bytes(data)
    return folder / name


@pytest.mark.parametrize("how, name, write, expected", WRITERS, ids=[w[0] for w in WRITERS])
def test_writing_leaves_exactly_the_file(tmp_path, how, name, write, expected):
    assert write(tmp_path, name) == tmp_path / name
    assert (tmp_path / name).read_bytes() == expected
    assert names_in(tmp_path) == [name]


@pytest.mark.parametrize("name", ["../x.txt", "a/b.txt", "/etc/passwd", "..", ".", "",
                                  "a\\b.txt", "x\0.txt", None])
def test_only_plain_file_names(tmp_path, name):
    with pytest.raises(ScoresymInputError, match="is not a plain file name"):
        write_text(tmp_path / "out", name, "x")
    assert names_in(tmp_path) == []


@pytest.mark.parametrize("write", [
    lambda folder: write_text(folder, "report.md", "evil"),
    lambda folder: write_bytes(folder, "report.md", b"evil"),
    lambda folder: _write_atomically(folder, "report.md", b"evil"),
], ids=["text", "bytes", "atomic"])
def test_a_symbolic_link_in_the_folder_is_refused_and_its_target_untouched(tmp_path, write):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = output_folder(tmp_path / "out")
    (folder / "report.md").symlink_to(victim)
    with pytest.raises(ScoresymInputError,
                       match=f"refusing to write through the symbolic link {folder}/report.md"):
        write(folder)
    assert victim.read_text() == "precious"
    assert names_in(folder) == ["report.md"] and (folder / "report.md").is_symlink()


def _plant_link(folder, name, victim):
    """A symbolic link to victim put at folder/name in one step, as an attacker would."""
    (folder / "planted").symlink_to(victim)
    os.replace(folder / "planted", folder / name)


def test_a_link_that_appears_while_writing_is_refused_at_the_end(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = output_folder(tmp_path / "out")
    with pytest.raises(ScoresymInputError, match="refusing to write through the symbolic link"):
        with atomic_file(folder, "report.md") as tmp:
            tmp.write_text("new")
            _plant_link(folder, "report.md", victim)
    assert victim.read_text() == "precious"
    assert names_in(folder) == ["report.md"]  # the link; no temporary file


def test_a_link_that_slips_past_the_last_check_is_replaced_not_followed(monkeypatch, tmp_path):
    """os.replace renames onto the name: a link planted after the final check is itself
    replaced, and what it points to is untouched."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = output_folder(tmp_path / "out")
    check, calls = outputs.target, []

    def check_then_plant(folder_, name):
        path = check(folder_, name)
        calls.append(name)
        if len(calls) == 2:  # the final check, just before os.replace
            _plant_link(folder, name, victim)
        return path

    write_text(folder, "report.md", "old")
    monkeypatch.setattr(outputs, "target", check_then_plant)
    write_text(folder, "report.md", "new")
    assert victim.read_text() == "precious"
    assert not (folder / "report.md").is_symlink() and (folder / "report.md").read_text() == "new"
    assert names_in(folder) == ["report.md"]


def test_a_folder_at_the_name_is_refused(tmp_path):
    (tmp_path / "report.md").mkdir()
    with pytest.raises(ScoresymInputError, match="report.md: it is a folder"):
        write_text(tmp_path, "report.md", "x")
    assert names_in(tmp_path) == ["report.md"]


@pytest.mark.parametrize("create", [True, False])
def test_out_naming_an_existing_file_is_refused(tmp_path, create):
    path = tmp_path / "report.md"
    path.write_text("keep")
    with pytest.raises(ScoresymInputError, match=f"^--out: {path} exists and is not a folder$"):
        output_folder(path, create=create)
    assert path.read_text() == "keep"


def test_the_folder_may_be_a_symbolic_link_the_user_named(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    folder = output_folder(tmp_path / "link")
    write_text(folder, "a.txt", "through the named link")
    assert (real / "a.txt").read_text() == "through the named link"


def test_a_parent_may_be_a_symbolic_link_the_user_named(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    folder = output_folder(tmp_path / "link" / "new" / "deeper")
    write_text(folder, "a.txt", "x")
    assert (real / "new" / "deeper" / "a.txt").read_text() == "x"


def test_a_dangling_link_as_the_folder_is_refused(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ScoresymInputError, match="is a symbolic link to nothing"):
        output_folder(tmp_path / "link")
    assert not (tmp_path / "nowhere").exists()


def test_the_folder_is_created_with_its_parents_or_only_checked(tmp_path):
    folder = tmp_path / "a" / "b"
    assert output_folder(folder, create=False) == folder and not (tmp_path / "a").exists()
    assert output_folder(folder) == folder and folder.is_dir()
    assert output_folder(folder) == folder  # an existing folder is fine


@pytest.mark.parametrize("create, fragment", [
    (True, "cannot create the folder {folder}: Not a directory"),
    (False, "cannot create the folder {folder}: {file} is not a folder"),
])
def test_a_folder_below_a_file_cannot_be_created(tmp_path, create, fragment):
    file = tmp_path / "file"
    file.write_text("")
    folder = file / "out"
    with pytest.raises(ScoresymInputError) as caught:
        output_folder(folder, what="--figures", create=create)
    assert str(caught.value) == "--figures: " + fragment.format(folder=folder, file=file)


@pytest.mark.parametrize("existing, fragment", [
    (True, "cannot write in the folder {folder}: permission denied"),
    (False, "cannot create the folder {folder}/sub: permission denied"),
])
def test_a_folder_without_write_permission_is_refused_early(monkeypatch, tmp_path, existing,
                                                             fragment):
    """Simulated, since the tests may run as root, who may write anywhere."""
    monkeypatch.setattr(outputs.os, "access", lambda path, mode: False)
    folder = tmp_path if existing else tmp_path / "sub"
    with pytest.raises(ScoresymInputError) as caught:
        output_folder(folder, create=False)
    assert str(caught.value) == "--out: " + fragment.format(folder=tmp_path)


def test_an_empty_folder_name_is_refused():
    with pytest.raises(ScoresymInputError, match="no folder named"):
        output_folder("")


@pytest.mark.parametrize("error", [RuntimeError("figure failed"), KeyboardInterrupt()],
                         ids=["error", "interrupt"])
def test_an_exception_inside_atomic_file_leaves_nothing(tmp_path, error):
    with pytest.raises(type(error)):
        with atomic_file(tmp_path, "figure.png") as tmp:
            tmp.write_bytes(b"half a figure")
            raise error
    assert names_in(tmp_path) == []


def test_an_exception_inside_atomic_file_keeps_the_old_file(tmp_path):
    write_text(tmp_path, "report.md", "old")
    with pytest.raises(RuntimeError):
        with atomic_file(tmp_path, "report.md") as tmp:
            tmp.write_text("half")
            raise RuntimeError
    assert (tmp_path / "report.md").read_text() == "old"
    assert names_in(tmp_path) == ["report.md"]


def test_an_os_error_inside_atomic_file_is_one_line(tmp_path):
    with pytest.raises(ScoresymInputError, match=f"cannot write {tmp_path}/x.png: No space"):
        with atomic_file(tmp_path, "x.png"):
            raise OSError(28, "No space left on device")
    assert names_in(tmp_path) == []


def test_a_missing_folder_is_one_line(tmp_path):
    with pytest.raises(ScoresymInputError, match="cannot write in the folder .*: No such file"):
        write_text(tmp_path / "missing", "a.txt", "x")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_permissions_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = write_text(tmp_path, "a.txt", "x")
        with open(tmp_path / "plain.txt", "w"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == mode


def test_overwriting_replaces_the_file_atomically(tmp_path):
    path = write_text(tmp_path, "report.md", "old content, longer than the new")
    before = path.stat().st_ino
    hard_link = tmp_path / "old.md"
    os.link(path, hard_link)  # a reader holding the old file keeps it whole
    write_text(tmp_path, "report.md", "new")
    assert path.read_text() == "new" and path.stat().st_ino != before
    assert hard_link.read_text() == "old content, longer than the new"
    assert names_in(tmp_path) == ["old.md", "report.md"]


def test_a_library_choosing_its_format_by_suffix_writes_the_right_one(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, _ = plt.subplots()
    for name, magic in [("f.png", b"\x89PNG"), ("f.pdf", b"%PDF")]:
        with atomic_file(tmp_path, name) as tmp:
            fig.savefig(tmp)
        assert (tmp_path / name).read_bytes().startswith(magic)
    plt.close(fig)
    assert names_in(tmp_path) == ["f.pdf", "f.png"]


def test_target_names_the_path_without_writing(tmp_path):
    assert target(tmp_path, "a.txt") == tmp_path / "a.txt"
    assert names_in(tmp_path) == []
