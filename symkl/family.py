"""Family and Param: a distribution family declared once, as data, and its specialization from a spec."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

import sympy as sp

from .serialize import key_text
from .vector import SymmetricMatrixSymbol

# Parameter domains: (sympy assumptions for the symbol, value check, the constraint as users read it).
_DOMAINS = {
    "real": ({"real": True}, lambda v: v.is_real, "a real number"),
    "positive": ({"positive": True}, lambda v: v > 0, "> 0"),
    "unit": ({"positive": True}, lambda v: 0 <= v <= 1, "in [0, 1]"),
    "unit_open": ({"positive": True}, lambda v: 0 < v < 1, "in (0, 1)"),
    "unit_left_open": ({"positive": True}, lambda v: 0 < v <= 1, "in (0, 1]"),
    "posint": ({"positive": True, "integer": True}, lambda v: v.is_integer and v > 0, "a positive integer"),
}


def sample_value(domain: str, rng, edge: bool = False) -> sp.Rational:
    """An exact random value in a parameter domain, for numeric checks; ``edge`` draws near the domain's edges."""
    if domain == "posint":
        return sp.Integer(rng.randint(1, 3 if edge else 8))
    if domain.startswith("unit"):
        return sp.Rational(rng.choice((1, 999)), 1000) if edge else sp.Rational(rng.randint(5, 95), 100)
    if domain == "positive":
        return sp.Rational(rng.choice((1, 1000)), 100) if edge else sp.Rational(rng.randint(5, 500), 100)
    return sp.Rational(rng.randint(-500, 500), 100)


class FamilyError(ValueError):
    """A spec names an unknown family or gives a parameter value outside its domain."""


@dataclass(frozen=True)
class Param:
    """One parameter: its name and domain; the domain gives both sympy assumptions and the value check.

    A ``shape`` makes it a matrix symbol (a general-d family's mean vector, or with domain spd its covariance).
    """

    name: str
    domain: str = "real"
    shape: tuple = ()

    def symbol(self, suffix: str = "") -> sp.Symbol:
        if self.shape:
            return (SymmetricMatrixSymbol if self.domain == "spd" else sp.MatrixSymbol)(self.name + suffix, *self.shape)
        return sp.Symbol(self.name + suffix, **_DOMAINS[self.domain][0])

    def violation(self, value: sp.Expr) -> str | None:
        """The violated constraint as a message, or None when the value is allowed."""
        if not value.is_real or value.is_infinite:
            return f"{self.name} must be a finite real number, got {value}"
        ok = _DOMAINS[self.domain][1](value)
        return None if bool(ok) else f"{self.name} must be {_DOMAINS[self.domain][2]}, got {value}"


@dataclass(frozen=True)
class ExpFamily:
    """Exponential-family form: log p(x) = eta . T(x) - A(eta) + log h(x).

    ``natural(*params)`` gives eta; ``log_partition(eta, *params)`` gives A in terms of the tuple eta (params only
    for fixed ones such as a binomial's n); ``stats(x)`` gives T(x); ``log_base(x, *params)`` gives log h(x).
    With ``fixed_stats`` the statistics take the parameters too, ``stats(x, *params)``: the family is then an
    exponential family in eta with those parameters held fixed (studentt's log(1 + ((x - loc)/scale)**2/df) at
    fixed df, loc, scale), which is all E[T] = grad A(eta) needs.
    """

    stats: Callable[..., tuple]
    natural: Callable[..., tuple]
    log_partition: Callable[..., sp.Expr]
    log_base: Callable[[sp.Symbol], sp.Expr]
    fixed_stats: bool = False

    def statistics(self, x, *params) -> tuple:
        """T(x) at the given parameters (they matter only with ``fixed_stats``)."""
        return self.stats(x, *params) if self.fixed_stats else self.stats(x)


