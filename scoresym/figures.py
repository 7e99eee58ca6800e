"""Figures for papers: each function returns a matplotlib Figure; ``write_all`` saves them all.

Invariant: one style (``STYLE``: the Okabe-Ito colour-blind-safe palette, mathtext labels,
small serif fonts), every random draw from ``numpy.random.default_rng(seed)``, and files saved
without timestamps, so the same seed gives the same figures (the panels that show measured
training times excepted). ``quick=True`` shrinks sample sizes and training for tests.

>>> fig = stein_running_means(n=2000, seed=0)
>>> len(fig.axes)
1
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import autograd
import autograd.numpy as anp
import matplotlib
import matplotlib.ticker
import numpy as np
import scipy.optimize
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import nets, zoo
from .checks.fisher import check_fisher
from .checks.langevin import MIXTURE, check_mode_weight, check_two_sample, langevin_draws
from .checks.stein import stein_sides
from .estimate import fit
from .langevin import LADDER
from .losses import dsm_loss, esm_loss, geometric_sigmas, loss_gradient, ncsn_loss, ssm_loss
from .outputs import atomic_file, output_folder
from .randomness import independent_seeds
from .studies import replicate, sweep
from .symbolic.fields import vector_field

#: Okabe-Ito, safe for the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
STYLE = {
    "font.family": "serif", "font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9,
    "legend.fontsize": 8, "xtick.labelsize": 8, "ytick.labelsize": 8, "mathtext.fontset": "cm",
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE), "axes.spines.top": False,
    "axes.spines.right": False, "figure.dpi": 150, "savefig.dpi": 200, "lines.linewidth": 1.4,
    "svg.hashsalt": "scoresym",
}
SIGMAS = (0.1, 0.3, 0.5, 1.0, 2.0)
PROJECTIONS = (1, 2, 4, 8)


def new_figure(**options) -> Figure:
    """A Figure with constrained layout on an Agg canvas: it needs no display and touches no
    global matplotlib state (pyplot is never imported, the backend never switched).

    >>> fig = new_figure(figsize=(2, 2))
    >>> type(fig.canvas).__name__, type(fig.get_layout_engine()).__name__, fig.axes
    ('FigureCanvasAgg', 'ConstrainedLayoutEngine', [])
    """
    fig = Figure(layout="constrained", **options)
    FigureCanvasAgg(fig)
    return fig


@contextmanager
def style():
    """The package's figure style, for your own figures too: matplotlib's rc parameters set to
    ``STYLE`` inside the block, restored after it.

    >>> before = dict(matplotlib.rcParams)
    >>> with style():
    ...     matplotlib.rcParams["font.family"], matplotlib.rcParams["font.size"]
    (['serif'], 9.0)
    >>> dict(matplotlib.rcParams) == before
    True
    """
    with matplotlib.rc_context(STYLE):
        yield


# --- a small score network (scoresym.nets) ------------------------------------------------------

def train_score_network(X, loss: str = "dsm", sigma: float = 0.3, steps: int = 1500,
                        batch: int = 256, seed=0, width: int = 64,
                        callback=None) -> nets.TrainResult:
    """Train a d-width-width-d SiLU MLP score network on data X by ESM (exact trace) or DSM at
    ``sigma`` with :func:`scoresym.nets.train` (Adam, step 3e-3, minibatches of ``batch``;
    ``callback(step, params, loss)`` after every step, e.g. to keep a learning curve).
    Per minibatch it minimizes, over the network's weights, with s the network's output,

        ESM: mean 1/2 ||s(x)||^2 + tr grad_x s(x),
        DSM: mean 1/2 ||s(x + sigma eps) + eps/sigma||^2,   eps ~ N(0, I).

    >>> X = zoo.get("gaussian_mixture_2d").sample(200, seed=0)
    >>> r = train_score_network(X, "esm", steps=5, batch=64, width=8)
    >>> r.losses.shape, [W.shape for W, b in r.params]
    ((5,), [(2, 8), (8, 8), (8, 2)])
    """
    field = nets.score_network()
    if loss == "esm":
        def objective(p, rows, rng):
            return esm_loss(field, rows, params=p)
    else:
        def objective(p, rows, rng):
            return dsm_loss(field, rows, sigma, seed=rng, params=p)
    d = X.shape[1]
    start = nets.init(seed, [d, width, width, d], scale="normal")
    return nets.train(objective, start, X, steps=steps, step_size=3e-3, batch_size=batch,
                      seed=seed, callback=callback)


def network_fisher(params, builtin, X) -> float:
    """1/2 E ||s_net - s_true||^2 over the points X (samples from the data): the mean over
    the rows of X of 1/2 ||apply(params, x) - grad_x log p(x; truth)||^2.

    >>> b = zoo.get("gaussian_1d")
    >>> X = b.sample(100, seed=0)
    >>> zero = [(np.zeros((1, 1)), np.zeros(1))]          # a network whose output is 0
    >>> s = (b.truth["mu"] - X[:, 0]) / b.truth["s2"]     # the true score
    >>> bool(np.isclose(network_fisher(zero, b, X), 0.5 * np.mean(s**2)))
    True
    """
    true = builtin.model.compiled().score(X, **builtin.truth)
    return float(0.5 * np.mean(np.sum((nets.apply(params, X) - true) ** 2, axis=1)))


# --- the figures ----------------------------------------------------------------------------------

def _mixture_grid(builtin, size: int = 120):
    x1 = np.linspace(-4.5, 4.5, size)
    x2 = np.linspace(-3.5, 4.0, size)
    G1, G2 = np.meshgrid(x1, x2)
    points = np.column_stack([G1.ravel(), G2.ravel()])
    density = np.exp(builtin.model.compiled().log_density(points, **builtin.truth))
    return G1, G2, density.reshape(G1.shape)


def _quiver(ax, builtin, field, title):
    G1, G2, density = _mixture_grid(builtin)
    ax.contourf(G1, G2, density, levels=12, cmap="Blues", alpha=0.8)
    a1, a2 = np.meshgrid(np.linspace(-4, 4, 17), np.linspace(-3, 3.5, 14))
    arrows = np.column_stack([a1.ravel(), a2.ravel()])
    S = field(arrows)
    norm = np.maximum(1.0, np.linalg.norm(S, axis=1, keepdims=True))
    S = S / norm
    ax.quiver(arrows[:, 0], arrows[:, 1], S[:, 0], S[:, 1], color=PALETTE[1], scale=25,
              width=0.004)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=title, aspect="equal")


def score_field(trained=None, seed=0, quick: bool = False):
    """The 2-D Gaussian mixture: density contours with the symbolic score as arrows, beside the
    score an MLP learned by DSM (sigma = 0.3).

    Left: s(x) = grad_x log p(x) of ``zoo.gaussian_mixture_2d`` at its truth; right: the
    network's s_net(x), titled with its Fisher divergence 1/2 E ||s_net - s||^2
    (:func:`network_fisher`); arrows longer than 1 are scaled to length 1. (No example: it
    trains a network unless ``trained`` is given.)
    """
    b = zoo.get("gaussian_mixture_2d")
    X = b.sample(2000 if quick else 8000, seed=seed)
    trained = trained or train_score_network(X, "dsm", 0.3, steps=200 if quick else 2000,
                                             seed=seed)
    score = b.model.compiled().score
    with style():
        fig = new_figure(figsize=(7.0, 3.0))
        axes = fig.subplots(1, 2)
        _quiver(axes[0], b, lambda P: score(P, **b.truth),
                r"symbolic score $\nabla_x \log p(x)$")
        fisher = network_fisher(trained.params, b, b.sample(4000, seed=seed + 1))
        _quiver(axes[1], b, lambda P: nets.apply(trained.params, P),
                rf"DSM-trained MLP, $\sigma = 0.3$ (Fisher div. {fisher:.3f})")
    return fig


def hyvarinen_terms(seed=0, n: int = 100):
    """Seed 002's picture: for n standard-normal samples and mu = 0, the "Hessian" term
    mean(-1/s2), the "Norm" term mean(x^2)/(2 s2^2) and the objective as functions of s2, the
    minimum at s2 = mean(x^2), the biased sample variance about the known mean 0:

        J(s2) = -1/s2 + mean(x^2) / (2 s2^2),   dJ/ds2 = 0  at  s2 = mean(x^2).

    >>> fig = hyvarinen_terms(seed=0, n=100)
    >>> s2, objective = fig.axes[0].get_lines()[2].get_data()
    >>> X = zoo.get("gaussian_1d").sample(100, seed=0, params={"mu": 0.0, "s2": 1.0})
    >>> bool(abs(s2[np.argmin(objective)] - np.mean(X**2)) < 0.01)   # within the grid step
    True
    """
    b = zoo.get("gaussian_1d")
    X = b.sample(n, seed=seed, params={"mu": 0.0, "s2": 1.0})
    s2 = np.linspace(0.25, 3.0, 300)
    hessian, norm = _terms(b.model, X, s2)
    best = float(np.mean(X**2))
    with style():
        fig = new_figure(figsize=(4.2, 3.0))
        ax = fig.subplots()
        ax.plot(s2, hessian, label=r"Hessian term $-1/\sigma^2$")
        ax.plot(s2, norm, label=r"Norm term $\overline{x^2}/(2\sigma^4)$")
        ax.plot(s2, hessian + norm, color=PALETTE[6], label="objective")
        ax.axvline(best, color=PALETTE[2], linestyle="--",
                   label=rf"minimum $\sigma^2 = \overline{{x^2}} = {best:.3f}$")
        ax.set(xlabel=r"$\sigma^2$ (with $\mu = 0$)", ylabel="value",
               title=f"score-matching objective, {n} samples from N(0, 1)", ylim=(-4.5, 4.5))
        ax.legend(frameon=False)
    return fig


def _terms(model, X, s2_values):
    f = model.compiled()
    hessian = np.array([np.mean(f.laplacian(X, mu=0.0, s2=v)) for v in s2_values])
    norm = np.array([np.mean(0.5 * f.score(X, mu=0.0, s2=v)[:, 0] ** 2) for v in s2_values])
    return hessian, norm


def hyvarinen_animation(path, seed=0, n: int = 100, frames: int = 40) -> Path:
    """The same as an animated GIF over s2: the density with the data (left), the two terms and
    the objective as bars (right).

    Frame k shows N(0, s2_k) over the data and the bars -1/s2_k, mean(x^2)/(2 s2_k^2) and
    their sum J(s2_k), for ``frames`` values of s2 from 0.3 to 3. (No example: it writes a
    GIF file.)
    """
    from matplotlib.animation import FuncAnimation, PillowWriter

    b = zoo.get("gaussian_1d")
    X = b.sample(n, seed=seed, params={"mu": 0.0, "s2": 1.0})
    grid = np.linspace(0.3, 3.0, frames)
    hessian, norm = _terms(b.model, X, grid)
    x = np.linspace(-4, 4, 300)
    with style():
        fig = new_figure(figsize=(6.4, 2.8))
        (left, right) = fig.subplots(1, 2)
        line, = left.plot([], [], color=PALETTE[0])
        left.plot(X[:, 0], np.zeros(n), "|", color=PALETTE[1], markersize=10)
        left.set(xlim=(-4, 4), ylim=(0, 0.8), xlabel="$x$", ylabel="density")
        bars = right.bar(["Hessian", "Norm", "objective"], [0, 0, 0],
                         color=[PALETTE[0], PALETTE[1], PALETTE[6]])
        right.axhline(0, color="0.5", linewidth=0.8)
        right.set(ylim=(-3.5, 6.5), ylabel="value")

        def draw(k):
            s2 = grid[k]
            line.set_data(x, np.exp(-x**2 / (2 * s2)) / np.sqrt(2 * np.pi * s2))
            for bar, value in zip(bars, (hessian[k], norm[k], hessian[k] + norm[k])):
                bar.set_height(value)
            left.set_title(rf"$\sigma^2 = {s2:.2f}$")
            return [line, *bars]

        animation = FuncAnimation(fig, draw, frames=frames, blit=False)
        animation.save(str(path), writer=PillowWriter(fps=8))
    return Path(path)


def _fit_by_loss(builtin, X, loss, start, **options) -> dict:
    """Minimize a loss over the model's parameters with its autograd gradient (L-BFGS-B)."""
    names = list(start)

    def value_and_gradient(theta):
        params = dict(zip(names, theta))
        value = loss(builtin.model, X, **options, **params)
        gradient = loss_gradient(loss, builtin.model, X, params, **options)
        return value, np.array([gradient[k] for k in names])

    found = scipy.optimize.minimize(value_and_gradient, np.array(list(start.values())),
                                    jac=True, method="L-BFGS-B")
    return dict(zip(names, found.x)), float(found.fun)


