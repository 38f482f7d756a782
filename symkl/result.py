"""Result: a derived quantity for two (or one) specs, specialized to their values, in nats or another base."""
from __future__ import annotations

import random
from dataclasses import dataclass

import mpmath
import sympy as sp
from sympy.core.evalf import PrecisionExhausted

from .budget import attempt
from .divergence import TITLES, Derivation, derive_at_points, mass_points
from .support import bounds
from .expectation import Step
from .spec import Instance

BASES = {"e": sp.S.One, "2": sp.log(2), "10": sp.log(10)}
UNITS = {"e": "nats", "2": "bits", "10": "hartleys"}


@dataclass(frozen=True)
class Result:
    """``expr`` (sympy, in ``unit``), ``symbols`` (P's free parameters in order, then Q's), ``conditions``
    (when the result is finite), ``status``, ``reason`` (why infinite) and ``steps`` (how it was derived)."""

    quantity: str
    p: Instance
    q: Instance | None
    expr: sp.Expr | None
    symbols: tuple[sp.Symbol, ...]
    conditions: sp.Boolean
    status: str
    reason: str
    steps: tuple[Step, ...]
    base: str = "e"

    @property
    def unit(self) -> str:
        return UNITS[self.base]

    @property
    def title(self) -> str:
        if self.quantity == "expectation":
            return f"E[f(X)], X ~ {self.p.label}"
        names = f"{self.p.label}||{self.q.label}" if self.q else self.p.label
        shown = names.replace("||", ", ") if self.quantity == "cross_entropy" else names
        return f"{TITLES[self.quantity].split('(')[0]}({shown})"

    def value(self, dps: int = 50, fallback: bool = True):
        """The value as an mpmath number at ``dps`` digits (mpmath.inf when infinite); by quadrature where there
        is no closed form or mpmath cannot evaluate it, unless ``fallback`` is False (then ValueError: the check
        must not compare a quadrature with itself)."""
        if self.expr is None:
            return self._numeric_value(dps)
        free = sorted(self.expr.free_symbols & set(self.symbols), key=self.symbols.index)
        if free:
            raise ValueError(f"{self.title} still has free parameters: {', '.join(map(str, free))}; "
                             f"give every parameter a value, as in normal(0, 1)")
        if _infinite(self.expr):
            return mpmath.inf if self.expr == sp.oo else -mpmath.inf
        with mpmath.workdps(dps + 10):
            if self.expr.has(sp.Sum):  # sympy's evalf of a pmf-weighted series can be far off (Poisson(1000))
                from .numeric import mpmath_lambda
                return +mpmath_lambda((), self.expr)()
            try:  # None where mpmath gives up: a meijerg at extreme arguments (rayleigh(1/100)||halfcauchy(10))
                number = attempt(EVALUATION_SECONDS, "evaluating the closed form",
                                 lambda: _evaluated(self.expr, dps + 10))
            except ValueError:
                number = None
            if number is None or not number.is_Number or number.is_infinite or number is sp.nan:
                if fallback and self.quantity != "expectation" and not self.p.family.discrete:  # meijerg, say
                    return self._numeric_value(dps)
                raise ValueError(f"{self.title}: mpmath could not evaluate the closed form to a number")
            return +mpmath.mpf(number._mpf_) if number.is_Float else +mpmath.mpf(sp.Float(number, dps + 10)._mpf_)

    def _numeric_value(self, dps: int):
        """No closed form: the defining integral by quadrature (deterministic), when every value is given."""
        from .quadrature import numeric_value
        p_values = [v for v in self.p.bound]
        q_values = [v for v in self.q.bound] if self.q else []
        if any(v is None or isinstance(v, str) for v in p_values + q_values) or self.p.family.discrete:
            raise ValueError(f"{self.title}: no closed form was found; give every parameter a value for a "
                             f"numeric one")
        value = numeric_value(self.quantity, self.p.family, tuple(p_values),
                              self.q.family if self.q else None, tuple(q_values), dps)
        return value / mpmath.log(int(self.base)) if self.base != "e" else value

    def domains(self) -> dict:
        """Each free symbol's parameter domain (real, positive, unit, posint, ...)."""
        out = {}
        for inst, suffix in roles(self.p, self.q):
            subs = inst.substitutions(suffix)
            for param in inst.family.params:
                out.setdefault(subs.get(param.symbol(suffix), param.symbol(suffix)), param.domain)
        return {s: out[s] for s in self.symbols}

    def numeric(self, backend: str = "numpy", validate: bool = False):
        """A function of ``symbols``: vectorized float64 (numpy, scipy.special), scalar mpmath (dps=...), or
        differentiable torch / jax (when installed) for training losses.

        The numpy form is chosen among stable rewrites by measured accuracy; invalid arguments give nan,
        or ValueError naming the parameter with ``validate=True``. torch and jax use the same form.
        """
        from . import numeric
        if self.expr is None:
            raise ValueError(f"{self.title}: no closed form, so no numeric function; use value() at given values")
        if any(isinstance(s, sp.MatrixSymbol) for s in self.symbols):
            raise ValueError(f"{self.title} is in matrix symbols of dimension d: no numeric function; "
                             f"use a fixed dimension, as in mvnormal[2]")
        if backend == "mpmath":
            return numeric.mpmath_function(self.expr, self.symbols, self.domains())
        if backend not in ("numpy", "torch", "jax"):
            raise ValueError(f"unknown backend {backend!r}: use numpy, mpmath, torch or jax")
        f = numeric.numpy_function(self.expr, self.symbols, self.domains(), self.identities(), validate,
                                   self.finite_point)
        if backend == "numpy":
            return f
        from .autodiff import array_function
        return array_function(f, self.symbols, backend)

    def identities(self) -> dict:
        """Substitutions true for every valid parameter value (categorical: p1 + ... + pK = 1)."""
        out = {}
        for inst, suffix in roles(self.p, self.q):
            out.update(inst.family.identities(*inst.family.symbols(suffix)))
        return out

    def valid_point(self, point: tuple) -> bool:
        """Whether float values of ``symbols`` satisfy every relation between parameters (low < high)."""
        values = dict(zip(self.symbols, point))
        for inst, suffix in roles(self.p, self.q):
            subs = inst.substitutions(suffix)
            args = [subs.get(s, s) for s in inst.family.symbols(suffix)]
            args = [values.get(a, a) for a in args]
            if not all(bool(check(*args)) for check, _ in inst.family.relations):
                return False
        return True

    def finite_point(self, point: tuple) -> bool:
        """A valid point where the result is finite: where the accuracy of a float form means something (the
        infinite branch of a conditional result is exact; binomial||bernoulli is finite only at n_p = 1)."""
        if not self.valid_point(point):
            return False
        if not (isinstance(self.expr, sp.Piecewise) and self.expr.args[-1][0] == sp.oo):
            return True
        values = {s: sp.Float(v) for s, v in zip(self.symbols, point)}
        return sp.Or(*[c for _, c in self.expr.args[:-1]]).xreplace(values) is sp.true

    def accuracy(self, n: int = 12, seed: int = 0) -> dict[str, float]:
        """The worst relative error of ``numeric()`` against the closed form at 50 digits, per stress regime
        (general, near-equal P and Q, extreme scales, boundary probabilities, P = Q). A regime is left out where
        none of its points has a reference value (a series too long to sum, an argument beyond mpmath's reach):
        not measured is not an error of 0."""
        from . import numeric
        regimes = numeric.stress_points(self.symbols, self.domains(), random.Random(seed), n,
                                        self.identities(), self.finite_point)
        fn = self.numeric()
        errors = {regime: numeric.relative_errors(fn, self.expr, self.symbols, points, self.domains())
                  for regime, points in regimes.items()}
        return {regime: max(values) for regime, values in errors.items() if values}

    def decimal(self, dps: int = 20) -> str:
        v = self.value(dps)
        return "oo" if mpmath.isinf(v) else mpmath.nstr(v, dps)

    def latex(self) -> str:
        from .render import latex
        return "" if self.expr is None else latex(self.expr)

    def to_json(self) -> dict:
        """A JSON object: expr (parseable by sympy), symbols, latex, conditions, status, unit; value when numeric."""
        out = {"quantity": self.quantity, "p": self.p.label, "q": self.q.label if self.q else None,
               "expr": None if self.expr is None else str(self.expr), "symbols": [s.name for s in self.symbols],
               "latex": self.latex(), "conditions": str(self.conditions), "status": self.status,
               "reason": self.reason, "unit": self.unit}
        if self.expr is not None and not (self.expr.free_symbols & set(self.symbols)) or \
                self.expr is None and not self.symbols and not self.p.family.discrete:
            out["value"] = self.decimal(30)
        return out

    def __str__(self) -> str:
        return f"{self.title} = {self.expr}" if self.expr is not None else f"{self.title}: {self.reason}"


