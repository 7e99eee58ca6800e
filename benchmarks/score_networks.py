"""Score networks, NCSN and annealed Langevin dynamics: what they cost and how close they come.

1. The cost of a loss and its parameter gradient for a network as a ``ScoreField`` (params a
   list of arrays) against the same computation written by hand with autograd, for the energy
   network of the issue that asked for it (2-128-128-1, 17,025 weights, its score grad_x E by
   autograd, ESM with the exact trace) and for a 2-128-128-2 score network under ESM, DSM and
   SSM. Wall time, best of 5, n = 1,000.
2. Annealed Langevin dynamics on the 0.2/0.8 Gaussian mixture of the package's checks with its
   exact noised score (derived symbolically): the first component's weight (mean posterior
   responsibility, +- its standard error) under the package's ladder (5 -> 0.5, 20 levels, 100
   steps, step 0.05) and under a ladder ending far below the components' scale (1 -> 0.01, 10
   levels, step 2e-5), and the MMD two-sample p-value against exact draws.
3. A noise-conditional MLP (3-64-64-2, output / sigma) trained by ``ncsn_loss`` on 10,000 draws
   (3,000 Adam steps, step 3e-3, batches of 256): training time, its relative Fisher distance to
   the exact noised score at three levels, and the same Langevin checks with it.

Run: python benchmarks/score_networks.py [--out DIR]     (about 2 minutes)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.misc import flatten

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from report import machine, publish  # noqa: E402

import scoresym as ss  # noqa: E402
from scoresym import nets  # noqa: E402
from scoresym.checks.langevin import (  # noqa: E402
    MIXTURE,
    check_mode_weight,
    check_two_sample,
    langevin_draws,
)
from scoresym.numerics.ad import hessian_trace  # noqa: E402


def best_wall(f, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def energy(params, X):
    """E(x): the 2-128-128-1 network's scalar output per row; its score is grad_x E."""
    return nets.apply(params, X)[:, 0]


def energy_score(X, params):
    return autograd.elementwise_grad(lambda Y: anp.sum(energy(params, Y)))(X)


def hand_esm(params, X):
    """ESM of grad_x E, written by hand with autograd: 1/2 ||s||^2 + tr grad s, the trace by d
    backward passes."""
    def score(Y):
        return energy_score(Y, params)
    trace = hessian_trace(score, X, X.shape[1])
    return anp.mean(0.5 * anp.sum(score(X) ** 2, axis=1) + trace)


def hand_losses(field_params, X, eps, V, sigma):
    """The score network's three losses written by hand with autograd."""
    def esm(p):
        return anp.mean(0.5 * anp.sum(nets.apply(p, X) ** 2, 1)
                        + hessian_trace(lambda Y: nets.apply(p, Y), X, X.shape[1]))

    def dsm(p):
        return anp.mean(0.5 * anp.sum((nets.apply(p, X + sigma * eps) + eps / sigma) ** 2, 1))

    def ssm(p):
        def projected(Y):
            return anp.sum(nets.apply(p, Y) * V, axis=1)
        s = nets.apply(p, X)
        directional = anp.sum(autograd.elementwise_grad(lambda Y: anp.sum(projected(Y)))(X) * V,
                              axis=1)
        return anp.mean(directional + 0.5 * anp.sum(s * V, axis=1) ** 2)
    return {"esm": esm, "dsm": dsm, "ssm": ssm}


def cost_rows(n: int) -> list:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 2))
    rows = []
    params = nets.init(0, [2, 128, 128, 1])
    count = sum(W.size + b.size for W, b in params)
    field = ss.ScoreField(energy_score, name="grad_x of a 2-128-128-1 energy")
    ours = best_wall(lambda: ss.loss_gradient("esm", field, X, params))
    hand = best_wall(lambda: autograd.grad(lambda p: hand_esm(p, X))(params))
    rows.append(("energy network, score grad_x E", count, "ESM", ours, hand))
    params = nets.init(0, [2, 128, 128, 2])
    count = sum(W.size + b.size for W, b in params)
    net, sigma = nets.score_network(), 0.1
    eps = np.random.default_rng(1).standard_normal(X.shape)
    V = np.random.default_rng(2).choice([-1.0, 1.0], size=X.shape)
    hand = hand_losses(params, X, eps, V, sigma)
    options = {"esm": {}, "dsm": {"sigma": sigma, "noise": eps}, "ssm": {"projections": V}}
    for loss in ("esm", "dsm", "ssm"):
        a = ss.loss_gradient(loss, net, X, params, **options[loss])
        b = autograd.grad(hand[loss])(params)
        assert np.allclose(flatten(a)[0], flatten(b)[0], rtol=1e-10, atol=1e-12), loss
        ours = best_wall(lambda k=loss: ss.loss_gradient(k, net, X, params, **options[k]))
        theirs = best_wall(lambda k=loss: autograd.grad(hand[k])(params))
        rows.append(("score network", count, loss.upper(), ours, theirs))
    return rows