def dsm_noise_levels(seed=0, quick: bool = False, parallel: bool = False):
    """Seed 001, exercise 2: the mixture's parameters fitted by DSM at each noise level; the
    final DSM loss and the Fisher divergence of the fitted model from the data (quadrature).
    ``parallel``: the levels as Dask tasks (:func:`scoresym.studies.sweep`), the same figure.

    For each sigma in ``SIGMAS``: theta_sigma = argmin_theta DSM(theta; sigma) (L-BFGS-B with
    the autograd gradient), and 1/2 E_p ||s(x; theta_sigma) - grad log p(x)||^2 under the
    true mixture p. (No example: several fits and quadratures, seconds.)
    """
    b = zoo.get("gaussian_mixture_2d")
    data_seed, noise_seed = independent_seeds(seed, 2)   # the noise is not the data's draws
    X = b.sample(1000 if quick else 4000, seed=data_seed)
    start = {k: 0.8 * v + 0.1 for k, v in b.truth.items()}

    def at_level(sigma):  # a SeedSequence gives the same noise at every call: a fixed loss
        fitted, value = _fit_by_loss(b, X, dsm_loss, start, sigma=sigma, seed=noise_seed,
                                     antithetic=True)
        return value, check_fisher(b.model, b.truth, b.model, fitted,
                                   method="quad").details["explicit"]

    losses, fishers = zip(*sweep(at_level, SIGMAS, parallel))
    with style():
        fig = new_figure(figsize=(4.2, 3.0))
        ax = fig.subplots()
        ax.plot(SIGMAS, fishers, "o-", label="Fisher divergence of the fit")
        ax.set(xscale="log", yscale="log", xlabel=r"noise level $\sigma$",
               ylabel="Fisher divergence to the data",
               title="DSM on the 2-D mixture: the fit matches $q_\\sigma$")
        twin = ax.twinx()
        twin.plot(SIGMAS, losses, "s--", color=PALETTE[1], label="final DSM loss")
        twin.set(yscale="log", ylabel="final DSM loss")
        twin.spines["right"].set_visible(True)
        handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
        ax.legend(handles, [h.get_label() for h in handles], loc="upper center",
                  bbox_to_anchor=(0.62, 1.0), frameon=False)
    return fig


