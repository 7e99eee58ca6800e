"""The Gauss-Bernoulli RBM benchmark of the kernel Stein discrepancy (KSD) papers: the rejection
rate of the KSD test when the model is an RBM (50 visible, 40 hidden units) and the data come
from the same RBM with its weight matrix B perturbed by Gaussian noise of standard deviation
sigma_per in {0, 0.02, 0.04, 0.06} (Liu, Lee and Jordan 2016, section 6; Jitkrittum et al.
2017, "A Linear-Time Kernel Goodness-of-Fit Test", problem ``gbrbm_dx50_dh40``).

On the same data sets (n points each by blocked Gibbs sampling, one data seed per replication),
three tests at alpha = 0.05:

(a) ``kgof``: a NumPy port of the reference code (github.com/wittawatj/kernel-gof,
    ``kgof/ex/ex2_prob_params.py: job_kstein_med``): ``KernelSteinTest`` (V-statistic, wild
    bootstrap with Rademacher weights) with ``KGauss(sigma2 = med^2)``, med the median
    pairwise distance (``util.meddistance(X, subsample=1000)``);
(b) ``ss.ksd_test(kernel="rbf", bandwidth=med)``: the same Gaussian kernel (scoresym's
    exp(-|x-y|^2 / (2 h^2)) with h^2 = sigma2), its U-statistic test;
(c) ``ss.ksd_test`` with its default IMQ kernel (c = 1, beta = -1/2).

sigma_per = 0 measures the type-I error (should be near 5%); the others the power. Reported:
rejection rates with binomial standard errors, how often (a) and (b) agree, and the mean time
per test (wall clock, one BLAS thread per worker). Before the runs the script asserts that
scoresym's score of the model string equals the port of kgof's ``GaussBernRBM.grad_log`` (to
1e-12), that the two log densities differ by a constant, and that scoresym's V-statistic with
the RBF equals kgof's statistic / n.

Most of the time is the Gibbs sampling (2000 burn-in sweeps of n chains per data set, as in
kgof) and kgof's O(n^2 d) Stein kernel; the replications run as Dask tasks on a local cluster
(--workers), each seeded by its own (sigma_per, r), so the table does not depend on the workers.

Run: python benchmarks/ksd_rbm.py                       (R = 40, n = 1000; ~7 minutes on 2 idle
                                                        cores: ~4 s of CPU per data set)
     python benchmarks/ksd_rbm.py --reps 200 --out DIR  (kgof's R; writes DIR/ksd_rbm.md)
     python benchmarks/ksd_rbm.py --reps 4 --n 300      (a quick trial)
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from report import machine, publish  # noqa: E402

import scoresym as ss  # noqa: E402
from scoresym.outputs import atomic_file, output_folder  # noqa: E402
from scoresym.studies import sweep  # noqa: E402

# ---- the settings of kgof/ex/ex2_prob_params.py ------------------------------------------------
DX, DH = 50, 40             # gaussbern_rbm_probs(..., dx=50, dh=40): problem 'gbrbm_dx50_dh40'
KGOF_STDS = [0, 0.01, 0.02, 0.04, 0.06]    # gb_rbm_dx50_dh40_stds; problem i has seed 1000 + i
STDS = [0, 0.01, 0.02, 0.04, 0.06]         # kgof's list for dh = 40 (seeds 1000-1004)
ALPHA = 0.05                # alpha
SAMPLE_SIZE = 1000          # sample_size
BURNIN = 2000               # data.DSGaussBernRBM(B_perturb, b, c, burnin=2000)
N_SIMULATE = 1000           # job_kstein_med: KernelSteinTest(..., n_simulate=1000, seed=r)
TR_PROPORTION = 0.2         # tr_proportion (the KSD test uses tr + te, the whole sample)
MED_SUBSAMPLE = 1000        # util.meddistance(X, subsample=1000)

MODEL = "sum(log(1 + exp(W @ x + c))) - sum((x - b)**2)/2"


# ---- the port of kgof (only what this benchmark needs) -------------------------------------------
# kgof seeds the global generator (np.random.seed(s) in util.NumpySeedContext) and draws with
# np.random.*; here each seed gets its own np.random.RandomState(s), the same legacy (MT19937)
# stream, so the data, test data and bootstrap weights are those kgof would draw.

def gaussbern_rbm_problem(std: float, dx: int = DX, dh: int = DH) -> tuple:
    """(B, b, c, B_perturb): ex2_prob_params.gaussbern_rbm_probs for the std at its index i in
    kgof's list (seed i + 1000; so each perturbation level has its own B, b, c)."""
    rs = np.random.RandomState(KGOF_STDS.index(std) + 1000)
    B = rs.randint(0, 2, (dx, dh)) * 2 - 1.0
    b = rs.randn(dx)
    c = rs.randn(dh)
    B_perturb = B if std <= 1e-8 else B + rs.randn(dx, dh) * std
    return B, b, c, B_perturb


