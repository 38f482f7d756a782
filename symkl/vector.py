"""E_P[f(X)] for a vector X: the rules that see coordinates, and the quadratic-form identity for a symbolic d.

With the dimension given, X is a column of coordinates x1..xd and f is expanded into terms as for a scalar X;
a term's expectation comes from independent coordinates (a product of one-coordinate expectations under the
declared components) or from the joint moment generating function (E[prod x_i^k_i] = d^k M / dt^k at 0).
With d symbolic, X is a matrix symbol and f holds traces of 1x1 products; each is linear in X or the quadratic
form X^T A X, and E[u^T A X] = u^T A m, E[X^T A X] = tr(A S) + m^T A m with m, S the declared mean and
covariance. Nothing here knows a family: every rule reads the family's declaration.
"""
from __future__ import annotations

from collections import defaultdict

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from .simplify import readable

DIM = sp.Symbol("d", integer=True, positive=True)
"""The dimension of a general-d family (``mvnormal[d]``)."""


class SymmetricMatrixSymbol(sp.MatrixSymbol):
    """A matrix symbol equal to its transpose (a covariance), so that u^T S v and v^T S u are seen as equal."""

    def _eval_transpose(self):
        return self


def coordinates(x) -> tuple:
    """The scalar symbols of a variable: (x,) for a scalar, (x1, ..., xd) for a column of coordinates."""
    return tuple(x) if isinstance(x, sp.MatrixBase) else (x,)


def by_components(fam, params, h, x):
    """E[prod_i g_i(X_i)] = prod_i E[g_i(X_i)] for independent coordinates X_i from the declared components."""
    if fam.components is None:
        return None
    from .expectation import expect_term
    by_coordinate: dict[int, sp.Expr] = defaultdict(lambda: sp.S.One)
    coords = coordinates(x)
    for factor in sp.Mul.make_args(h):
        used = [i for i, xi in enumerate(coords) if factor.has(xi)]
        if len(used) != 1:
            return None
        by_coordinate[used[0]] *= factor
    parts = fam.components(*params)
    value, hows = sp.S.One, []
    for i, g in sorted(by_coordinate.items()):
        component, component_params = parts[i]
        y = component.variable()
        found, how = expect_term(component, component_params, g.subs(coords[i], y), y)
        value *= found
        hows.append(how)
    return value, f"independent coordinates: a product of one-coordinate expectations ({'; '.join(hows)})"


def by_joint_mgf(fam, params, h, x):
    """E[prod x_i^k_i] = d^k M(t) / dt_1^k_1 ... dt_d^k_d at t = 0, from the joint moment generating function."""
    coords = coordinates(x)
    if fam.mgf is None or not h.is_polynomial(*coords):
        return None
    poly = sp.Poly(h, *coords)
    if len(poly.terms()) != 1 or poly.coeffs() != [1]:
        return None
    t = sp.Matrix([sp.Dummy(f"t{i + 1}") for i in range(len(coords))])
    value = fam.mgf(t, *params)
    for ti, k in zip(t, poly.monoms()[0]):
        value = sp.diff(value, ti, k) if k else value
    return sp.expand(value.subs({ti: 0 for ti in t})), "joint moment generating function: d^k M / dt^k at t = 0"


def expect_matrix(fam, params, f, x):
    """E[f(X)] for X a matrix symbol (symbolic d): traces of products linear or quadratic in X, from the
    declared mean and covariance. Returns (value, steps); NoClosedForm for any other dependence on X."""
    from .expectation import NoClosedForm, Step
    if fam.moments is None:
        raise NoClosedForm(f"{fam.label} declares no mean and covariance for a vector of symbolic dimension")
    mean, cov = fam.moments(*params)
    total, steps = sp.S.Zero, []
    for term in sp.Add.make_args(sp.expand(split_traces(f))):
        coeff, rest = term.as_independent(x, as_Add=False)
        if not rest.has(x):
            total += term
            continue
        if not isinstance(rest, sp.Trace):
            raise NoClosedForm(f"no closed form found for E[{rest}] under {fam.label}")
        value, how = _trace_expectation(rest.arg, x, mean, cov)
        if value is None:
            raise NoClosedForm(f"no closed form found for E[{rest}] under {fam.label}: {how}")
        steps.append(Step(f"E[{rest}]", value, how))
        total += coeff * value
    return total, steps


def split_traces(f: sp.Expr) -> sp.Expr:
    """tr(sum of products) -> sum of scalar coefficient * tr(product), so that each trace is one term."""
    def split(trace):
        terms = sp.MatAdd.make_args(sp.expand(trace.arg))
        return sp.Add(*[c * sp.Trace(m) for c, m in (_coefficient(t) for t in terms)])
    return f.replace(lambda e: isinstance(e, sp.Trace), split)