def ssm_projections(seed=0, quick: bool = False, parallel: bool = False):
    """Seed 001, exercise 3: the 3-D full-precision Gaussian fitted by SSM with M projections:
    the error against the ESM closed form and the fitting time, over several data sets
    (``parallel``: the data sets as Dask tasks, :func:`scoresym.studies.replicate`).

    For each M in ``PROJECTIONS``: max_k abs(theta_SSM(M)_k - theta_ESM_k) and the seconds of
    the SSM fit, mean +- 2 standard errors over the data sets. (No example: many fits.)
    """
    b = zoo.get("gaussian_full_3d")
    repeats = 2 if quick else 5

    def one_data_set(replication) -> tuple:
        data_seed, projection_seed = independent_seeds(replication, 2)
        X = b.sample(300 if quick else 1000, seed=data_seed)
        exact = fit(b.model, X).params
        errors, seconds = [], []
        for M in PROJECTIONS:
            start = time.perf_counter()
            fitted, _ = _fit_by_loss(b, X, ssm_loss, dict(b.truth), n_projections=M,
                                     seed=projection_seed)
            seconds.append(time.perf_counter() - start)
            errors.append(max(abs(fitted[k] - exact[k]) for k in exact))
        return errors, seconds

    rows = replicate(one_data_set, repeats, seed, parallel)
    errors, seconds = (np.array([row[i] for row in rows]) for i in (0, 1))
    with style():
        fig = new_figure(figsize=(6.4, 2.8))
        (a, c) = fig.subplots(1, 2)
        for ax, values, label in ((a, errors, "max |SSM - ESM| over parameters"),
                                  (c, seconds, "fitting time (s)")):
            mean = values.mean(axis=0)
            se = values.std(axis=0, ddof=1) / np.sqrt(repeats)
            ax.errorbar(PROJECTIONS, mean, yerr=2 * se, fmt="o-", capsize=3)
            ax.set(xscale="log", xticks=PROJECTIONS, xticklabels=PROJECTIONS,
                   xlabel="projections $M$", ylabel=label)
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        a.set(yscale="log", title="accuracy (mean $\\pm$ 2 SE)")
        c.set(title="time (this machine)")
    return fig