@dataclass(frozen=True, eq=False)
class Family:
    """A family declared once: everything symkl derives about it comes from these fields.

    ``log_density(x, *params)`` and ``support(*params)`` take parameter symbols (or values); ``mgf(t, *params)``
    is E[exp(tX)], ``mellin(t, *params)`` is E[X**t] for positive families; ``affine(*params)`` gives
    (loc, scale, standard params) with X = loc + scale*Z, Z from the same family at the standard params;
    ``transformation(*params)`` gives (base family, its params, g) with X = g(Y), g monotone;
    ``mirror(*params)`` gives (base family, its params, c, g) with X = c + S*g(Y), S = +-1 with probability 1/2
    each, independent of Y, and g >= 0 (a studentt is loc +- scale*sqrt(df*(1/W - 1)), W ~ beta(df/2, 1/2));
    ``mgf_domain(*params)`` and ``mellin_domain(*params)`` are the intervals of t where E[exp(tX)] and E[X**t]
    are finite (None: every real t), so that a heavy tail gives oo, never a formula used outside its domain;
    ``moments_below(*params)`` is the order below which E|X|^k is finite, for a heavy-tailed family (cauchy: 1);
    ``known_expectation(h, x, *params)`` supplies E[h(X)] where no rule derives it, or returns None: written
    once per family, tested against quadrature, and shown as supplied (not derived) in the steps.

    A vector X has ``dim`` coordinates (an int, or a symbol for a general-d family, where x is a matrix symbol;
    None for a scalar X);
    its ``mgf(t, ...)`` takes a column t; ``components(*params)`` gives ((family, params), ...), one per
    coordinate, when the coordinates are independent; ``moments(*params)`` gives (mean, covariance);
    ``arrays`` names parameters a spec may give as one list: (name, positions), nested for a matrix, a position
    appearing twice (a symmetric matrix) needing equal values.
    """

    name: str
    params: tuple[Param, ...]
    support: Callable[..., sp.Set]
    log_density: Callable[..., sp.Expr]
    discrete: bool = False
    aliases: tuple[str, ...] = ()
    relations: tuple[tuple[Callable[..., bool], str], ...] = ()
    exp_family: ExpFamily | None = None
    mgf: Callable[..., sp.Expr] | None = None
    mellin: Callable[..., sp.Expr] | None = None
    affine: Callable[..., tuple] | None = None
    transformation: Callable[..., tuple] | None = None
    mirror: Callable[..., tuple] | None = None
    mgf_domain: Callable[..., sp.Interval] | None = None
    mellin_domain: Callable[..., sp.Interval] | None = None
    moments_below: Callable[..., sp.Expr] | None = None
    known_expectation: Callable[..., sp.Expr | None] | None = None
    description: str = ""
    index: int | sp.Symbol | None = None
    dim: int | sp.Symbol | None = None
    components: Callable[..., tuple] | None = None
    moments: Callable[..., tuple] | None = None
    arrays: tuple[tuple[str, tuple], ...] = ()
    _fingerprint: list = field(default_factory=list, repr=False)

    @property
    def label(self) -> str:
        """The canonical spec name: ``normal``, or ``categorical[3]`` for an indexed family."""
        return self.name if self.index is None else f"{self.name}[{self.index}]"

    def symbols(self, suffix: str = "") -> tuple[sp.Symbol, ...]:
        return tuple(p.symbol(suffix) for p in self.params)

    def variable(self) -> sp.Symbol:
        """The variable x, with assumptions that hold on the support (so sympy can expand log x); for a vector X
        the column of coordinates x1..xd, or the matrix symbol x when d is symbolic."""
        if self.discrete:
            return sp.Symbol("x", integer=True)
        if isinstance(self.dim, sp.Symbol):
            return sp.MatrixSymbol("x", self.dim, 1)
        support = self.support(*self.symbols())
        if self.dim is not None:
            base = support.base_set if isinstance(support, sp.ConditionSet) else support
            positive = all((s.inf >= 0) is sp.true for s in base.sets)
            return sp.Matrix(sp.symbols(f"x1:{self.dim + 1}", **({"positive": True} if positive else {"real": True})))
        low = support.inf if isinstance(support, sp.Interval) else -sp.oo
        return sp.Symbol("x", positive=True) if (low >= 0) is sp.true else sp.Symbol("x", real=True)

    def violations(self, values: dict[str, sp.Expr]) -> list[str]:
        """Messages for every constraint the given parameter values break (unknown parameters stay symbolic)."""
        bad = [msg for p in self.params if p.name in values and (msg := p.violation(values[p.name]))]
        if bad:
            return bad
        for check, text in self.relations:
            args = [values.get(p.name) for p in self.params]
            if all(a is not None for a in args) and not bool(check(*args)):
                bad.append(f"{self.label} needs {text}")
        return bad

    def fingerprint(self) -> str:
        """A hash of the declaration's content: a cache keyed by it can never serve a changed declaration."""
        if not self._fingerprint:
            syms, x = self.symbols(), self.variable()
            t = sp.Matrix(sp.symbols(f"t1:{self.dim + 1}")) if isinstance(x, sp.MatrixBase) else sp.Symbol("t")
            parts = [self.label, repr(self.params), self.discrete, key_text(self.support(*syms)),
                     key_text(self.log_density(x, *syms))]
            if self.exp_family:
                ef = self.exp_family
                eta = self.natural_symbols()
                parts += [key_text(ef.statistics(x, *syms)), key_text(ef.natural(*syms)),
                          key_text(ef.log_partition(eta, *syms)), key_text(ef.log_base(x, *syms))]
            for fn in (self.mgf, self.mellin):
                parts.append(key_text(fn(t, *syms)) if fn else "-")
            parts.append(key_text(self.affine(*syms)) if self.affine else "-")
            parts += [key_text(fn(*syms)) if fn else "-" for fn in (self.mgf_domain, self.mellin_domain)]
            parts.append(key_text(self.moments_below(*syms)) if self.moments_below else "-")
            parts.append(self.known_expectation.__qualname__ if self.known_expectation else "-")
            if self.transformation:
                base, base_params, g = self.transformation(*syms)
                parts += [base.fingerprint(), key_text(base_params), key_text(g(sp.Symbol("y")))]
            if self.mirror:
                base, base_params, centre, g = self.mirror(*syms)
                parts += [base.fingerprint(), key_text(base_params), key_text(centre), key_text(g(sp.Symbol("y")))]
            if self.components:
                parts += [(fam.fingerprint(), key_text(ps)) for fam, ps in self.components(*syms)]
            parts += [key_text(self.moments(*syms)) if self.moments else "-", repr(self.arrays), str(self.dim)]
            self._fingerprint.append(hashlib.sha256(repr(parts).encode()).hexdigest())
        return self._fingerprint[0]

    def log_density_at(self, x, *values) -> sp.Expr:
        """log p(x) at parameter values; where the declared form is 0/0 there (continuousbernoulli's normalizer
        2 atanh(1 - 2 lam)/(1 - 2 lam) at lam = 1/2), its limit: a nan density made quadrature return 0."""
        direct = self.log_density(x, *values)
        if not direct.has(sp.nan, sp.zoo):
            return direct
        expr = self.log_density(x, *self.symbols())
        for s, v in zip(self.symbols(), values):
            at = expr.subs(s, v)
            expr = sp.limit(expr, s, v) if at.has(sp.nan, sp.zoo) else at
        return expr

    def density(self, x, *params) -> sp.Expr:
        """exp(log_density) as a product of powers: p**k*(1 - p)**(n - k)/gamma(k + 1), not exp(k*log(p) ...)."""
        return sp.Mul(*[_exp_term(t) for t in sp.Add.make_args(self.log_density(x, *params))])

    def identities(self, *params) -> dict:
        """Substitutions that hold for every valid parameter value (categorical: p1 + ... + pK = 1)."""
        return {sp.Add(*params): 1} if self.name == "categorical" else {}

    def natural_symbols(self) -> tuple[sp.Symbol, ...]:
        n = len(self.exp_family.statistics(self.variable(), *self.symbols()))
        return tuple(sp.Symbol(f"eta{i + 1}", real=True) for i in range(n))


def _exp_term(term: sp.Expr) -> sp.Expr:
    """exp(c*log(u)) -> u**c, exp(c*loggamma(u)) -> gamma(u)**c, anything else stays exp(term)."""
    coeff, rest = term.as_independent(sp.log, sp.loggamma, as_Add=False)
    if isinstance(rest, sp.log):
        return rest.args[0] ** coeff
    if isinstance(rest, sp.loggamma):
        return sp.gamma(rest.args[0]) ** coeff
    return sp.exp(term)
