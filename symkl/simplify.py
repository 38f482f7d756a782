"""Readable forms: rewrite a derived expression towards the way textbooks print it, never changing its value.

Only identities valid for the parameters' declared assumptions are used (log of positive symbols splits and
merges). Logs with symbolic exponents inside (``log(s**(2*s**2))``) are never produced: they overflow in floats.
"""
from __future__ import annotations

from collections import defaultdict

import sympy as sp

FACTOR_OPS = 400
"""Above this many operations a rational expression is put over a common denominator instead of factored:
factoring large multivariate polynomials is slow (16 s for the 3x3 normal KL's numerator) and rarely shortens."""


def readable(expr: sp.Expr, identities: dict | None = None) -> sp.Expr:
    """Group terms by their transcendental factor, pair log(a) - log(b) into log(a/b), tidy the rational part."""
    if isinstance(expr, sp.Piecewise):
        return sp.Piecewise(*[(readable(e, identities), c) for e, c in expr.args])
    if expr.is_infinite or expr.is_Number:
        return expr
    expr = _bessel_k(expr) if expr.has(sp.besseli) else expr
    groups: dict[sp.Expr, sp.Expr] = defaultdict(lambda: sp.S.Zero)
    for term in sp.Add.make_args(sp.expand(sp.expand_log(expr), power_exp=False)):
        coeff, key = _split_rational(term)
        groups[_tidy_key(key)] += coeff
    groups = {k: _factor(c).subs(identities or {}) for k, c in groups.items()}
    groups = {k: c for k, c in groups.items() if sp.cancel(c) != 0}
    rational = groups.pop(sp.S.One, sp.S.Zero)
    q_symbols = sorted((s for s in rational.free_symbols if s.name.endswith("_q")), key=str)
    candidates, expanded = [_tidy_rational(rational)], sp.expand(rational)
    if sp.count_ops(expanded) <= FACTOR_OPS:   # each collected coefficient is tidied: slow for large ones
        candidates.append(sp.collect(expanded, q_symbols, func=_tidy_rational))
        candidates.append(_by_denominator(expanded))
    return sp.Add(min(candidates, key=sp.count_ops), *_merge_logs(groups))


def _bessel_k(expr: sp.Expr) -> sp.Expr:
    """c*I_{-v}(z) - c*I_v(z) as c*(2/pi)*sin(pi v)*K_v(z), and where c holds Gamma(1 - v) as 2*(c/Gamma(1 - v))*
    K_v(z)/Gamma(v) (the reflection formula). sympy's integrals give the difference (E[exp(-c/X)] under an inverse
    gamma), which reads 0*oo at whole v: KL(inversegamma(10, 10)||gumbel) had no value there. K_v is finite at
    every v."""
    terms = list(sp.Add.make_args(sp.expand(expr, power_exp=False)))
    for i, term in enumerate(terms):
        factors = sp.Mul.make_args(term)
        for b in (f for f in factors if isinstance(f, sp.besseli) and f.args[0].could_extract_minus_sign()):
            v, z = -b.args[0], b.args[1]
            c = sp.Mul(*[f for f in factors if f is not b])
            j = next((j for j, t in enumerate(terms) if sp.expand(t + c * sp.besseli(v, z)) == 0), None)
            if j is None:
                continue
            reflected = c / sp.gamma(1 - v)
            terms[i] = 2 * reflected * sp.besselk(v, z) / sp.gamma(v) if not reflected.has(sp.gamma(1 - v)) \
                else 2 * c * sp.sin(sp.pi * v) * sp.besselk(v, z) / sp.pi
            terms[j] = sp.S.Zero
            break
    return sp.Add(*terms) if sp.S.Zero in terms else expr


def _by_denominator(expanded: sp.Expr) -> sp.Expr:
    """Terms over the same denominator tidied together: a sum over independent coordinates stays a sum."""
    groups: dict[sp.Expr, sp.Expr] = defaultdict(lambda: sp.S.Zero)
    for term in sp.Add.make_args(expanded):
        groups[sp.fraction(term)[1].as_coeff_Mul()[1]] += term
    return sp.Add(*[_tidy_rational(g) for g in groups.values()])


def _factor(expr: sp.Expr) -> sp.Expr:
    return sp.factor(expr) if sp.count_ops(expr) <= FACTOR_OPS else sp.cancel(expr)


