"""Text and JSON renderings of the identities' results (fit, ELBO, Fisher, trust region, direction), for the
command line; the Markdown pages are in ``identity_pages``."""
from __future__ import annotations

import mpmath
import sympy as sp

from .stationary import number


def pretty(expr) -> str:
    return sp.pretty(expr, use_unicode=True, wrap_line=False)


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line for line in text.splitlines())


def _equations(values: dict) -> str:
    return "\n".join(_indent(pretty(sp.Eq(k, v))) for k, v in values.items())


def _decimal(value, digits: int = 20) -> str:
    return mpmath.nstr(number(value, digits) if isinstance(value, sp.Basic) else value, digits)


def fit_text(f) -> str:
    names = ", ".join(map(str, f.variables))
    lines = [f"fit Q = {f.q.label} to P = {f.p.label}: argmin over {names} of KL(P||Q)",
             f"KL(P||Q) = H(P, Q) - H(P): {f.identity}",
             f"d H(P)/d({names}) = 0: H(P) has no parameter of Q, so argmin KL(P||Q) = argmin H(P, Q)",
             f"d KL(P||Q)/d({names}) - d H(P, Q)/d({names}) = 0: {f.same_gradient}",
             "stationarity, d H(P, Q)/d(" + names + ") = 0:", _indent(pretty(sp.Matrix(f.gradient)))]
    if f.argmin is not None:
        lines += [f"argmin (closed form; {f.argmin_how}):", _equations(f.argmin),
                  f"second order: Hessian positive definite at the argmin: {f.second_order}",
                  _indent("leading minors: " + ", ".join(map(str, f.minors)))]
    else:
        lines.append("argmin: sympy finds no closed-form solution of the stationarity equations")
    lines.append(f"convexity: {f.convexity}")
    if f.at_values:
        shown = ", ".join(f"{k} = {v} = {_decimal(v)}" for k, v in f.at_values.items())
        lines += [f"at P = {f.p.label}: {shown}", f"minimal KL(P||Q) = {f.minimum} = {_decimal(f.minimum)} nats"]
    if not f.checks and (f.p.family.dim is not None or f.q.family.dim is not None):
        lines.append("numeric check: none for a multivariate family (the findroot check's quadrature is "
                     "one-dimensional)")
    for c in f.checks:
        at = ", ".join(f"{k} = {v}" for k, v in c.point.items())
        found = ", ".join(f"{k} = {mpmath.nstr(v, 20)}" for k, v in c.numeric.items())
        lines.append(f"check at {at}: findroot on quadrature moments gives {found}" +
                     (f"; agrees with the closed form to {c.digits:.0f} digits" if c.closed else ""))
    return "\n".join(lines)


def fit_json(f) -> dict:
    return {"p": f.p.label, "q": f.q.label, "variables": [str(v) for v in f.variables], "status": f.status,
            "identity": f.identity, "gradient": [str(g) for g in f.gradient],
            "argmin": None if f.argmin is None else {str(k): str(v) for k, v in f.argmin.items()},
            "second_order": f.second_order, "convexity": f.convexity,
            "at_values": None if not f.at_values else {str(k): str(v) for k, v in f.at_values.items()},
            "minimum": None if f.minimum is None else str(f.minimum),
            "checks": [{"point": {str(k): str(v) for k, v in c.point.items()},
                        "numeric": {str(k): mpmath.nstr(v, 30) for k, v in c.numeric.items()},
                        "digits": round(c.digits, 1) if c.closed else None} for c in f.checks]}


def elbo_text(e) -> str:
    lines = [f"model {e.model.name}: {e.model.about}",
             "posterior p(z|x) (conjugacy, derived): " + ", ".join(map(str, e.posterior)),
             "log p(x) =", _indent(pretty(e.log_evidence)),
             "ELBO = E_q[log p(x, z)] - E_q[log q(z)] =", _indent(pretty(e.elbo)),
             "KL(q || p(z|x)) =", _indent(pretty(e.divergence)),
             f"log p(x) = ELBO + KL: {e.identity.upper()}",
             "maximiser of the ELBO: " + ", ".join(f"{k} = {v}" for k, v in e.maximiser.items()),
             _indent(f"({e.maximiser_how})")]
    lines += [_indent(f"{k}: {v}") for k, v in e.at_posterior.items()]
    for c in e.checks:
        at = ", ".join(f"{k} = {v}" for k, v in c.point.items())
        agree = ", ".join(f"{k} {d:.0f}" for k, d in c.digits.items())
        lines.append(f"check at {at}: quadrature agrees to (digits) {agree}")
    return "\n".join(lines)


def elbo_json(e) -> dict:
    return {"model": e.model.name, "posterior": [str(p) for p in e.posterior], "log_evidence": str(e.log_evidence),
            "elbo": str(e.elbo), "kl": str(e.divergence), "identity": e.identity,
            "maximiser": {str(k): str(v) for k, v in e.maximiser.items()}, "at_posterior": e.at_posterior,
            "checks": [{"point": {k: str(v) for k, v in c.point.items()},
                        "digits": {k: round(d, 1) for k, d in c.digits.items()}} for c in e.checks]}