def _gauss_hermite(d: int, order: int) -> tuple:
    """Nodes (k, d) and weights (k,) of the tensor Gauss-Hermite rule for N(0, I_d)."""
    import itertools

    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    weights = weights / weights.sum()
    grid = np.array(list(itertools.product(nodes, repeat=d)))
    return grid, np.prod(np.array(list(itertools.product(weights, repeat=d))), axis=1)


def dsm_gradient_gap(builtin, X, sigma: float, order: int = 12) -> np.ndarray:
    """grad_theta of the DSM objective minus that of ESM, on the points X, with the expectation
    over eps taken by Gauss-Hermite quadrature (no noise: the gap shows its sigma^2 bias):

        grad_theta E_eps[mean_i 1/2 ||s(x_i + sigma eps) + eps/sigma||^2] - grad_theta ESM,

    at ``builtin.truth``. For the 1-D Gaussian it is exactly (0, -sigma^2 / s2^3):

    >>> b = zoo.get("gaussian_1d")                         # s2 = 2: -sigma^2 / 8
    >>> gap = dsm_gradient_gap(b, b.sample(100, seed=0), 0.1, order=8)
    >>> bool(abs(gap[0]) < 1e-12), round(float(gap[1]), 9)
    (True, -0.00125)
    """
    m, names = builtin.model, list(builtin.truth)
    log_density = m.compiled("autograd").log_density
    nodes, weights = _gauss_hermite(m.dim, order)

    def dsm(theta):
        params = dict(zip(names, theta))
        total = 0.0
        for e, w in zip(nodes, weights):
            noisy = X + sigma * e
            s = autograd.grad(lambda Y: anp.sum(log_density(Y, **params)))(noisy)
            total = total + w * anp.mean(0.5 * anp.sum((s + e / sigma) ** 2, axis=1))
        return total

    theta = np.array([builtin.truth[k] for k in names])
    esm = loss_gradient("esm", m, X, builtin.truth)
    return autograd.grad(dsm)(theta) - np.array([esm[k] for k in names])