def _coefficient(term):
    """A matrix product as (scalar coefficient, the product of matrices)."""
    if isinstance(term, sp.MatMul):
        coeff, product = term.as_coeff_mmul()
        return coeff, sp.MatMul(*product.args) if isinstance(product, sp.MatMul) else product
    return sp.S.One, term


def _trace_expectation(product, x, mean, cov):
    """E[tr(product)] for one product with X at most twice: (value, how), or (None, why not)."""
    factors = list(product.args) if isinstance(product, sp.MatMul) else [product]
    at = [i for i, f in enumerate(factors) if f in (x, x.T)]
    if any(f.has(x) for i, f in enumerate(factors) if i not in at):
        return None, "X appears inside a factor"
    if len(at) == 1:
        swapped = [mean if f == x else mean.T if f == x.T else f for f in factors]
        return sp.Trace(sp.MatMul(*swapped).doit()), "linear in X: E[u^T A X] = u^T A m, m the mean of X"
    if len(at) == 2 and at == [0, len(factors) - 1] and factors[0] == x.T and factors[-1] == x:
        middle = sp.MatMul(*factors[1:-1]) if len(factors) > 3 else factors[1]
        value = sp.Trace(sp.MatMul(middle, cov).doit()).doit() + sp.Trace(sp.MatMul(mean.T, middle, mean))
        return value, "quadratic form: E[X^T A X] = tr(A S) + m^T A m, m and S the mean and covariance of X"
    return None, "not linear or quadratic in X"


def readable_matrix(expr: sp.Expr) -> sp.Expr:
    """A textbook form of a result in matrix symbols: each u^T A v in one orientation (A symmetric), the square
    completed where the terms allow it (m_p^T A m_p - 2 m_p^T A m_q + m_q^T A m_q -> (m_p - m_q)^T A (m_p - m_q)),
    and log-determinants paired into the log of a ratio."""
    forms: dict = defaultdict(lambda: sp.S.Zero)
    rest = sp.S.Zero
    for term in sp.Add.make_args(sp.expand(split_traces(expr))):
        coeff, key = term.as_independent(MatrixExpr, sp.Trace, as_Add=False)
        bilinear = _bilinear(key)
        if bilinear is None:
            rest += term
        else:
            forms[bilinear] += coeff
    for (u, a, v), c in _complete_squares(dict(forms)).items():
        rest += c * sp.Trace(sp.MatMul(sp.Transpose(u), a, v))
    matrix_terms = [t for t in sp.Add.make_args(rest) if t.has(MatrixExpr, sp.Trace, sp.Determinant)]
    return readable(rest - sp.Add(*matrix_terms)) + _pair_log_determinants(sp.Add(*matrix_terms))


def _bilinear(key):
    """tr(u^T A v) with u, v column vectors, as (u, A, v) in a canonical orientation; None for anything else."""
    if not isinstance(key, sp.Trace) or not isinstance(key.arg, sp.MatMul) or len(key.arg.args) != 3:
        return None
    left, a, v = key.arg.args
    if not isinstance(left, sp.Transpose) or left.arg.shape[1] != 1 or v.shape[1] != 1:
        return None
    u = left.arg
    return (u, a, v) if sp.default_sort_key(u) <= sp.default_sort_key(v) else (v, a.T.doit(), u)


def _complete_squares(forms: dict) -> dict:
    """c (u^T A u - u^T A v - v^T A u + v^T A v) -> c (u - v)^T A (u - v), for each A and pair u, v."""
    out = dict(forms)
    for (u, a, v), c_uv in forms.items():
        if u == v or (u, a, v) not in out:
            continue
        c_uu, c_vv = out.get((u, a, u)), out.get((v, a, v))
        if c_uu is not None and c_vv is not None and sp.expand(c_uu - c_vv) == 0 and sp.expand(c_uv + 2 * c_uu) == 0:
            for key in ((u, a, u), (u, a, v), (v, a, v)):
                out.pop(key)
            out[(u - v, a, u - v)] = c_uu
    return {k: c for k, c in out.items() if c != 0}


def _pair_log_determinants(expr: sp.Expr) -> sp.Expr:
    """c log|A| - c log|B| -> c log(|A|/|B|)."""
    logs = defaultdict(lambda: sp.S.Zero)
    rest = sp.S.Zero
    for term in sp.Add.make_args(expr):
        coeff, key = term.as_independent(sp.log, as_Add=False)
        if isinstance(key, sp.log) and isinstance(key.args[0], sp.Determinant):
            logs[key.args[0]] += coeff
        else:
            rest += term
    positive = [k for k, c in logs.items() if c.could_extract_minus_sign() is False]
    for a in positive:
        for b in [k for k in logs if k not in positive]:
            if a in logs and b in logs and sp.expand(logs[a] + logs[b]) == 0:
                rest += logs.pop(a) * sp.log(a / b)
                logs.pop(b)
    return rest + sp.Add(*[c * sp.log(k) for k, c in logs.items()])
