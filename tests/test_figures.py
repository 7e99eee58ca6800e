"""scoresym figures: every file is written, is a valid image and is not blank; the same seed
gives the same figure; each figure function returns a Figure users can restyle."""

import matplotlib.image
import numpy as np
import pytest
from PIL import Image

from scoresym import cli, figures

EXPECTED = ["esm_vs_dsm", "score_field", "hyvarinen_terms", "dsm_noise_levels",
            "ssm_projections", "dsm_gradient_limit", "stein_running_means", "langevin_samples",
            "esm_ssm_cost", "stein_witness"]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("figures")
    assert cli.main(["figures", "--out", str(folder), "--quick", "--seed", "3"]) == 0
    return folder


@pytest.mark.parametrize("name", EXPECTED)
def test_each_figure_is_a_valid_non_blank_pdf_and_png(written, name):
    png, pdf = written / f"{name}.png", written / f"{name}.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 5000
    pixels = matplotlib.image.imread(png)
    assert pixels.ndim == 3 and min(pixels.shape[:2]) > 300
    assert pixels[..., :3].std() > 0.05  # not a blank page
    assert (pixels[..., :3] < 0.5).mean() > 0.005  # some ink


def test_the_animation_is_a_gif_with_frames(written):
    with Image.open(written / "hyvarinen_terms.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 10
        gif.seek(5)
        assert np.asarray(gif.convert("L")).std() > 5


def test_the_same_seed_gives_the_same_figure(tmp_path):
    for k in range(2):
        figures.save(figures.hyvarinen_terms(seed=7), tmp_path, f"terms{k}")
    assert (tmp_path / "terms0.png").read_bytes() == (tmp_path / "terms1.png").read_bytes()
    assert (tmp_path / "terms0.pdf").read_bytes() == (tmp_path / "terms1.pdf").read_bytes()


def test_figure_functions_return_restylable_figures():
    fig = figures.hyvarinen_terms(seed=0, n=50)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("$\\sigma^2$")
    labels = [line.get_label() for line in ax.get_lines()]
    assert any("Hessian" in label for label in labels) and "objective" in labels
    ax.set_title("restyled")
    assert fig.axes[0].get_title() == "restyled"


def test_dsm_gradient_gap_shrinks_like_sigma_squared():
    """The figure's claim, checked: halving sigma quarters the gap (Gauss-Hermite, no noise)."""
    from scoresym import zoo

    b = zoo.get("gaussian_mixture_2d")
    X = b.sample(300, seed=0)
    small, smaller = (np.linalg.norm(figures.dsm_gradient_gap(b, X, s, order=10))
                      for s in (0.05, 0.025))
    assert smaller / small == pytest.approx(0.25, rel=0.1)


def test_the_cost_figure_times_each_loss_at_each_dimension():
    fig, seconds = figures.esm_ssm_cost(quick=True, dims=(2, 4), width=8, n=16)
    assert set(seconds) == {"ESM (exact trace)", "SSM (M = 1)", "DSM"}
    assert all(len(v) == 2 and min(v) > 0 for v in seconds.values())
    assert [line.get_label() for line in fig.axes[0].get_lines()] == list(seconds)