def dsm_gradient_limit(seed=0, quick: bool = False):
    """Seed 001, exercise 5: the norm of grad DSM - grad ESM in the mixture's parameters
    against sigma, the noise integrated out by Gauss-Hermite quadrature, on all the data and on
    each of five batches: the gap falls like sigma^2.

    Plotted: the norm of the mean over the batches of :func:`dsm_gradient_gap`, and each
    batch's norm, for sigma log-spaced in [0.03, 1], with the slope sigma^2 for reference. (No
    example: seconds of quadrature.)
    """
    b = zoo.get("gaussian_mixture_2d")
    X = b.sample(500 if quick else 4000, seed=seed)
    noise_levels = np.geomspace(0.03, 1.0, 4 if quick else 8)
    batches = np.array_split(X, 5)
    means, per_batch = [], []
    for sigma in noise_levels:
        gaps = np.array([dsm_gradient_gap(b, B, float(sigma), 8 if quick else 12)
                         for B in batches])
        means.append(np.linalg.norm(gaps.mean(axis=0)))
        per_batch.append(np.linalg.norm(gaps, axis=1))
    means = np.array(means)
    with style():
        fig = new_figure(figsize=(4.2, 3.0))
        ax = fig.subplots()
        for k, sigma in enumerate(noise_levels):
            ax.plot(np.full(len(batches), sigma), per_batch[k], ".", color=PALETTE[5],
                    alpha=0.8, label="each batch of data" if k == 0 else None)
        ax.plot(noise_levels, means, "o-",
                label=r"$\|\nabla_\theta J_{DSM} - \nabla_\theta J_{ESM}\|$")
        ax.plot(noise_levels, means[-1] * (noise_levels / noise_levels[-1]) ** 2, "--",
                color=PALETTE[2], label=r"slope $\sigma^2$")
        ax.set(xscale="log", yscale="log", xlabel=r"noise level $\sigma$",
               ylabel="gradient gap", title="DSM approaches ESM as $\\sigma \\to 0$")
        ax.legend(frameon=False, loc="upper left")
    return fig


def esm_against_dsm(trained=None, seed=0, quick: bool = False):
    """Seed 001, exercise 1: MLP score networks trained by ESM and by DSM on the 2-D mixture:
    training time, Fisher divergence to the true score, and the learned fields.

    The Fisher divergence is 1/2 E ||s_net - grad log p||^2 on fresh draws
    (:func:`network_fisher`). Returns the figure and the two training runs. (No example: it
    trains two networks.)
    """
    b = zoo.get("gaussian_mixture_2d")
    X = b.sample(2000 if quick else 8000, seed=seed)
    steps = 200 if quick else 2000
    trained = trained or {}
    runs = {"ESM": trained.get("ESM") or train_score_network(X, "esm", steps=steps, seed=seed),
            "DSM": trained.get("DSM") or train_score_network(X, "dsm", 0.3, steps=steps,
                                                              seed=seed)}
    test = b.sample(4000, seed=seed + 1)
    fishers = {k: network_fisher(v.params, b, test) for k, v in runs.items()}
    with style():
        fig = new_figure(figsize=(7.0, 5.2))
        grid = fig.add_gridspec(2, 2)
        t, f = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
        t.bar(list(runs), [v.seconds for v in runs.values()], color=PALETTE[:2])
        t.set(ylabel="training time (s, this machine)", title=f"{steps} Adam steps")
        f.bar(list(runs), [fishers[k] for k in runs], color=PALETTE[:2])
        f.set(ylabel=r"$\frac{1}{2}\mathbb{E}\,\|s_{net} - \nabla \log p\|^2$",
              title="Fisher divergence to the true score")
        for k, (name, run) in enumerate(runs.items()):
            ax = fig.add_subplot(grid[1, k])
            _quiver(ax, b, lambda P, r=run: nets.apply(r.params, P), f"learned by {name}")
    return fig, runs