class GaussBernRBM:
    """density.GaussBernRBM: p(x, h) = Z^{-1} exp(0.5 x^T B h + b^T x + c^T h - 0.5 |x|^2), h in
    {-1, 1}^dh; B is dx x dh."""

    def __init__(self, B, b, c):
        self.B, self.b, self.c = B, b, c

    def log_den(self, X):
        XBC = 0.5 * np.dot(X, self.B) + self.c
        return (np.dot(X, self.b) - 0.5 * np.sum(X**2, 1)
                + np.sum(np.log(np.exp(XBC) + np.exp(-XBC)), 1))

    def grad_log(self, X):
        XB = np.dot(X, self.B)
        Y = 0.5 * XB + self.c
        E2y = np.exp(2 * Y)
        Phi = (E2y - 1.0) / (E2y + 1)          # tanh(Y)
        T = np.dot(Phi, 0.5 * self.B.T)
        return self.b - X + T


def sigmoid(x):
    return 1.0 / (1 + np.exp(-x))


def ds_gauss_bern_rbm_sample(B, b, c, n: int, seed: int, burnin: int = BURNIN):
    """data.DSGaussBernRBM(B, b, c, burnin).sample(n, seed): n independent chains of blocked
    Gibbs sampling, started at X ~ N(0, I), H = 1, after burnin + 1 sweeps. (Same arithmetic
    and draws in the same order as kgof's _blocked_gibbs_next; B.T / 2 is taken once, exact.)"""
    rs = np.random.RandomState(seed)
    dx, dh = B.shape
    X = rs.randn(n, dx)
    H = rs.randint(1, 2, (n, dh)) * 2 - 1.0     # all ones (a range of one value draws nothing)
    half_BT, two_c = B.T / 2.0, 2.0 * c
    for _ in range(burnin + 1):
        Ph = sigmoid(np.dot(X, B) + two_c)
        H = (rs.rand(n, dh) <= Ph) * 2 - 1.0
        X = rs.randn(n, dx) + (np.dot(H, half_BT) + b)
    return X


def tr_te_indices(n: int, tr_proportion: float, seed: int) -> tuple:
    """util.tr_te_indices: (Itr, Ite) boolean masks."""
    Itr = np.zeros(n, dtype=bool)
    Itr[np.random.RandomState(seed).choice(n, int(tr_proportion * n), replace=False)] = True
    return Itr, np.logical_not(Itr)


def dist_matrix(X, Y):
    """util.dist_matrix."""
    sx, sy = np.sum(X**2, 1), np.sum(Y**2, 1)
    D2 = sx[:, np.newaxis] - 2.0 * X.dot(Y.T) + sy[np.newaxis, :]
    D2[D2 < 0] = 0
    return np.sqrt(D2)


def meddistance(X, subsample=None):
    """util.meddistance (median pairwise distance, not squared; the mean if the median is 0)."""
    if subsample is None:
        D = dist_matrix(X, X)
        Tri = D[np.tril_indices(D.shape[0], -1)]
        med = np.median(Tri)
        return np.mean(Tri) if med <= 0 else med
    n = X.shape[0]
    ind = np.random.RandomState(9827).choice(n, min(subsample, n), replace=False)
    return meddistance(X[ind, :], None)