def langevin_row(label: str, draws: dict) -> str:
    X, sigma = draws["X"], draws["sigma"]
    weight = check_mode_weight(MIXTURE, X, sigma)
    mmd = check_two_sample(MIXTURE, X[:2000], sigma, seed=5)
    return (f"| {label} | {len(X):,} | {weight.lhs:.4f} +- {weight.stderr:.4f} | "
            f"{(weight.lhs - 0.2) / weight.stderr:+.1f} | {mmd.details['p_value']:.3f} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="points per loss evaluation")
    parser.add_argument("--chain", type=int, default=20_000, help="Langevin chains")
    parser.add_argument("--steps", type=int, default=3000, help="NCSN training steps")
    parser.add_argument("--out", help="folder to write score_networks.md into")
    args = parser.parse_args(argv)
    lines = ["| network | weights | loss | scoresym loss_gradient (s) | hand-written autograd (s)"
             " | ratio |", "|---|---|---|---|---|---|"]
    for name, count, loss, ours, hand in cost_rows(args.n):
        lines.append(f"| {name} | {count:,} | {loss} | {ours:.3f} | {hand:.3f} | "
                     f"{ours / hand:.2f} |")
    lines += ["", f"(n = {args.n:,}, wall time, best of 5; gradients equal to 1e-10)", ""]
    lines += ["| chain | chains | weight of component 1 (exact 0.2) | (weight - 0.2) / SE | "
              "MMD p-value vs exact draws |", "|---|---|---|---|---|"]
    lines.append(langevin_row("exact noised score, ladder 5 -> 0.5 (20 levels, step 0.05)",
                              langevin_draws(n=args.chain, seed=0)))
    lines.append(langevin_row("exact noised score, ladder 1 -> 0.01 (10 levels, step 2e-5)",
                              langevin_draws(n=args.chain, seed=0, largest=1.0, smallest=0.01,
                                             levels=10, step_size=2e-5)))
    sigmas = ss.geometric_sigmas(5.0, 0.5, 20)
    field = nets.conditional_score_network()

    def objective(p, batch, rng):
        return ss.ncsn_loss(field, batch, sigmas, params=p, seed=rng)
    run = nets.train(objective, nets.init(0, [3, 64, 64, 2]), MIXTURE.sample(10_000, seed=0),
                     steps=args.steps, step_size=3e-3, batch_size=256, seed=1)
    lines.append(langevin_row(f"NCSN network ({args.steps} steps), same ladder as the first",
                              langevin_draws(score=field, params=run.params, n=args.chain,
                                             seed=0)))
    fisher = []
    for sigma in (5.0, 1.5, 0.5):
        Y = MIXTURE.sample(5000, seed=3, sigma=sigma)
        net = field.function(Y, np.full((len(Y), 1), sigma), run.params)
        exact = MIXTURE.noised_score(Y, sigma)
        fisher.append(f"{np.mean(np.sum((net - exact) ** 2, 1)) / np.mean(np.sum(exact**2, 1)):.4f}"
                      f" at sigma = {sigma:g}")
    lines += ["", f"NCSN training: {run.seconds:.1f} s wall for {args.steps} steps; relative "
              f"Fisher distance E||s_net - s||^2 / E||s||^2 to the exact noised score: "
              f"{', '.join(fisher)}.", "", f"({machine()})"]
    publish("\n".join(lines) + "\n", args.out, "score_networks.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
