"""The formula book's pages for the identities: derivations/ml/fit.md, elbo.md, fisher.md, direction.md.

Each page is generated from the derivations and their checks (nothing typed), so `symkl derive --all --check`
finds a stale one. A page takes seconds to a minute to build, so its text is kept on disk next to the derived
results, keyed by the hash of symkl's code: any change to the engine or a declaration rebuilds it.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

import mpmath
import sympy as sp

from ..book import HEADER
from ..book import step_lines as _steps
from .pages import _math
from .store import remembered

FIT_PAIRS = (("gamma", "normal"), ("gamma", "exponential"), ("beta", "normal"), ("categorical[3]", "categorical[3]"),
             ("binomial(n, _)", "poisson"), ("gamma", "gamma"))
MIXTURES = ("0.5*normal(-2, 0.6) + 0.5*normal(2, 0.6)", "0.3*normal(0, 1) + 0.7*laplace(3, 0.5)")
TRUST = (("diagnormal(0, 0, 1, 2)", False), ("categorical(0.2, 0.3, 0.5)", True))
INTROS = {  # title, what the page shows and how it is checked, the command
    "fit": ('Fitting Q to P: argmin KL(P||Q) = argmin H(P, Q)',
            ("KL(P||Q) = H(P, Q) - H(P), and H(P) has no parameter of Q, so the gradients in Q's parameters agree "
            'and so do the minimisers: fitting by cross-entropy (maximum likelihood in the limit of data) is '
            'fitting by forward KL. For each pair symkl derives H(P, Q), H(P) and KL from the declarations, '
            'proves the identity (`symkl prove`), shows d H(P)/d theta_q = 0 and d KL/d theta_q = d H(P, Q)/d '
            "theta_q, solves the stationarity equations with sympy, checks the Hessian's leading minors at the "
            "solution and, for an exponential-family Q, convexity in its natural parameters. The check: mpmath's "
            "findroot on the gradient of -sum_h c_h(theta) E_P[h(X)], with log q = sum_h c_h(theta) h(x) from Q's "
            'declaration and E_P[h(X)] by 50-digit quadrature or summation (not by the symbolic engine), at two '
            "random points of P's parameters."),
            ('Command: `symkl fit P Q` (Q\'s open parameters are fitted; `symkl fit "gamma(2, 3)" normal` gives '
            'values).')),
    "elbo": ('The ELBO: log p(x) = ELBO(q) + KL(q(z) || p(z|x))',
            ("ELBO(q) = E_q[log p(x, z)] - E_q[log q(z)]. Each side is derived from the model's declared densities "
            "(catalog families): the posterior by matching log p(x, z) with the prior's sufficient statistics "
            "(conjugacy), log p(x) = log p(x, z) - log p(z|x) (Bayes' rule, which must come out free of z), the "
            'ELBO by the expectation engine, the KL from the catalog at the derived posterior. The identity is '
            'simplified to 0; since log p(x) has no parameter of q, maximising the ELBO is minimising KL(q || '
            'p(z|x)). Checks: log p(x) as the log of the prior expectation of the likelihood, the ELBO and the KL '
            '(with the numeric log p(x)), each by mpmath quadrature over z at 45 digits.'),
            'Command: `symkl elbo normal-normal`, `symkl elbo beta-bernoulli [--values "a=2, b=3, n=10, k=7"]`.'),
    "fisher": ('Fisher information and trust regions: KL(P_theta || P_theta+d) = d^T F d / 2 + O(|d|^3)',
            ("Three routes, each from the family's declaration: (A) the Hessian of the catalog's KL(theta||theta') "
            "in theta' at theta' = theta (where KL has kinks, the h^2 coefficient of KL(theta||theta + h d)); (B) "
            'E[score score^T]; (C) -E[Hessian of log p], both by the expectation engine. Agreement means the '
            'difference simplifies to 0. Remainder: (KL(theta||theta + h d) - h^2 d^T F d/2)/h^3 from the closed '
            'form at 60 digits (where KL has none, from its defining integral by quadrature at 80 digits) for h = '
            '1e-2 .. 1e-8, at a random point and direction; bounded (it settles on the cubic coefficient) only '
            'when F is right.'),
            'Commands: `symkl fisher FAMILY [--logits]`, `symkl fisher --all`, `symkl trust-region SPEC`.'),
    "direction": ('The direction of KL: mode-covering KL(P||Q) against mode-seeking KL(Q||P)',
            ('One normal Q fitted to a mixture P. Forward: H(sum_i w_i P_i, Q) = sum_i w_i H(P_i, Q) by linearity, '
            'each H(P_i, Q) from the catalog; sympy solves the stationarity equations (moment matching: the '
            "mixture's mean and variance), checked against findroot on quadrature moments. Reverse: KL(Q||P) = "
            "-H(Q) - E_Q[log p(X)] has no closed form; it is minimised by scipy's BFGS with E_Q[.] by "
            "scipy.integrate.quad (tolerances 1e-13), from each component's mean and standard deviation and from "
            "the forward fit; the best minimum's KL is evaluated again by mpmath quadrature."),
            ('Command: `symkl direction "0.5*normal(-2, 0.6) + 0.5*normal(2, 0.6)" --plot out.png` (the plot needs '
            '`pip install "symkl[plot]"`).')),
}


BOOK_PAGES = {f"ml/{name}.md": INTROS[name][0] for name in ("fit", "elbo", "fisher", "direction")}


def book_pages() -> dict[str, Callable[[], str]]:
    """Relative path -> a builder of the identity page's Markdown text (stored with symkl's code hash): one page
    at a time, so that the book's worker processes share the pages out instead of each building all."""
    builders = {"fit": fit_page, "elbo": elbo_page, "fisher": fisher_page, "direction": direction_page}
    return {f"ml/{name}.md": partial(remembered, "page", f"ml/{name}.md", build) for name, build in builders.items()}


