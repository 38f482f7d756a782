"""The formula book's pages for the identities of symkl.ml (derivations/ml/): each shows the derivation steps and
the checks' results. Built by `symkl derive --all` (or `--ml` for these pages alone); each page's text is stored
with symkl's code hash (symkl.ml.store), so a rebuild with unchanged code does not redo the quadratures."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

import mpmath
import sympy as sp

from .store import remembered

BOOK_PAGES = {"ml/coding.md": "Coding length: KL(P||Q) as extra bits",
              "ml/distill.md": "Distillation: KL between softmax(z_t/T) and softmax(z_s/T)",
              "ml/estimators.md": "KL estimators k1, k2, k3 of RL fine-tuning",
              "ml/renyi.md": "Rényi divergence through the log-partition",
              "ml/jeffreys.md": "Jeffreys divergence, the symmetrised KL"}
RENYI_POINTS = (("normal(0, 1)", "normal(1, 2)", "1/2"), ("normal(0, 1)", "normal(1, 2)", "3"),
                ("exponential(2)", "exponential(3)", "2"), ("gamma(2, 3)", "gamma(3, 1)", "1/2"),
                ("beta(2, 3)", "beta(4, 3/2)", "1/2"), ("lognormal(0, 1)", "lognormal(1, 2)", "3/10"),
                ("poisson(2)", "poisson(5)", "2"), ("bernoulli(0.7)", "bernoulli(0.4)", "1/2"),
                ("geometric(0.6)", "geometric(0.3)", "2"), ("binomial(5, 0.3)", "binomial(5, 0.6)", "2"),
                ("categorical(0.5, 0.3, 0.2)", "categorical(0.2, 0.3, 0.5)", "2"))
ESTIMATOR_POINTS = (("normal(0, 1)", "normal(1/2, 6/5)"), ("categorical(0.5, 0.3, 0.2)", "categorical(0.2, 0.3, 0.5)"))


def book_pages() -> dict[str, Callable[[], str]]:
    """Relative path -> a builder of each page's Markdown text (stored with symkl's code hash)."""
    builders = {"ml/coding.md": _coding, "ml/distill.md": _distill, "ml/estimators.md": _estimators,
                "ml/renyi.md": _renyi, "ml/jeffreys.md": _jeffreys}
    return {rel: partial(remembered, "page", rel, build) for rel, build in builders.items()}


def _head(rel: str, intro: str) -> list[str]:
    from ..book import HEADER
    return [HEADER, f"# {BOOK_PAGES[rel]}", "", intro, ""]


def _math(expr) -> str:
    return f"$$\n{sp.latex(expr)}\n$$"


def _steps(steps) -> list[str]:
    from ..book import step_lines
    return ["## Derivation", "", *step_lines(steps)]


def _coding() -> str:
    from ..query import cross_entropy, entropy, kl
    from .coding import coding, huffman_can_lose
    from .renyi import same
    lines = _head("ml/coding.md", "Data from P coded with a code built for Q: the ideal length of x is -log2 q(x) "
                  "bits, and its expected excess over the ideal code for P is KL(P||Q) in bits. Real prefix codes "
                  "round the lengths up (Shannon: ceil(-log2 q(x))) or build a tree (Huffman); the theorems they "
                  "satisfy are checked exactly on each example (`symkl coding P Q`).")
    fam = kl("categorical[3]", "categorical[3]").p.family
    cross = cross_entropy(fam, fam, base="2").expr
    own = entropy(fam, base="2").expr.xreplace(dict(zip(fam.symbols(), fam.symbols("_p"))))   # P's symbols
    excess, klb = cross - own, kl(fam, fam, base="2").expr
    verdict = same(excess, klb, fam) or "NOT shown"
    lines += ["## The identity, derived for categorical[3]", "",
              "E_P[-log2 q(X)], the catalog's cross-entropy in bits:", "", _math(cross), "",
              "minus E_P[-log2 p(X)], its entropy in bits:", "", _math(own), "",
              f"equals the catalog's KL(P||Q) in bits, {_latex_inline(klb)}: **{verdict}**.", "",
              "## Theorems checked on each example", "",
              "- Kraft: a prefix code's lengths satisfy sum 2^-l(x) <= 1; Huffman's code is complete (= 1).",
              ("- Shannon code for Q on data from P: H(P) + KL(P||Q) <= E_P[L] < H(P) + KL(P||Q) + 1, since "
              "-log2 q(x) <= l(x) < -log2 q(x) + 1 for each x."),
              "- Any prefix code on data from P: E_P[L] >= H(P); its excess is KL(P||2^-L) plus log2 of 1/(Kraft sum).",
              "- Huffman's code is optimal under Q: H(Q) <= E_Q[L_Huffman] <= E_Q[L_Shannon] < H(Q) + 1.",
              ("- Not a theorem: E_P[L_Huffman(Q)] <= E_P[L_Shannon(Q)]. Huffman's code is optimal for the "
              "distribution it was built for, not for P:"), ""]
    p, q, huff, shan = huffman_can_lose()
    lines += [f"  P = {p}, Q = {q}: E_P[L_Huffman(Q)] = {huff} bits > E_P[L_Shannon(Q)] = {shan} bits.", ""]
    for p, q in (("bernoulli(0.7)", "bernoulli(0.4)"), ("categorical(0.5, 0.25, 0.25)", "categorical(0.25, 0.25, 0.5)"),
                 ("binomial(3, 0.5)", "binomial(3, 0.2)")):
        lines += _coding_example(coding(p, q))
    return "\n".join(lines) + "\n"


def _coding_example(c) -> list[str]:
    from .text import bits_form, number
    lines = [f"## P = {c.p}, Q = {c.q}", "", "| x | p(x) | q(x) | -log2 q(x) | Shannon(Q) | Huffman(Q) |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {s.x} | {s.p} | {s.q} | {mpmath.nstr(_value(s.ideal_q), 8)} | `{s.shannon or '(empty)'}` | "
              f"`{s.huffman or '(empty)'}` |" for s in c.symbols]
    lines += ["", (f"- KL(P||Q) = ${sp.latex(bits_form(c.kl_bits))}$ = {number(c.kl_bits, 15)} bits; equal to the "
                  f"catalog's KL in bits: {c.kl_catalog}"),
              (f"- H(P) = {number(c.entropy_p, 12)}; E_P[L] of Shannon's code for Q = {number(c.shannon_p, 12)}, "
              f"of Huffman's code for Q = {number(c.huffman_p, 12)} bits"), ""]
    lines += [f"- {'holds' if b.holds else 'FAILS'}: {b.name}, {b.statement}: {b.shown()}" for b in c.bounds]
    return lines + [""]


def _distill() -> str:
    from .distill import accuracy, derive
    d = derive(3)
    lines = _head("ml/distill.md", "The distillation loss KL(softmax(z_t/T) || softmax(z_s/T)) for K classes "
                  "(`symkl distill`), derived from the catalog's categorical KL by substituting the softmax; "
                  "multiply by T^2 for Hinton's scaled loss.")
    lines += ["## Closed form (K = 3)", "", _math(d.expr), "", f"with p_i = softmax(z_t/T)_i. Check: **{d.proof}**.",
              ""] + _steps(d.steps)
    lines += ["", "## Numerics", "", ("`symkl.ml.distill.kl_softmax` never forms a ratio of probabilities. With "
              "p = softmax(z_t/T), u = (z_s - z_t)/T (the difference taken exactly, as a sum of two floats) and "
              "v = u - E_p[u]:"), "", ("$$\nKL = \\log E_p[e^{v}] = \\operatorname{log1p}\\Big(\\sum_i p_i "
              "(e^{v_i} - 1 - v_i)\\Big)\n$$"), "", ("a sum of non-negative terms: nothing cancels when teacher and "
              "student agree. Terms with v_i > 2 come from exp(log p_i + v_i) (p_i may underflow where e^{v_i} "
              "overflows), and where the sum overflows the value is the log-sum-exp of log p + v."), "",
              ("Measured against the definition at 50 digits (from the exact values of the float inputs) over 120 "
              "random cases per regime (K from 2 to 50, T from 0.1 to 10, logit scales 1e-3 to 1e4):"), "",
              ("| regime | kl_softmax: worst relative error | naive softmax-then-log: nan or inf | naive: worst "
              "relative error where finite |"), "|---|---|---|---|"]
    for regime, (ours, fails, naive) in accuracy(120).items():
        lines.append(f"| {regime} | below {_ceiling(ours)} | {fails} of 120 | {_ceiling(naive, naive >= 1)} |")
    return "\n".join(lines) + "\n"


def _ceiling(error: float, plain: bool = False) -> str:
    """An error as the power of ten above it (a page must not change with the last bits of a float sum)."""
    if error == 0:
        return "0"
    if plain:
        return f"{error:.0e}" if error < 1e3 else f"1e{int(mpmath.ceil(mpmath.log10(error)))}"
    return f"1e{int(mpmath.ceil(mpmath.log10(error)))}"


def _estimators() -> str:
    from ..spec import instance
    from .estimators import check_estimators, derive, estimators
    lines = _head("ml/estimators.md", "x ~ P, r = q(x)/p(x); k1 = -log r, k2 = (log r)^2/2, k3 = (r - 1) - log r "
                  "(`symkl estimators P Q`). Means and variances are expectations under P taken by symkl's engine: "
                  "a polynomial in r with coefficients h(x) term by term, E_P[r h] = E_Q[h], E_P[r^2] from the "
                  "Rényi log-partition route at alpha = -1. E_P[grad k] differentiates k(x) in P's parameters "
                  "with x held fixed (a categorical P through its logits).")
    for label in ("normal", "categorical[3]"):
        e = derive(instance(label).family)
        lines += [f"## {label}", "", "KL(P||Q):", "", _math(e.kl), "",
                  f"grad KL(P||Q) in ({', '.join(s.name for s in e.parameters)}):", "", _math(sp.Matrix(e.kl_gradient)),
                  ""]
        rows = [[r.name, f"${sp.latex(r.definition)}$", r.unbiased, r.gradient_matches, r.reverse_matches]
                for r in e.rows]
        header = ["k", "definition", "unbiased for KL(P||Q)", "E_P[grad k] = grad KL(P||Q)",
                  "E_P[grad k] = grad KL(Q||P)"]
        lines += ["| " + " | ".join(r) + " |" for r in [header, ["---"] * 5, *rows]] + [""]
        for r in e.rows:
            lines += [f"### {r.name}", "", "Bias E_P[k] - KL(P||Q):", "", _math(r.bias), "", "Variance:", "",
                      _math(r.variance), "", "E_P[grad k]:", "", _math(sp.Matrix(r.gradient)), ""]
    lines += ["## Checks", "", ("Every number at these points against mpmath at 50 digits: E_P[k] and Var_P[k] by "
              "quadrature or summation of the definitions, E_P[grad k] with k(x)'s derivative taken numerically "
              "at each fixed x, grad KL as the numerical derivative of the quadrature of KL."), ""]
    for p, q in ESTIMATOR_POINTS:
        checks = check_estimators(p, q)
        e = estimators(p, q)
        lines += [(f"- P = {e.p}, Q = {e.q}: {len(checks)} numbers, worst agreement "
                  f"{min(d for _, d in checks):.0f} digits")]
    return "\n".join(lines) + "\n"


def _renyi() -> str:
    from .renyi import check_renyi, derive, renyi, supported
    lines = _head("ml/renyi.md", "For P and Q of one exponential family, D_alpha(P||Q) = (A(eta_alpha) - alpha "
                  "A(eta_p) - (1 - alpha) A(eta_q))/(alpha - 1), eta_alpha = alpha eta_p + (1 - alpha) eta_q, "
                  "from each family's declared natural parameters and log-partition A (`symkl renyi P Q --alpha "
                  "A`); finite where eta_alpha lies in the natural parameter space, itself derived from the "
                  "declaration. Categorical: the finite sum of the definition.")
    for fam in supported():
        label, d = fam.label, derive(fam)
        lines += [f"## {label}", "", _math(d.expr), "", f"Finite when: ${sp.latex(d.condition)}$", "",
                  *[f"- {c}" for c in d.checks], ""] + _steps(d.steps) + [""]
    lines += ["## Checks against quadrature and summation", "", ("The closed form against (1/(alpha - 1)) log "
              "E_P[(q/p)^(1 - alpha)], by mpmath tanh-sinh quadrature or summation of the declared densities at "
              "50 digits:"), "", "| P | Q | alpha | D_alpha (nats) | digits agreeing |", "|---|---|---|---|---|"]
    for p, q, a in RENYI_POINTS:
        r = renyi(p, q, a)
        shown = "oo" if r.expr.is_infinite else mpmath.nstr(r.value(30), 15)
        digits = "-" if r.expr.is_infinite else f"{check_renyi(p, q, a):.0f}"
        lines.append(f"| {r.p} | {r.q} | {a} | {shown} | {digits} |")
    return "\n".join(lines) + "\n"


def _jeffreys() -> str:
    from .renyi import check_jeffreys, jeffreys
    lines = _head("ml/jeffreys.md", "J(P, Q) = KL(P||Q) + KL(Q||P) from the catalog's two closed forms "
                  "(`symkl jeffreys P Q`), Q's symbols renamed; any pair with both closed forms.")
    for p, q in (("normal", "normal"), ("exponential", "exponential"), ("gamma", "gamma"), ("poisson", "poisson"),
                 ("bernoulli", "bernoulli"), ("normal", "laplace")):
        j = jeffreys(p, q)
        lines += [f"## J({p}, {q})", "", _math(j.expr), ""]
    lines += ["## Checks", "", "Against E_P[log p/q] + E_Q[log q/p] by quadrature or summation at 50 digits:", "",
              "| P | Q | J (nats) | digits agreeing |", "|---|---|---|---|"]
    for p, q in (("normal(0, 1)", "normal(1, 2)"), ("gamma(2, 3)", "gamma(3, 1)"), ("poisson(2)", "poisson(5)"),
                 ("bernoulli(0.7)", "bernoulli(0.4)"), ("normal(0, 1)", "laplace(1, 2)")):
        j = jeffreys(p, q)
        lines.append(f"| {j.p} | {j.q} | {mpmath.nstr(j.value(30), 15)} | {check_jeffreys(p, q):.0f} |")
    return "\n".join(lines) + "\n"


def _latex_inline(expr) -> str:
    return f"${sp.latex(expr)}$"


def _value(expr):
    from .reference import value
    return value(expr, 20)