EVALUATION_SECONDS = 5.0  # CPU seconds for mpmath to evaluate a closed form (milliseconds, where it converges)


def specialize(d: Derivation, p: Instance, q: Instance | None, base: str = "e") -> Result:
    """Substitute the specs' values into a family-level derivation (0 log 0 = 0), then convert the base."""
    subs = {k: v for inst, suffix in roles(p, q) for k, v in inst.substitutions(suffix).items()}
    expr = None if d.expr is None else substitute(d.expr, subs)
    condition = d.condition.subs(subs) if subs else d.condition
    status, reason = d.status, d.reason
    shrunk = _on_mass_points(d.quantity, p, q)
    if shrunk is not None:
        expr, condition = shrunk, sp.true
        status, reason = ("infinite", "Q has no mass at a point where P has") if _infinite(expr) else ("closed", "")
    if status == "conditional" and condition in (sp.true, sp.false):
        status, reason = ("closed", "") if condition is sp.true else ("infinite", reason)
    if expr is not None and expr.has(sp.nan):  # 0/0 here, its limit not found: not a formula to print or use
        expr, status, reason = None, "no-closed-form", "the derived form reads 0/0 at these values, and its " \
            "limit there was not found"
    if status == "no-closed-form" and condition is sp.false:
        expr, status = sp.oo, "infinite"  # outside the finiteness condition: oo, with or without a closed form
    if expr is not None and _infinite(expr):
        status = "infinite"
        reason = reason or "the expectation diverges at these values"
    if expr is not None and base != "e":
        expr = expr if _infinite(expr) else expr / BASES[base]
    steps = d.steps + ((Step("with the given values", expr, ", ".join(f"{k} = {v}" for k, v in subs.items())),)
                       if subs else ())
    return Result(d.quantity, p, q, expr, _ordered_symbols(p, q), condition, status, reason, steps, base)