def _head(name: str) -> list[str]:
    title, about, command = INTROS[name]
    return [HEADER, f"# {title}", "", about, "", command, ""]


def _equations(values: dict) -> str:
    return _math(sp.Tuple(*[sp.Eq(k, v) for k, v in values.items()])) if values else ""


def fit_page() -> str:
    from .fit import fit
    lines = _head("fit")
    for p, q in FIT_PAIRS:
        f = fit(p, q)
        lines += [f"## {f.q.label} fitted to {f.p.label}", ""]
        if f.argmin is not None:
            lines += [f"argmin ({f.argmin_how}):", "", _equations(f.argmin), ""]
        else:
            lines += ["sympy finds no closed form for the argmin.", ""]
        lines += [(f"- KL(P||Q) = H(P, Q) - H(P): **{f.identity}**; d KL = d H(P, Q) in Q's parameters: "
                  f"**{f.same_gradient}**"),
                  f"- Hessian positive definite at the argmin: **{f.second_order}**",
                  f"- convexity: {f.convexity}"]
        for c in f.checks:
            at = ", ".join(f"{k} = {v}" for k, v in c.point.items())
            found = ", ".join(f"{k} = {mpmath.nstr(v, 15)}" for k, v in c.numeric.items())
            lines.append(f"- check at {at}: findroot gives {found}" +
                         (f", agreeing with the closed form to **{c.digits:.0f} digits**" if c.closed else ""))
        lines += ["", "<details><summary>derivation</summary>", ""] + _steps(f.steps) + ["", "</details>", ""]
    return "\n".join(lines) + "\n"


def elbo_page() -> str:
    from .elbo import MODELS, elbo
    lines = _head("elbo")
    for name in MODELS:
        e = elbo(name)
        lines += [f"## {name}", "", e.model.about, "", "log p(x):", "", _math(e.log_evidence), "", "ELBO:", "",
                  _math(e.elbo), "", "KL(q || p(z|x)):", "", _math(e.divergence), "",
                  f"- log p(x) = ELBO + KL: **{e.identity}**",
                  f"- maximiser of the ELBO ({e.maximiser_how}): "
                  + ", ".join(f"${sp.latex(k)} = {sp.latex(v)}$" for k, v in e.maximiser.items())]
        lines += [f"- {k}: **{v}**" for k, v in e.at_posterior.items()]
        for c in e.checks:
            at = ", ".join(f"{k} = {v}" for k, v in c.point.items())
            lines.append(f"- quadrature at {at}: " + ", ".join(f"{k} {d:.0f} digits" for k, d in c.digits.items()))
        lines += ["", "<details><summary>derivation</summary>", ""] + _steps(e.steps) + ["", "</details>", ""]
    return "\n".join(lines) + "\n"