def train_ncsn_network(X, sigmas, steps: int = 3000, batch: int = 256, seed=0,
                       width: int = 64) -> nets.TrainResult:
    """A noise-conditional MLP (input [x, log sigma], output / sigma; SiLU, two hidden layers of
    ``width``) trained on X by :func:`scoresym.ncsn_loss` over the ladder ``sigmas``: per
    minibatch, a level sigma_i per row and eps ~ N(0, I),

        mean 1/2 ||sigma_i s(x + sigma_i eps, sigma_i) + eps||^2.

    >>> X = np.random.default_rng(0).standard_normal((100, 2))
    >>> r = train_ncsn_network(X, [1.0, 0.5], steps=5, batch=32, width=8)
    >>> r.losses.shape, [W.shape for W, b in r.params]            # input width d + 1
    ((5,), [(3, 8), (8, 8), (8, 2)])
    """
    field = nets.conditional_score_network()

    def objective(p, rows, rng):
        return ncsn_loss(field, rows, sigmas, params=p, seed=rng)
    d = X.shape[1]
    return nets.train(objective, nets.init(seed, [d + 1, width, width, d]), X, steps=steps,
                      step_size=3e-3, batch_size=batch, seed=seed)


def langevin_samples(trained=None, seed=0, quick: bool = False):
    """Annealed Langevin dynamics on the 0.2/0.8 mixture of the package's checks (ladder 5 ->
    0.5, 20 levels, 100 steps each, step 0.05): exact draws of the mixture noised by the last
    level, the chain run with the symbolic noised score, and the chain run with a
    noise-conditional MLP trained by NCSN on draws of the mixture. Each title gives the first
    component's weight (mean posterior responsibility +- its standard error; exact 0.2) and the
    MMD two-sample p-value against the exact draws. Returns the figure and the training run.

    The weight is mean_i r_1(x_i), r_1 the first component's posterior responsibility under the
    mixture noised by sigma_L (:func:`scoresym.checks.langevin.check_mode_weight`). (No
    example: it trains a network and runs two chains.)
    """
    n, data, steps = (1000, 2000, 300) if quick else (4000, 10_000, 3000)
    sigmas = geometric_sigmas(LADDER["largest"], LADDER["smallest"], LADDER["levels"])
    trained = trained or train_ncsn_network(MIXTURE.sample(data, seed=seed), sigmas, steps,
                                            seed=seed)
    sigma = float(sigmas[-1])
    panels = {rf"exact draws, $\sigma_L = {sigma:g}$": MIXTURE.sample(n, seed=seed + 1,
                                                                       sigma=sigma),
              "Langevin, symbolic score": langevin_draws(n=n, seed=seed + 2)["X"],
              "Langevin, NCSN network": langevin_draws(
                  score=nets.conditional_score_network(), params=trained.params, n=n,
                  seed=seed + 2)["X"]}
    with style():
        fig = new_figure(figsize=(7.2, 2.9))
        axes = fig.subplots(1, 3, sharex=True, sharey=True)
        for ax, (title, X) in zip(axes, panels.items()):
            weight = check_mode_weight(MIXTURE, X, sigma)
            mmd = check_two_sample(MIXTURE, X[:2000], sigma, seed=seed + 3)
            ax.scatter(X[:, 0], X[:, 1], s=1.5, alpha=0.4, color=PALETTE[0], linewidths=0)
            ax.plot(*MIXTURE.means.T, "x", color=PALETTE[1], markersize=6)
            ax.set(xlim=(-6, 6), ylim=(-5, 5.5), aspect="equal", xlabel="$x_1$")
            ax.set_title(f"{title}\n$w_1$ = {weight.lhs:.3f} $\\pm$ {weight.stderr:.3f}, "
                         f"MMD p = {mmd.details['p_value']:.2f}", fontsize=8)
        axes[0].set_ylabel("$x_2$")
        fig.suptitle(f"annealed Langevin, {len(sigmas)} levels {sigmas[0]:g} to {sigma:g}, "
                     f"{LADDER['steps_per_level']} steps each; exact $w_1$ = 0.2; network: "
                     f"{steps} Adam steps of NCSN", fontsize=8)
    return fig, trained