def _infinite(expr: sp.Expr) -> bool:
    """expr is +-oo, read from its form: sympy's is_infinite evaluates a numeric expression to decide, which for
    a Meijer G at extreme arguments took 30 s (rayleigh(1/100)||halfcauchy(10))."""
    return expr in (sp.oo, -sp.oo, sp.zoo)


def _on_mass_points(quantity: str, p: Instance, q: Instance | None):
    """For a discrete P whose given values shrink its support (p = 0 or 1), the sum over its mass points."""
    if not p.family.discrete or any(v is None or isinstance(v, str) for v in p.bound):
        return None
    if q is not None and any(v is None or isinstance(v, str) for v in q.bound):
        return None
    points = mass_points(p.family, p.bound)
    lo, hi = bounds(p.family.support(*p.bound))
    if points is None or (hi.is_finite and len(points) == hi - lo + 1):
        return None
    return derive_at_points(quantity, p.family, p.bound, q.family if q else None, q.bound if q else (), points)


def substitute(expr: sp.Expr, subs: dict) -> sp.Expr:
    """expr.subs(subs) where 0 log 0 = 0 and log 0 = -oo; where terms' infinities cancel, the limit is taken."""
    if not subs:
        return expr
    if isinstance(expr, sp.Piecewise):
        for branch, cond in expr.args:
            decided = cond.subs(subs)
            if decided is sp.true:
                return substitute(branch, subs)
            if decided is not sp.false:
                return sp.Piecewise(*[(substitute(b, subs), c.subs(subs)) for b, c in expr.args])
        return sp.nan
    out = expr.subs(subs)
    if not out.has(sp.nan, sp.zoo):
        return out
    terms = [_term_with_convention(t, subs) for t in sp.Add.make_args(expr)]
    infinities = {t for t in terms if t in (sp.oo, -sp.oo)}
    if len(infinities) == 1 and not any(t.has(sp.nan, sp.zoo) for t in terms):
        return infinities.pop()  # the other terms are finite expectations (convergent series included)
    out = sp.Add(*terms)
    return _limit(expr, subs) if out.has(sp.nan, sp.zoo) else out  # zoo*(a 0 sympy does not see): 0/0 too


