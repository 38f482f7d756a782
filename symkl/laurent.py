"""Limits at removable singularities, by truncated Laurent series built node by node.

A result specialized where its printed form reads 0/0 (continuousbernoulli at lam = 1/2, where the family is the
uniform) needs the limit there. sympy.limit on a whole KL expression took 20 to 50 s per side and sympy.series
longer; here each subexpression becomes a series in h (the distance to the point) with exact coefficients, so a
shared denominator is expanded once, and only as far as the result needs. Coefficients are numbers (every other
parameter has its value by then), so a vanishing leading coefficient is recognized numerically at 60 digits, and
the limit found is checked against the expression evaluated next to the point.
"""
from __future__ import annotations

from math import factorial

import mpmath
import sympy as sp

ORDERS = (6, 10, 16)  # terms kept per series; more when the poles eat the precision
ZERO_DIGITS = 45


class NoSeries(Exception):
    """This expression's limit is not found this way (a free symbol, an essential singularity, a branch)."""


class Series:
    """sum(coeffs[i] h^(start + i)) + O(h^order), where h -> 0+ and log(h) may appear as the symbol LOG_H."""

    def __init__(self, start: int, coeffs: list, order: int):
        self.start, self.coeffs, self.order = start, coeffs[:max(0, order - start)], order

    @classmethod
    def constant(cls, c, order):
        return cls(0, [c], order) if order > 0 else cls(order, [], order)

    def term(self, power: int):
        i = power - self.start
        return self.coeffs[i] if 0 <= i < len(self.coeffs) else sp.S.Zero

    def __add__(self, other: Series) -> Series:
        start, order = min(self.start, other.start), min(self.order, other.order)
        return Series(start, [sp.expand(self.term(k) + other.term(k)) for k in range(start, order)], order)

    def __mul__(self, other: Series) -> Series:
        a, b = self.normalized(), other.normalized()
        start = a.start + b.start
        order = min(a.start + b.order, b.start + a.order)
        coeffs = [sp.expand(sum((a.term(i) * b.term(k - i) for i in range(a.start, k - b.start + 1)), sp.S.Zero))
                  for k in range(start, order)]
        return Series(start, coeffs, order)

    def scaled(self, c) -> Series:
        return Series(self.start, [sp.expand(c * t) for t in self.coeffs], self.order)

    def normalized(self) -> Series:
        """The same series starting at its first non-zero coefficient (NoSeries if none is known)."""
        for i, c in enumerate(self.coeffs):
            if not _is_zero(c):
                return Series(self.start + i, self.coeffs[i:], self.order)
        return Series(self.order, [], self.order)

    def leading(self):
        lead = self.normalized()
        if not lead.coeffs:
            raise NoSeries("a leading coefficient beyond the kept terms")
        return lead

    def inverse(self) -> Series:
        lead = self.leading()
        v, c = lead.start, lead.coeffs[0]
        rest = Series(0, [sp.S.Zero] + [sp.expand(t / c) for t in lead.coeffs[1:]], lead.order - v)  # u - 1
        total, power = Series.constant(sp.S.One, rest.order), Series.constant(sp.S.One, rest.order)
        for _ in range(rest.order):
            power = power * rest.scaled(-1)
            total = total + power
        return Series(total.start - v, total.coeffs, total.order - v).scaled(1 / c)


LOG_H = sp.Dummy("log_h")


def limit_at(expr: sp.Expr, sym: sp.Symbol, value, side: str = "+"):
    """The limit of expr as sym -> value from ``side`` ("+" above, "-" below), or None where this method
    cannot tell (the caller then tries sympy.limit). expr must have no free symbol other than sym."""
    if expr.free_symbols - {sym}:
        return None
    h = sp.Dummy("h", positive=True)
    shifted = expr.xreplace({sym: value + h if side == "+" else value - h})
    for order in ORDERS:
        try:
            series = _series(shifted, h, order, {})
        except (NoSeries, ArithmeticError, TypeError, ValueError, AttributeError, NotImplementedError):
            return None  # an expression this method does not cover (a Piecewise, say): sympy.limit's turn
        if series.order <= 0:
            continue  # the poles used up the kept terms: keep more
        if any(not _is_zero(series.term(k)) for k in range(series.start, 0)):
            return None  # a pole: not a removable singularity
        limit = sp.expand(series.term(0))
        if limit.has(LOG_H):
            return None
        return limit if _agrees(expr, sym, value, side, limit) else None
    return None


def _series(e: sp.Expr, h: sp.Symbol, order: int, memo: dict) -> Series:
    if e in memo:
        return memo[e]
    out = _series_of(e, h, order, memo)
    memo[e] = out
    return out