def _split_rational(term: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """term = coefficient * key, the coefficient rational in the parameters, the key the rest (or 1)."""
    coeff, key = [], []
    for factor in sp.Mul.make_args(term):
        plain = factor.is_rational_function() and not factor.has(sp.Function, sp.Sum)
        (coeff if plain else key).append(factor)
    return sp.Mul(*coeff), sp.Mul(*key)


def _tidy_key(key: sp.Expr) -> sp.Expr:
    """exp(a)*exp(b) -> exp(a + b); arguments of exp, erf and Piecewise branches in their shortest form."""
    key = sp.powsimp(key).replace(lambda e: isinstance(e, sp.log) and e.has(sp.gamma), sp.gammasimp)
    key = key.replace(lambda e: isinstance(e, (sp.exp, sp.erf, sp.log)), lambda e: e.func(_shortest(e.args[0])))
    return key.replace(lambda e: isinstance(e, sp.Piecewise), readable)


def _shortest(expr: sp.Expr) -> sp.Expr:
    return min([expr, sp.factor(expr), _complete_differences(sp.expand(expr))], key=sp.count_ops)


def _merge_logs(groups: dict[sp.Expr, sp.Expr]) -> list[sp.Expr]:
    """c*log(a) - c*log(b) -> c*log(a/b); constant logs sharing a coefficient -> one log of the product."""
    logs = [k for k in groups if isinstance(k, sp.log)]
    out, used = [], set()
    for i, a in enumerate(logs):
        for b in logs[i + 1:]:
            if a in used or b in used or a.args[0].is_number or sp.cancel(groups[a] + groups[b]) != 0:
                continue
            c, num, den = groups[a], a.args[0], b.args[0]
            if c.could_extract_minus_sign():
                c, num, den = -c, den, num
            ratio = num / den
            out.append(c * sp.log(sp.gammasimp(ratio) if ratio.has(sp.gamma) else ratio))
            used |= {a, b}
    constants = defaultdict(list)
    for k in logs:
        if k not in used and k.args[0].is_number:
            constants[groups[k]].append(k.args[0])
            used.add(k)
    out += [c * sp.log(sp.Mul(*args)) for c, args in constants.items()]
    return out + [_tidy_rational(c) * k for k, c in groups.items() if k not in used]


def _tidy_rational(expr: sp.Expr) -> sp.Expr:
    """Over a common denominator, with the whole-polynomial part pulled out and differences completed."""
    if expr == 0:
        return expr
    num, den = sp.fraction(_factor(sp.together(expr)))
    whole, rest = [], []
    for m in sp.Add.make_args(sp.expand(num)):
        (whole if not sp.fraction(sp.cancel(m / den))[1].free_symbols else rest).append(m)
    remainder = _complete_differences(sp.Add(*rest))
    return sp.Add(*[sp.cancel(m / den) for m in whole]) + sp.factor_terms(remainder) / den


def _complete_differences(poly: sp.Expr) -> sp.Expr:
    """Complete the square in a - b where that shortens it: mu_p**2 - 2*mu_p*mu_q + mu_q**2 -> (mu_p - mu_q)**2.

    Only a true completion is taken (no term linear in the difference is left), so forms never come out mixed.
    """
    best, pairs = poly, _matched_symbols(poly)
    if sp.count_ops(poly) > FACTOR_OPS:   # large: only the same parameter of P and Q (each try expands poly)
        pairs = [(a, b) for a, b in pairs if a.name[:-2] == b.name[:-2]]
    for a, b in pairs:
        delta = sp.Dummy("delta")
        shifted = sp.expand(best.subs(a, b + delta))
        linear = shifted.coeff(delta, 1)
        if shifted.has(delta) and linear == 0 and sp.count_ops(shifted) < sp.count_ops(sp.expand(best)):
            best = shifted.subs(delta, a - b)
    return best


def _matched_symbols(expr: sp.Expr) -> list[tuple[sp.Symbol, sp.Symbol]]:
    """Pairs of symbols whose difference may shorten the expression: same parameter of P and Q first."""
    symbols = sorted(expr.free_symbols, key=str)
    pairs = [(a, b) for a in symbols for b in symbols if str(a) < str(b)]
    return sorted(pairs, key=lambda ab: ab[0].name[:-2] != ab[1].name[:-2])