def _term_with_convention(term: sp.Expr, subs: dict) -> sp.Expr:
    """One product term: 0 when a factor is 0 and only logs blow up (x log x -> 0), else log 0 read as -oo."""
    value = term.subs(subs)
    if not value.has(sp.nan, sp.zoo):
        return value
    factors = sp.Mul.make_args(term)
    values = [f.subs(subs) for f in factors]
    logs_only = all(v.is_finite or isinstance(f, sp.log) or (f.is_Pow and isinstance(f.base, sp.log))
                    for f, v in zip(factors, values))
    if logs_only and any(v == 0 for v in values):
        return sp.S.Zero
    return term.replace(lambda e: isinstance(e, sp.log) and e.args[0].subs(subs) in (0, sp.zoo, sp.oo),
                        lambda e: -sp.oo if e.args[0].subs(subs) == 0 else sp.oo).subs(subs)


def _limit(expr: sp.Expr, subs: dict) -> sp.Expr:
    """Where terms' infinities cancel (a removable singularity: continuousbernoulli at lam = 1/2): the values
    that substitute plainly first, then the limit in each remaining parameter from inside the domain, by
    Laurent series (laurent.py), else by sympy.limit."""
    from .laurent import limit_at
    out, pending = expr, []
    for sym, val in subs.items():
        direct = out.subs(sym, val)
        if direct.has(sp.nan, sp.zoo):
            pending.append((sym, val))
        else:
            out = direct
    for sym, val in pending:
        direct = out.subs(sym, val)
        if not direct.has(sp.nan, sp.zoo):
            out = direct
            continue
        for side in ("-", "+"):
            try:
                candidate = limit_at(out, sym, val, side)
                if candidate is None:
                    candidate = attempt(10, "a limit at the boundary", lambda: sp.limit(out, sym, val, side))
            except (NotImplementedError, ValueError):
                continue
            if candidate is not None and candidate.is_real is not False and not candidate.has(sp.nan, sp.zoo, sp.Limit):
                out = candidate
                break
        else:
            return sp.nan
    return out


def _ordered_symbols(p: Instance, q: Instance | None) -> tuple[sp.Symbol, ...]:
    """Unbound parameters in the declared order: P's, then Q's (a shared name where it first appears)."""
    order = []
    for inst, suffix in roles(p, q):
        subs = inst.substitutions(suffix)
        order += [s for s in (subs.get(sym, sym) for sym in inst.family.symbols(suffix))
                  if isinstance(s, (sp.Symbol, sp.MatrixSymbol)) and s not in order]
    return tuple(order)


def roles(p: Instance, q: Instance | None) -> list[tuple[Instance, str]]:
    """(instance, symbol suffix) for P and Q: bare names for a one-distribution result, _p and _q otherwise."""
    return [(p, "")] if q is None else [(p, "_p"), (q, "_q")]


def _evaluated(expr: sp.Expr, dps: int) -> sp.Expr | None:
    """expr at ``dps`` digits, or None. sympy's evalf can return a sum whose terms cancel past its working
    precision as noise: exp(500399) - exp(500399)*erf(500*sqrt(2)) (halfnormal(10)||gumbel(399/100, 1/100))
    came out as -1e217156 for a KL of 1.5e170. So the evaluation is strict, erf written as 1 - erfc and the
    sum expanded first (such terms then cancel exactly; a strict evalf of the sum as it is can spend seconds
    raising its precision before it gives up); a value at noise level is taken as the zero it is (a closed form
    at P = Q), and anything larger is None: not a number to trust."""
    from .numeric import erf_as_erfc
    for form in dict.fromkeys([erf_as_erfc(expr), expr]):
        try:
            return _real(sp.N(form, dps, strict=True), dps)
        except PrecisionExhausted:
            continue
    loose = _real(sp.N(expr, dps), dps)
    return loose if loose.is_Number and abs(loose) <= sp.Float(10) ** (10 - dps) else None


def _real(number: sp.Expr, dps: int) -> sp.Expr:
    """A real value that evaluated with an imaginary part at rounding level (continuousbernoulli's KL at lam_p =
    1/2 is a limit with log(-2) + i pi terms that cancel) as its real part; anything else as it is."""
    re, im = number.as_real_imag()
    if im != 0 and re.is_Number and im.is_Number and re.is_finite and im.is_finite and \
            abs(im) <= sp.Float(10) ** -dps * max(1, abs(re)):
        return re
    return number