def _series_of(e, h, order, memo) -> Series:
    if not e.has(h):
        return Series.constant(e, order)
    if e == h:
        return Series(1, [sp.S.One], order + 1)
    if e.is_Add:
        out = None
        for arg in e.args:
            s = _series(arg, h, order, memo)
            out = s if out is None else out + s
        return out
    if e.is_Mul:
        out = None
        for arg in e.args:
            s = _series(arg, h, order, memo)
            out = s if out is None else out * s
        return out
    if e.is_Pow:
        return _power(_series(e.base, h, order, memo), e.exp, order) if not e.exp.has(h) else \
            _function(sp.exp, _series(e.exp * sp.log(e.base), h, order, memo), order)
    if isinstance(e, sp.log):
        return _log(_series(e.args[0], h, order, memo), order)
    if isinstance(e, sp.Function) and sum(a.has(h) for a in e.args) == 1:
        i = next(j for j, a in enumerate(e.args) if a.has(h))
        z = sp.Dummy("z")
        f = e.func(*[z if j == i else a for j, a in enumerate(e.args)])
        return _function(sp.Lambda(z, f), _series(e.args[i], h, order, memo), order)
    raise NoSeries(f"no series for {e.func}")


def _power(base: Series, n, order) -> Series:
    if n.is_Integer:
        s = base if n > 0 else base.inverse()
        out = Series.constant(sp.S.One, order)
        for _ in range(abs(int(n))):
            out = out * s
        return out
    lead = base.leading()
    if not (lead.start * n).is_Integer:
        raise NoSeries("a fractional power of h")
    c = lead.coeffs[0]
    if not _is_positive(c):
        raise NoSeries("a fractional power of a negative leading term")
    ratio = Series(0, [sp.expand(t / c) for t in lead.coeffs], lead.order - lead.start)
    z = sp.Dummy("z")
    unit = _function(sp.Lambda(z, z**n), ratio, order)
    return Series(unit.start + int(lead.start * n), unit.coeffs, unit.order + int(lead.start * n)).scaled(c**n)


def _log(arg: Series, order) -> Series:
    lead = arg.leading()
    v, c = lead.start, lead.coeffs[0]
    if not _is_positive(c):
        raise NoSeries("the log of a negative leading term")
    ratio = Series(0, [sp.expand(t / c) for t in lead.coeffs], lead.order - v)
    z = sp.Dummy("z")
    return _function(sp.Lambda(z, sp.log(z)), ratio, order) + Series.constant(sp.log(c) + v * LOG_H, order)


def _function(f, arg: Series, order) -> Series:
    """f(arg) by Taylor's theorem about arg's constant term, which must be finite (arg of valuation >= 0)."""
    lead = arg.normalized()
    if lead.coeffs and lead.start < 0:
        raise NoSeries("a function of an argument that blows up")
    u0 = arg.term(0)
    delta = arg + Series.constant(-u0, arg.order)
    z = sp.Dummy("z")
    g = f(z)
    out = Series.constant(_finite(g.subs(z, u0)), order)
    power = Series.constant(sp.S.One, order)
    settled = delta.normalized()
    dv = settled.start if settled.coeffs else delta.order
    if dv <= 0:
        raise NoSeries("an argument that does not settle")
    for j in range(1, -(-order // dv) + 1):
        g = sp.diff(g, z)
        power = power * delta
        out = out + power.scaled(_finite(g.subs(z, u0)) / factorial(j))
    return Series(out.start, out.coeffs, min(out.order, order))


def _finite(c):
    if c.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise NoSeries("a singular point of a function")
    return c


def _numeric(c, dps=60):
    c = c.subs(LOG_H, 1) if c.has(LOG_H) else c  # the log(h) part is judged by its own coefficient below
    return sp.N(c, dps, maxn=600)


def _is_zero(c) -> bool:
    if c == 0:
        return True
    if c.has(LOG_H):
        poly = sp.Poly(c, LOG_H)
        return all(_is_zero(k) for k in poly.all_coeffs())
    if c.free_symbols:
        raise NoSeries("a coefficient with a free symbol")
    value = _numeric(c)
    return value == 0 or abs(complex(value)) < 10.0 ** -ZERO_DIGITS


def _is_positive(c) -> bool:
    value = complex(_numeric(c))
    return value.imag == 0 and value.real > 0


def _agrees(expr, sym, value, side, limit) -> bool:
    """The limit against expr evaluated at 100 digits a distance 1e-15 from the point: within 1e-10 (the
    distance is far below the terms the limit drops, and far above the digits lost where poles cancel)."""
    with mpmath.workdps(100):
        f = sp.lambdify(sym, expr, "mpmath")
        near = mpmath.mpf(sp.N(value, 100)) + (1 if side == "+" else -1) * mpmath.mpf(10) ** -15
        try:  # a limit sympy cannot evaluate (a Bessel function's derivative in its order) is not confirmed
            got, want = complex(f(near)), complex(sp.N(limit, 30))
        except (ValueError, ZeroDivisionError, TypeError):
            return False
    return abs(got - want) <= 1e-10 * max(1.0, abs(want))