class KGauss:
    """kernel.KGauss: k(x, y) = exp(-|x - y|^2 / (2 sigma2))."""

    def __init__(self, sigma2):
        assert sigma2 > 0, f"sigma2 must be > 0. Was {sigma2}"
        self.sigma2 = sigma2

    def eval(self, X, Y):
        sumx2 = np.reshape(np.sum(X**2, 1), (-1, 1))
        sumy2 = np.reshape(np.sum(Y**2, 1), (1, -1))
        D2 = sumx2 - 2 * np.dot(X, Y.T) + sumy2
        return np.exp(-D2 / (2.0 * self.sigma2))

    def gradX_Y(self, X, Y, dim):
        K = self.eval(X, Y)
        Diff = X[:, [dim]] - Y[:, [dim]].T
        return -K * Diff / self.sigma2

    def gradY_X(self, X, Y, dim):
        return -self.gradX_Y(X, Y, dim)

    def gradXY_sum(self, X, Y):
        d = X.shape[1]
        sigma2 = self.sigma2
        D2 = np.sum(X**2, 1)[:, np.newaxis] - 2 * np.dot(X, Y.T) + np.sum(Y**2, 1)
        K = np.exp(-D2 / (2.0 * sigma2))
        return K / sigma2 * (d - D2 / sigma2)


def bootstrapper_rademacher(rs, size):
    """goftest.bootstrapper_rademacher, drawn for all n_simulate replicates at once: the legacy
    randint(0, 2) takes one 32-bit draw per value, so the (n_simulate, n) block is the same
    stream as kgof's n_simulate calls with size n."""
    return 2.0 * rs.randint(0, 1 + 1, size) - 1.0


class KernelSteinTest:
    """goftest.KernelSteinTest: statistic n V_n, V_n = mean of the n x n Stein kernel matrix H;
    p-value = fraction of bootstrap statistics > it; reject if p < alpha."""

    def __init__(self, p, k, alpha=0.01, n_simulate=500, seed=11):
        self.p, self.k, self.alpha, self.n_simulate, self.seed = p, k, alpha, n_simulate, seed

    def perform_test(self, X) -> dict:
        n = X.shape[0]
        _, H = self.compute_stat(X, return_ustat_gram=True)
        test_stat = n * np.mean(H)
        # kgof loops: W = bootstrapper(n); sim_stats[i] = W.dot(H.dot(W / n)). Same W, one
        # matrix product (equal to ~1e-15 relative).
        W = bootstrapper_rademacher(np.random.RandomState(self.seed), (self.n_simulate, n))
        sim_stats = np.einsum("ij,ij->i", W @ H, W) / float(n)
        pvalue = np.mean(sim_stats > test_stat)
        return {"alpha": self.alpha, "pvalue": pvalue, "test_stat": test_stat,
                "h0_rejected": pvalue < self.alpha, "n_simulate": self.n_simulate}

    def compute_stat(self, X, return_ustat_gram=False):
        n, d = X.shape
        k = self.k
        grad_logp = self.p.grad_log(X)
        gram_glogp = grad_logp.dot(grad_logp.T)
        K = k.eval(X, X)
        B = np.zeros((n, n))
        C = np.zeros((n, n))
        for i in range(d):
            grad_logp_i = grad_logp[:, i]
            B += k.gradX_Y(X, X, i) * grad_logp_i
            C += (k.gradY_X(X, X, i).T * grad_logp_i).T
        H = K * gram_glogp + B + C + k.gradXY_sum(X, X)
        stat = n * np.mean(H)
        return (stat, H) if return_ustat_gram else stat


def kgof_data(B_perturb, b, c, n: int, r: int, burnin: int):
    """Ex2Job.compute: data = data_source.sample(n, seed=r), split with seed r + 21; the KSD job
    then uses tr + te (the same points, training rows first)."""
    X = ds_gauss_bern_rbm_sample(B_perturb, b, c, n, seed=r, burnin=burnin)
    Itr, Ite = tr_te_indices(n, TR_PROPORTION, r + 21)
    return np.vstack((X[Itr, :], X[Ite, :]))


def job_kstein_med(p, X, r: int, n_simulate: int) -> tuple:
    """ex2_prob_params.job_kstein_med: (result, med, seconds)."""
    start = time.perf_counter()
    med = meddistance(X, subsample=MED_SUBSAMPLE)
    k = KGauss(med**2)
    result = KernelSteinTest(p, k, alpha=ALPHA, n_simulate=n_simulate, seed=r).perform_test(X)
    return result, med, time.perf_counter() - start


# ---- scoresym -----------------------------------------------------------------------------------

def scoresym_model(dx: int = DX, dh: int = DH):
    return ss.Model.from_string(MODEL, variables="x", params="W c b", kind="log",
                                shapes={"x": (dx,), "W": (dh, dx), "c": (dh,), "b": (dx,)})