def fisher_page() -> str:
    """Each family's F in a new interpreter with a cache of its own: what sympy reaches within a route's budget
    depends on what ran before it (sympy's caches, terms remembered as failing), and the page must be the same
    whichever process builds it."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from .fisher import catalog_table
    from .trust import trust_region
    lines = _head("fisher") + ["| family | coordinates | A = B | A = C | B = C | remainder/h^3 as h -> 0 |",
                               "|---|---|---|---|---|---|"]
    details = []
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn"),
                             max_tasks_per_child=1) as pool:
        for row, detail in pool.map(_fisher_entry, catalog_table()):
            lines.append(row)
            details += detail
    lines += [""] + details + ["## Trust regions", ""]
    for spec, logits in TRUST:
        t = trust_region(spec, logits)
        at = ", ".join(f"{k} = {v}" for k, v in t.point.items())
        lines += [f"### {t.fisher.chart.label}", "", ("KL(P_theta || P_theta+delta) = 1/2 delta^T F delta + "
                  "O(|delta|^3) ="), "", _math(t.quadratic), "",
                  f"Along delta = h d, d = {t.direction}, at {at}:", "",
                  "| h | exact KL | 1/2 h^2 d^T F d | relative gap |", "|---|---|---|---|"]
        lines += [f"| {h} | {mpmath.nstr(e, 15)} | {mpmath.nstr(a, 15)} | {mpmath.nstr(g, 4)} |"
                  for h, e, a, g in t.table]
        lines.append("")
    return "\n".join(lines) + "\n"


def _fisher_entry(entry: tuple) -> tuple[str, list[str]]:
    """The table row and the section of one (spec, by logits) of the Fisher page, as text (a Fisher result holds
    functions, which do not travel between processes)."""
    import os
    import tempfile

    from .fisher import ROUTE_NAMES, fisher
    # a cache of its own too: a term remembered as failing by another derivation made cauchy's routes "not derived"
    with tempfile.TemporaryDirectory(prefix="symkl-fisher-") as own:
        os.environ["SYMKL_CACHE_DIR"] = own
        f = fisher(*entry)
    a = [f.agreement.get(name, "-") for name in ROUTE_NAMES]
    r = f.remainder
    tail = "-" if r is None else (f"bounded, -> {mpmath.nstr(r['ratios'][-1][1], 8)}" if r["bounded"]
                                  else "NOT bounded")
    row = f"| {f.chart.label} | {', '.join(map(str, f.chart.symbols))} | {a[0]} | {a[1]} | {a[2]} | {tail} |"
    detail = [f"## {f.chart.label}", ""]
    detail += [f"F ({f.kl_how}):", "", _math(f.shown()), ""] if f.matrix is not None else [f"{f.note}", ""]
    return row, detail


def direction_page() -> str:
    from .direction import direction
    lines = _head("direction")
    for text in MIXTURES:
        d = direction(text)
        lines += [f"## P = {text}", "", "Forward fit, in general:", "", _equations(d.forward_general), "",
                  "at these values:", "", _equations(d.forward), "",
                  (f"- KL(P||Q) at the forward fit: {mpmath.nstr(d.forward_kl, 15)} nats; the closed form agrees with "
                  f"findroot on quadrature moments to **{d.forward_digits:.0f} digits**")]
        if d.reverse is not None:
            lines.append("- reverse fit (best of the starts): " + ", ".join(f"{k} = {v:.8g}"
                                                                          for k, v in d.reverse.items())
                         + f"; KL(Q||P) = {mpmath.nstr(d.reverse_kl, 12)} nats")
            lines += [f"  - from mu = {s[0]:.6g}, sigma = {s[1]:.6g}: mu = {r[0]:.6g}, sigma = {r[1]:.6g}, "
                      f"KL = {v:.8g}" for s, r, v in d.starts]
        else:
            lines.append(f"- reverse fit: {d.reverse_note}")
        lines.append("")
    return "\n".join(lines) + "\n"