def esm_ssm_cost(seed=0, quick: bool = False, dims=(2, 8, 32, 128), width: int = 128,
                 n: int = 128):
    """Seed 001's point: the time of one loss-and-gradient of a d-width-width-d SiLU score
    network on a batch of n points, by ESM (exact trace: d backward passes) against SSM (one
    projection: one pass) and DSM, as d grows. Best of 3 runs (1 with ``quick``), this
    machine's wall clock. Returns the figure and {loss: [seconds for each d]}.

    >>> fig, seconds = esm_ssm_cost(quick=True, dims=(2, 4), width=8, n=16)
    >>> list(seconds), [len(v) for v in seconds.values()]
    (['ESM (exact trace)', 'SSM (M = 1)', 'DSM'], [2, 2, 2])
    """
    rng = np.random.default_rng(seed)
    field = nets.score_network()
    losses = {"ESM (exact trace)": ("esm", {}), "SSM (M = 1)": ("ssm", {"seed": seed}),
              "DSM": ("dsm", {"sigma": 0.1, "seed": seed})}
    seconds = {name: [] for name in losses}
    for d in dims:
        params = nets.init(seed, [d, width, width, d])
        X = rng.standard_normal((n, d))
        for name, (loss, options) in losses.items():
            best = np.inf
            for _ in range(1 if quick else 3):
                start = time.perf_counter()
                loss_gradient(loss, field, X, params, **options)
                best = min(best, time.perf_counter() - start)
            seconds[name].append(best)
    with style():
        fig = new_figure(figsize=(4.2, 3.0))
        ax = fig.subplots()
        for k, (name, values) in enumerate(seconds.items()):
            ax.plot(dims, values, "o-", color=PALETTE[k], label=name)
        ax.set(xscale="log", yscale="log", xlabel="dimension $d$",
               ylabel="seconds per loss and gradient",
               title=f"MLP {width}-{width}, batch of {n}")
        ax.set_xticks(list(dims), [str(d) for d in dims])
        ax.legend(frameon=False)
    return fig, seconds


def stein_witness_figure(seed=0, quick: bool = False):
    """The Stein witness function xi(t) = E_q[s_p(x) k(x, t) + d/dx k(x, t)] (the optimal test
    function, up to its norm; IMQ kernel) of the model N(0, 1) against data from
    0.75 N(0, 1) + 0.25 N(2.5, 0.5^2), with +-2 standard-error bands: it departs from 0 where
    the data and the model differ. Above: the model's density and the data's histogram.

    The title gives the KSD test's p-value (:func:`scoresym.ksd_test`); the curve is
    :func:`scoresym.ksd.stein_witness` on a grid of t in [-4, 5]. (No example: it runs the
    KSD test with its bootstrap on n = 4000 points, 1000 with ``quick=True``.)
    """
    from .ksd import ksd_test, stein_witness

    rng = np.random.default_rng(seed)
    n = 1000 if quick else 4000
    bump = rng.random(n) < 0.25
    X = np.where(bump, rng.normal(2.5, 0.5, n), rng.normal(0.0, 1.0, n))[:, None]
    b = zoo.get("gaussian_1d")
    params = {"mu": 0.0, "s2": 1.0}
    T = np.linspace(-4, 5, 181)[:, None]
    xi, se = stein_witness(b.model, params, X, T)
    test = ksd_test(b.model, params, X, seed=seed)
    with style():
        fig = new_figure(figsize=(4.6, 4.0))
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1, 1.3])
        top.hist(X[:, 0], bins=60, density=True, color=PALETTE[5], alpha=0.6, label="data")
        top.plot(T[:, 0], np.exp(-T[:, 0] ** 2 / 2) / np.sqrt(2 * np.pi), color=PALETTE[0],
                 label="model $N(0, 1)$")
        top.set(ylabel="density")
        top.legend(frameon=False)
        bottom.plot(T[:, 0], xi[:, 0], color=PALETTE[1], label=r"$\xi(t)$")
        bottom.fill_between(T[:, 0], xi[:, 0] - 2 * se[:, 0], xi[:, 0] + 2 * se[:, 0],
                            color=PALETTE[1], alpha=0.25, linewidth=0)
        bottom.axhline(0.0, color=PALETTE[6], linestyle=":")
        bottom.set(xlabel="$t$", ylabel="Stein witness",
                   title=f"KSD test (IMQ), n = {n}: p = {test.p_value:.3g}")
    return fig