def scoresym_params(B, b, c) -> dict:
    """kgof's GaussBernRBM(B, b, c) as the model string. Summing h in {-1, 1}: kgof's
    log p(x) = b.x - |x|^2/2 + sum_j log 2cosh(y_j), y = B^T x / 2 + c; and
    log 2cosh(y) = log(1 + exp(2y)) - y, with 2y = B^T x + 2c and sum_j y_j = (B 1).x / 2 + const.
    So W = B^T, c' = 2c, b' = b - B 1 / 2 (row sums of B), and the two log densities differ by
    the constant sum(c) - |b'|^2 / 2."""
    return {"W": B.T.copy(), "c": 2.0 * c, "b": b - B.sum(axis=1) / 2.0}


def check_model(n: int, burnin: int) -> str:
    """Assert the mapping on data from every perturbation level; a line for the report."""
    m = scoresym_model()
    worst = 0.0
    for std in STDS:
        B, b, c, B_perturb = gaussbern_rbm_problem(std)
        p, params = GaussBernRBM(B, b, c), scoresym_params(B, b, c)
        X = kgof_data(B_perturb, b, c, min(n, 300), 0, min(burnin, 200))
        X = np.vstack((X, 3.0 * X))                         # and points far out
        S, G = m.score(X, **params), p.grad_log(X)
        error = float(np.max(np.abs(S - G)))
        assert error <= 1e-12, f"score differs from kgof's grad_log by {error:.3g}"
        worst = max(worst, error)
        gap = m.log_density(X, **params) - p.log_den(X)
        constant = np.sum(c) - np.sum(params["b"] ** 2) / 2.0
        assert np.max(np.abs(gap - constant)) <= 1e-9 * np.max(np.abs(p.log_den(X))), \
            "log densities do not differ by a constant"
    med = meddistance(X, subsample=MED_SUBSAMPLE)
    kgof_stat = KernelSteinTest(p, KGauss(med**2)).compute_stat(X)
    ours = ss.ksd(m, params, X, kernel="rbf", bandwidth=float(med), statistic="v")
    assert abs(ours - kgof_stat / len(X)) <= 1e-9 * abs(ours), (ours, kgof_stat / len(X))
    return (f"Checked: scoresym's score = kgof's grad_log to {worst:.1e} (max abs, on Gibbs "
            f"draws and 3x them), log densities equal up to a constant, scoresym's V-statistic "
            f"(RBF, h = med) = kgof's statistic / n (relative "
            f"{abs(ours - kgof_stat / len(X)) / abs(ours):.1e}).")


# ---- one replication ----------------------------------------------------------------------------

_CACHE: dict = {}


def replication(task: tuple) -> dict:
    """All three tests on the data set of (std, r)."""
    std, r, n, n_bootstrap, burnin = task
    if "model" not in _CACHE:
        _CACHE["model"] = scoresym_model()
    if std not in _CACHE:
        B, b, c, B_perturb = gaussbern_rbm_problem(std)
        _CACHE[std] = (GaussBernRBM(B, b, c), scoresym_params(B, b, c), B_perturb, b, c)
    p, params, B_perturb, b, c = _CACHE[std]
    start = time.perf_counter()
    X = kgof_data(B_perturb, b, c, n, r, burnin)
    sampled = time.perf_counter() - start
    kgof, med, t_kgof = job_kstein_med(p, X, r, n_bootstrap)
    m = _CACHE["model"]
    start = time.perf_counter()
    rbf = ss.ksd_test(m, params, X, kernel="rbf", bandwidth=float(med),
                      n_bootstrap=n_bootstrap, alpha=ALPHA, seed=r)
    t_rbf = time.perf_counter() - start
    start = time.perf_counter()
    imq = ss.ksd_test(m, params, X, n_bootstrap=n_bootstrap, alpha=ALPHA, seed=r)
    t_imq = time.perf_counter() - start
    return {"std": std, "r": r, "med": med, "sample": sampled,
            "reject": (bool(kgof["h0_rejected"]), rbf.reject, imq.reject),
            "p": (float(kgof["pvalue"]), rbf.p_value, imq.p_value),
            "time": (t_kgof, t_rbf, t_imq)}


def _single_blas_thread() -> None:
    # read by OpenBLAS/MKL/OpenMP when a worker imports NumPy (workers are spawned): the workers
    # then share the cores instead of each running a pool of threads
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"


def rate(k: int, total: int) -> str:
    q = k / total
    return f"{100 * q:.1f} ± {100 * math.sqrt(q * (1 - q) / total):.1f}"