def fisher_text(f) -> str:
    c = f.chart
    lines = [f"Fisher information of {c.label} in ({', '.join(map(str, c.symbols))})"]
    if f.matrix is None:
        lines.append(f"no Fisher quadratic form from KL: {f.note}")
    else:
        lines += [f"F = ({f.kl_how})", _indent(pretty(f.shown()))]
        if f.at_values() is not None:
            lines += ["at the given values:", _indent(pretty(f.at_values()))]
    lines += [f"route {name}: {status}" for name, status in f.agreement.items()]
    if f.remainder:
        r = f.remainder
        last = r["ratios"][-1]
        lines.append(f"(KL(theta||theta + h d) - h^2 d^T F d/2)/h^3 at {_point(r['point'])}, d = {r['direction']}: "
                     + ", ".join(f"{mpmath.nstr(s, 1)}: {mpmath.nstr(v, 6)}" for s, v in r["ratios"][::3])
                     + f" -> {'bounded' if r['bounded'] else 'NOT bounded'} (cubic coefficient ~ "
                       f"{mpmath.nstr(last[1], 8)})")
    return "\n".join(lines)


def _point(point: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in point.items())


def fisher_json(f) -> dict:
    r = f.remainder
    return {"family": f.chart.label, "coordinates": [str(s) for s in f.chart.symbols],
            "matrix": None if f.matrix is None else [[str(e) for e in row] for row in f.shown().tolist()],
            "how": f.kl_how, "agreement": f.agreement, "note": f.note, "ok": f.ok,
            "remainder": None if r is None else {"bounded": r["bounded"], "point": {str(k): str(v) for k, v in
                                                                                   r["point"].items()},
                                                 "ratios": [[mpmath.nstr(s, 3), mpmath.nstr(v, 15)]
                                                            for s, v in r["ratios"]]}}


def trust_text(t) -> str:
    lines = [fisher_text(t.fisher), "KL(P_theta || P_theta+delta) = 1/2 delta^T F delta + O(|delta|^3) =",
             _indent(pretty(t.quadratic)),
             f"along delta = h*{t.direction} at {_point(t.point)}:",
             _indent(f"{'h':>8}  {'exact KL':>22}  {'1/2 h^2 d^T F d':>22}  {'relative gap':>12}")]
    lines += [_indent(f"{h!s:>8}  {mpmath.nstr(e, 15):>22}  {mpmath.nstr(a, 15):>22}  {mpmath.nstr(g, 4):>12}")
              for h, e, a, g in t.table]
    return "\n".join(lines)


def trust_json(t) -> dict:
    return {**fisher_json(t.fisher), "quadratic": str(t.quadratic), "direction": [str(d) for d in t.direction],
            "table": [{"h": str(h), "kl": mpmath.nstr(e, 20), "quadratic": mpmath.nstr(a, 20),
                       "relative_gap": mpmath.nstr(g, 6)} for h, e, a, g in t.table]}


def direction_text(d) -> str:
    mix = " + ".join(f"{w}*{i.label}" for w, i in d.components)
    lines = [f"P = {mix}; Q = normal(mu_q, sigma_q)",
             "forward, argmin KL(P||Q) (mode-covering; closed form, moment matching):",
             _equations(d.forward_general), "  at the values: " + ", ".join(
                 f"{k} = {v} = {_decimal(v, 15)}" for k, v in d.forward.items()),
             (f"  KL(P||Q) = {mpmath.nstr(d.forward_kl, 15)} nats (quadrature); the closed form agrees with findroot "
             f"on quadrature moments to {d.forward_digits:.0f} digits")]
    if d.reverse is None:
        lines.append(f"reverse, argmin KL(Q||P): {d.reverse_note}")
        return "\n".join(lines)
    lines.append("reverse, argmin KL(Q||P) (mode-seeking; quadrature and BFGS, best of "
                 f"{len(d.starts)} starts): " + ", ".join(f"{k} = {v:.12g}" for k, v in d.reverse.items()))
    lines.append(f"  KL(Q||P) = {mpmath.nstr(d.reverse_kl, 15)} nats (mpmath quadrature at the minimum)")
    lines += [f"  start mu = {s[0]:.6g}, sigma = {s[1]:.6g} -> mu = {r[0]:.10g}, sigma = {r[1]:.10g}, "
              f"KL = {v:.12g}" for s, r, v in d.starts]
    return "\n".join(lines)


def direction_json(d) -> dict:
    return {"mixture": [[str(w), i.label] for w, i in d.components],
            "forward_general": {str(k): str(v) for k, v in d.forward_general.items()},
            "forward": {str(k): str(v) for k, v in d.forward.items()}, "forward_kl": mpmath.nstr(d.forward_kl, 20),
            "forward_digits": round(d.forward_digits, 1),
            "reverse": None if d.reverse is None else {str(k): v for k, v in d.reverse.items()},
            "reverse_kl": None if d.reverse_kl is None else mpmath.nstr(d.reverse_kl, 20),
            "reverse_note": d.reverse_note,
            "starts": [{"start": list(s), "end": list(r), "kl": v} for s, r, v in d.starts]}
