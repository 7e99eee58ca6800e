"""Jupyter display of the main objects: a Model in LaTeX (log f, score, Laplacian), a FitResult
and a KSD test as HTML, each checked against the object's own values (and escaped)."""

import html

import numpy as np
import sympy

import scoresym as ss


def test_a_model_shows_its_log_density_score_and_laplacian_in_latex():
    m = ss.zoo.get("gaussian_full_3d").model
    text = m._repr_latex_()
    assert text.startswith("$$\\begin{aligned}") and text.endswith("\\end{aligned}$$")
    for expr in (m.log_density, m.score, m.laplacian):
        assert sympy.latex(expr) in text


def test_a_model_too_large_to_typeset_says_so():
    xs = sympy.symbols("x1:13", real=True)
    log_f = -sum(sympy.log(sympy.cosh(sum((i + j) * x for j, x in enumerate(xs))))
                 for i in range(12))
    text = ss.Model.from_expression(log_f, list(xs), [], kind="log")._repr_latex_()
    assert "operations: not shown" in text and "\\log f(x_{1}" in text


def test_a_fit_shows_its_table_and_verdict_in_html():
    b = ss.zoo.get("gaussian_1d")
    r = ss.fit(b.model, b.sample(500, seed=0))
    page = r._repr_html_()
    assert page.count("<tr>") == 1 + len(r.params) and "converged = True" in page
    for name, value in r.params.items():
        lo, hi = r.interval(name)
        assert f"<td>{name}</td><td>{value:.6g}</td>" in page and f"{hi:.6g}]" in page


def test_a_ksd_test_shows_its_verdict_escaped():
    b = ss.zoo.get("gaussian_1d")
    X = np.random.default_rng(0).laplace(0.5, 1.0, (300, 1))
    result = ss.ksd_test(b.model, b.truth, X, seed=0)
    page = result._repr_html_()
    assert ">rejected</b>" in page and html.escape(str(result)) in page


def test_a_derivation_and_its_step_checks_show_as_markdown():
    b = ss.zoo.get("gaussian_1d")
    d = ss.derive(b.model)
    results = d.check({"mu": 0.5, "s2": 2.0}, data_params=b.truth)
    assert d._repr_markdown_() == d.to_markdown()
    table = results._repr_markdown_()
    assert table.startswith("| step | claim |") and table.count("\n") == 2 + len(results)
    for r in results:
        assert f"| {r.details['step']} | {r.details['title']} |" in table


def test_a_check_result_shows_its_comparison_as_a_table():
    e = ss.zoo.get("exponential")
    r = ss.check_stein(e.model, e.truth, "1", method="quad")  # fails: p(0) g(0) = 3/2
    page = r._repr_html_()
    assert ">FAILED</b>" in page and html.escape(str(r)) in page
    assert f"<tr><td>{html.escape(r.lhs_label)}</td><td>{r.lhs:.10g}</td></tr>" in page
    assert f"<tr><td>tolerance</td><td>{r.tolerance:.3g}</td></tr>" in page
    mc = ss.check_stein(ss.zoo.get("gaussian_1d").model, {"mu": 0.0, "s2": 1.0}, "x",
                        method="mc", n=500, seed=0)
    assert f"<tr><td>standard error</td><td>{mc.stderr:.3g}</td></tr>" in mc._repr_html_()