def plot(results: list, path) -> None:
    """Rejection rate against sigma_per for the three tests, +-2 binomial standard errors."""
    import matplotlib.pyplot as plt

    from scoresym.figures import style

    names = ["kgof port (Gauss kernel, V-stat)", "scoresym, same RBF (U-stat)", "scoresym, IMQ"]
    with style():
        fig, ax = plt.subplots(figsize=(4.2, 3.0), constrained_layout=True)
        for j, (name, marker) in enumerate(zip(names, "os^")):
            rates = []
            for std in STDS:
                rows = [x for x in results if x["std"] == std]
                rates.append(np.mean([x["reject"][j] for x in rows]))
            rates = np.array(rates)
            se = np.sqrt(rates * (1 - rates) / max(1, len(results) // len(STDS)))
            ax.errorbar(STDS, rates, yerr=2 * se, marker=marker, capsize=2, label=name)
        ax.axhline(ALPHA, color="0.5", linestyle=":", linewidth=1)
        ax.set(xlabel=r"perturbation $\sigma_{per}$ of $B$", ylabel="rejection rate",
               title="Gauss-Bernoulli RBM, d = 50, n = 1000", ylim=(-0.03, 1.03))
        ax.legend(frameon=False, loc="lower right")
        fig.savefig(path)
        plt.close(fig)


def report(results: list, args, seconds: float, checked: str) -> str:
    names = ["kgof port: KSD, Gauss kernel (V-stat)", "scoresym: RBF, same width (U-stat)",
             "scoresym: IMQ c = 1, beta = -1/2"]
    lines = ["Rejection rate in % (± binomial standard error), alpha = 0.05; model: the "
             "unperturbed RBM, data: the RBM with B + N(0, sigma_per^2) noise.", "",
             "| sigma_per | " + " | ".join(names) + " | (a) = (b) decisions | median width |",
             "|---|---|---|---|---|---|"]
    for std in STDS:
        rows = [x for x in results if x["std"] == std]
        R = len(rows)
        cells = [rate(sum(x["reject"][j] for x in rows), R) for j in range(3)]
        agree = sum(x["reject"][0] == x["reject"][1] for x in rows)
        med = np.mean([x["med"] for x in rows])
        lines.append(f"| {std:g} | " + " | ".join(cells) + f" | {agree}/{R} | {med:.3f} |")
    lines += ["", "| | " + " | ".join(names) + " | Gibbs sampling, one data set |",
              "|---|---|---|---|---|"]
    times = [np.mean([x["time"][j] for x in results]) for j in range(3)]
    sample = np.mean([x["sample"] for x in results])
    lines.append("| mean time (s) | " + " | ".join(f"{t:.3f}" for t in times)
                 + f" | {sample:.2f} |")
    lines += ["", f"R = {args.reps} replications per sigma_per (data seeds r = 0 ... R - 1, as "
              f"kgof), n = {args.n}, {args.bootstrap} bootstrap draws per test, Gibbs burn-in "
              f"{args.burnin}, dx = {DX}, dh = {DH}; kgof's (a) includes its median heuristic. "
              f"Times are wall clock in {args.workers} worker process(es), one BLAS thread "
              f"each; whole run {seconds:.0f} s.", "", checked, "", f"({machine()})"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40,
                        help="replications per sigma_per (kgof: 200; default 40 for ~7 min)")
    parser.add_argument("--n", type=int, default=SAMPLE_SIZE, help="points per data set")
    parser.add_argument("--bootstrap", type=int, default=N_SIMULATE,
                        help="wild-bootstrap draws per test (kgof: 1000)")
    parser.add_argument("--burnin", type=int, default=BURNIN, help="Gibbs burn-in sweeps")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", help="folder to write ksd_rbm.md into")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    checked = check_model(args.n, args.burnin)
    print(checked, file=sys.stderr)
    tasks = [(std, r, args.n, args.bootstrap, args.burnin)
             for r in range(args.reps) for std in STDS]
    if args.workers > 1:  # each task is seeded by its own (sigma_per, r): same results
        _single_blas_thread()
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster):
            results = sweep(replication, tasks, parallel=True)
    else:
        results = sweep(replication, tasks)
    publish(report(results, args, time.perf_counter() - start, checked), args.out, "ksd_rbm.md")
    if args.out:
        with atomic_file(output_folder(args.out), "ksd_rbm.png") as tmp:
            plot(results, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