def stein_running_means(n: int = 20_000, seed=0):
    """Stein's identity by Monte Carlo for the 1-D Gaussian and g = x^2 + x: running means of
    both sides with +-2 standard-error bands.

    Over the first k draws from N(0.5, 2), mean g(x) s(x) and mean -g'(x), which both tend to
    E[g s] = -E[g'] = -(1 + 2 mu) = -2.

    >>> fig = stein_running_means(n=2000, seed=0)
    >>> lhs, rhs, exact = fig.axes[0].get_lines()
    >>> exact.get_label(), bool(abs(lhs.get_ydata()[-1] + 2) < 0.3 and
    ...                         abs(rhs.get_ydata()[-1] + 2) < 0.3)
    ('exact -2', True)
    """
    b = zoo.get("gaussian_1d")
    X = b.sample(n, seed=seed)
    sides = stein_sides(b.model, vector_field(b.model, None))(X, **b.truth)
    lhs, rhs = sides[:, 0], -sides[:, 1]
    k = np.arange(1, n + 1)
    shown = np.unique(np.geomspace(10, n, 400).astype(int)) - 1  # log-spaced: small files
    with style():
        fig = new_figure(figsize=(4.2, 3.0))
        ax = fig.subplots()
        for values, label, colour in ((lhs, r"$\mathbb{E}[g\,s]$", PALETTE[0]),
                                      (rhs, r"$-\mathbb{E}[g']$", PALETTE[1])):
            mean = np.cumsum(values) / k
            square = np.cumsum(values**2) / k
            se = np.sqrt(np.maximum(square - mean**2, 0) / np.maximum(k - 1, 1))
            ax.plot(k[shown], mean[shown], color=colour, label=label)
            ax.fill_between(k[shown], (mean - 2 * se)[shown], (mean + 2 * se)[shown],
                            color=colour, alpha=0.25, linewidth=0)
        exact = -(1 + 2 * b.truth["mu"])
        ax.axhline(exact, color=PALETTE[6], linestyle=":", label=f"exact {exact:g}")
        ax.set(xscale="log", xlabel="samples $n$", ylabel="running mean",
               title=r"Stein: $g(x) = x^2 + x$, $p = N(0.5, 2)$")
        ax.legend(frameon=False)
    return fig


# --- writing them all ---------------------------------------------------------------------------

def save(fig, folder: Path, name: str) -> list:
    """name.pdf and name.png in folder, without timestamps, each written atomically and never
    through a symbolic link (see :mod:`scoresym.outputs`).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = save(new_figure(figsize=(1, 1)), folder, "blank")
    ...     [p.name for p in paths], all(p.stat().st_size > 0 for p in paths)
    (['blank.pdf', 'blank.png'], True)
    """
    metadata = {".pdf": {"CreationDate": None, "ModDate": None}, ".png": {"Software": None}}
    paths = []
    for suffix, meta in metadata.items():
        with atomic_file(folder, name + suffix) as tmp:
            fig.savefig(tmp, metadata=meta)
        paths.append(Path(folder) / (name + suffix))
    return paths


def write_all(folder, quick: bool = False, seed=0) -> list:
    """Every figure (PDF and PNG) and the animation (GIF) in ``folder``; returns the paths.

    The figures of :func:`esm_against_dsm`, :func:`score_field`, :func:`hyvarinen_terms`,
    :func:`hyvarinen_animation`, :func:`dsm_noise_levels`, :func:`ssm_projections`,
    :func:`dsm_gradient_limit`, :func:`stein_running_means`, :func:`langevin_samples`,
    :func:`esm_ssm_cost` and :func:`stein_witness_figure`, with the same ``seed``. (No example:
    it draws every figure, training several networks.)
    """
    folder = output_folder(folder)
    paths = []
    fig, runs = esm_against_dsm(seed=seed, quick=quick)
    paths += save(fig, folder, "esm_vs_dsm")
    paths += save(score_field(runs["DSM"], seed=seed, quick=quick), folder, "score_field")
    paths += save(hyvarinen_terms(seed=seed), folder, "hyvarinen_terms")
    with atomic_file(folder, "hyvarinen_terms.gif") as tmp:
        hyvarinen_animation(tmp, seed=seed, frames=10 if quick else 40)
    paths.append(folder / "hyvarinen_terms.gif")
    paths += save(dsm_noise_levels(seed=seed, quick=quick), folder, "dsm_noise_levels")
    paths += save(ssm_projections(seed=seed, quick=quick), folder, "ssm_projections")
    paths += save(dsm_gradient_limit(seed=seed, quick=quick), folder, "dsm_gradient_limit")
    paths += save(stein_running_means(n=2000 if quick else 20_000, seed=seed), folder,
                  "stein_running_means")
    paths += save(langevin_samples(seed=seed, quick=quick)[0], folder, "langevin_samples")
    paths += save(esm_ssm_cost(seed=seed, quick=quick)[0], folder, "esm_ssm_cost")
    paths += save(stein_witness_figure(seed=seed, quick=quick), folder, "stein_witness")
    return paths
