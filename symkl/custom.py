"""Custom densities: a Family built from user text (a density in x, a support, assumptions on the parameters).

The density becomes a declaration like the catalog's (log-density, support, parameters with domains), so every
query, proof, check and rendering applies to it unchanged; its expectations come from the engine's general
routes (integration or summation within the time budget). Before use it must be a density: non-negative on its
support and of total mass 1, shown symbolically when sympy can within ``NORMALIZATION_SECONDS``, else by
quadrature (summation) at sampled parameter values. User text goes through ``symkl.parse`` only.

    >>> from symkl.custom import density
    >>> density("rate*exp(-rate*x)", "[0, oo)", assume="rate > 0").family.params
    (Param(name='rate', domain='positive'),)
"""
from __future__ import annotations

import math
import random

import mpmath
import sympy as sp

from .budget import attempt
from .family import Family, FamilyError, Param, sample_value
from .parse import ParseError, free_names, parse_condition, parse_expression, parse_spec
from .quadrature import _piece, _plain_landmarks
from .spec import RESERVED_NAMES, Instance, _bind
from .support import bounds

NORMALIZATION_SECONDS = 8.0
SAMPLE_POINTS = 3
MASS_TOLERANCE = mpmath.mpf(10) ** -6   # quadrature near a singular end (x**(-0.95) at 0) gets ~7 digits
DEFAULT_SUPPORT = {False: "(-oo, oo)", True: "{0, 1, 2, ...}"}

# (lower bound, strict, upper bound, strict) of a parameter -> its domain (see family._DOMAINS)
_BOUNDED_DOMAINS = {(0, True, None, None): "positive", (0, False, 1, False): "unit",
                    (0, True, 1, True): "unit_open", (0, True, 1, False): "unit_left_open"}


class DensityError(FamilyError):
    """A custom density that cannot be used: negative or non-real values, total mass other than 1, an empty or
    non-integer discrete support (unreadable text is a ParseError)."""


def density(text: str, support: str | None = None, discrete: bool = False, assume: str = "",
            values: str = "") -> Instance:
    """A custom distribution as a spec instance: ``values`` ("a=2" or "2") binds parameters like a spec does."""
    fam = density_family(text, support, discrete, assume)
    if not values.strip():
        return Instance(fam, (None,) * len(fam.params))
    try:
        parsed = parse_spec(f"density({values})")
    except ParseError as err:
        raise ParseError(f"cannot read the parameter values {values!r}: {err}") from None
    return Instance(fam, _bind(fam, parsed))


def density_family(text: str, support: str | None = None, discrete: bool = False, assume: str = "") -> Family:
    """Build the family and check that it is a density (non-negative, total mass 1); DensityError otherwise."""
    fam = _build(text, support, discrete, assume)
    check_density(fam)
    return fam


def _build(text: str, support_text: str | None, discrete: bool, assume: str) -> Family:
    """Parameters (the free names other than x, in order of appearance in the support, then the density), their
    domains, the support, and the log-density split into the simple terms the engine takes expectations of."""
    discrete = discrete or (support_text or "").strip().startswith("{")
    support_text = support_text if support_text and support_text.strip() else DEFAULT_SUPPORT[discrete]
    density_names = _read("density", text, free_names, text)
    names = list(dict.fromkeys(n for n in _support_names(support_text) + density_names if n != "x"))
    bad = [n for n in names if n in RESERVED_NAMES]
    if bad:
        raise DensityError(f"{bad[0]!r} cannot be a parameter name; write the density in x and name the "
                           f"parameters otherwise")
    params, relations = _params(names, assume)
    symbols = tuple(p.symbol() for p in params)
    support = _support(support_text, discrete, dict(zip(names, symbols)))
    lo = bounds(support)[0]
    x = sp.Symbol("x", integer=True) if discrete else \
        sp.Symbol("x", positive=True) if (lo >= 0) is sp.true else sp.Symbol("x", real=True)
    expr = _read("density", text, parse_expression, text, {"x": x, **dict(zip(names, symbols))})
    log_expr = _log_density(expr, x)
    label = " ".join(text.split())
    return Family(label, params, discrete=discrete, relations=relations,
                  support=lambda *values: support.xreplace(dict(zip(symbols, values))),
                  log_density=lambda at, *values: log_expr.xreplace({x: at, **dict(zip(symbols, values))}),
                  description=f"custom density {label} on {support_text.strip()}")


def _read(what: str, text: str, parse, *args):
    """A parser's result, its ParseError restated with what was being read."""
    try:
        return parse(*args)
    except ParseError as err:
        raise ParseError(f"cannot read the {what} {text!r}: {err}") from None


def _support_names(text: str) -> list[str]:
    return [n for item in _items(text) if item.strip() != "..." for n in _read("support", text, free_names, item)]


def _items(text: str) -> list[str]:
    """The comma-separated items between the outer brackets of "[a, b)" or "{0, 1, ...}" (commas inside
    parentheses, as in max(a, b), do not split)."""
    text = text.strip()
    if len(text) < 2 or text[0] not in "[({" or text[-1] not in "])}" or (text[0] == "{") != (text[-1] == "}"):
        raise ParseError(f"a support is an interval such as '[0, oo)' or '(0, 1)', or a set of integers such as "
                         f"'{{0, 1, 2, ...}}' or '{{0, 1, 2}}'; got {text!r}")
    items, depth, start = [], 0, 1
    for i, char in enumerate(text[1:-1], 1):
        depth += {"(": 1, ")": -1, "[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    return items + [text[start:-1]]


def _support(text: str, discrete: bool, names: dict) -> sp.Set:
    """An interval, or for a discrete density a range (or set) of integers."""
    text = text.strip()
    items = _items(text)
    if text[0] == "{":
        return _integer_set(items, names)
    if len(items) != 2:
        raise ParseError(f"an interval has two ends, got {text!r}")
    lo, hi = (_read("support", text, parse_expression, item, names) for item in items)
    if (lo < hi) is sp.false:
        raise DensityError(f"the support {text} is empty: its lower end must be below its upper end")
    if not discrete:
        return sp.Interval(lo, hi, left_open=text[0] == "(", right_open=text[-1] == ")")
    if not (lo.is_Integer and (hi.is_Integer or hi == sp.oo)):
        raise DensityError(f"a discrete support starts at a whole number and ends at one or at oo, got {text!r}")
    first = lo + 1 if text[0] == "(" and lo.is_finite else lo
    return sp.Range(first, hi if text[-1] == ")" or hi.is_infinite else hi + 1)


def _integer_set(items: list[str], names: dict) -> sp.Set:
    """{0, 1, 2, ...} (a run of integers, open-ended), {0, 1, ..., 5}, or {0, 2, 5} (listed points)."""
    stripped = [item.strip() for item in items]
    points = [_read("support", item, parse_expression, item, names) for item in stripped if item != "..."]
    if not points or not all(p.is_Integer for p in points):
        raise DensityError("the points of a discrete support must be whole numbers, as in {0, 1, 2, ...}")
    if "..." not in stripped:
        run = points == list(range(points[0], points[0] + len(points)))
        return sp.Range(points[0], points[-1] + 1) if run else sp.FiniteSet(*points)
    dots = stripped.index("...")
    if dots == len(stripped) - 1:
        return sp.Range(points[0], sp.oo)
    if dots == len(stripped) - 2 and points[-1] > points[-2]:
        return sp.Range(points[0], points[-1] + 1)
    raise ParseError("write a run of integers as {0, 1, 2, ...} or {0, 1, ..., 10}")


def _params(names: list[str], assume: str) -> tuple[tuple[Param, ...], tuple]:
    """Each parameter's domain from --assume ("a > 0", "0 < p < 1"); real by default. A condition that is no
    domain (a > 1, low < high) is kept as a relation, checked on given and sampled values."""
    if not assume.strip():
        return tuple(Param(n) for n in names), ()
    real = {n: sp.Symbol(n, real=True) for n in _read("assumptions", assume, free_names, assume)}
    condition = _read("assumptions", assume, parse_condition, assume, real)
    limits: dict[str, list] = {n: [None, None, None, None] for n in names}
    relations = []
    for relation in sp.And.make_args(condition):
        if not {s.name for s in relation.free_symbols} <= set(names):
            continue  # about another density's parameters (P's and Q's share one --assume)
        if not _as_bound(relation, limits):
            relations.append(relation)
    real.update({n: sp.Symbol(n, real=True) for n in names})
    domains = {n: _BOUNDED_DOMAINS.get(tuple(lim)) for n, lim in limits.items()}
    for n, lim in limits.items():
        if domains[n] is None:
            lower = lim[0] is not None and lim[0] >= 0 and (lim[0] > 0 or lim[1])
            domains[n] = "positive" if lower else "real"
            relations += [r for r in _bound_relations(real[n], lim)]
    symbols = [real[n] for n in names]
    checks = tuple((_check(relation, symbols), str(relation)) for relation in relations)
    return tuple(Param(n, domains[n]) for n in names), checks


def unused_assumptions(assume: str, families: list) -> list[str]:
    """Names in --assume that are no parameter of any of the custom families (a typo, most often)."""
    used = {p.name for fam in families for p in fam.params}
    return [n for n in free_names(assume) if n not in used] if assume.strip() else []


def _as_bound(relation, limits) -> bool:
    """Record 'name > number' (or <, >=, <=, either way round) in limits; False for any other condition."""
    if not isinstance(relation, (sp.StrictGreaterThan, sp.StrictLessThan, sp.GreaterThan, sp.LessThan)):
        return False
    left, right = relation.lhs, relation.rhs
    if left.is_Symbol and right.is_number:
        name, value, lower = left.name, right, isinstance(relation, (sp.StrictGreaterThan, sp.GreaterThan))
    elif right.is_Symbol and left.is_number:
        name, value, lower = right.name, left, isinstance(relation, (sp.StrictLessThan, sp.LessThan))
    else:
        return False
    strict = isinstance(relation, (sp.StrictGreaterThan, sp.StrictLessThan))
    slot = 0 if lower else 2
    limits[name][slot:slot + 2] = [value, strict]
    return True


def _bound_relations(symbol, lim) -> list:
    out = []
    if lim[0] is not None and not (lim[0] == 0 and lim[1]):
        out.append(sp.Gt(symbol, lim[0]) if lim[1] else sp.Ge(symbol, lim[0]))
    if lim[2] is not None:
        out.append(sp.Lt(symbol, lim[2]) if lim[3] else sp.Le(symbol, lim[2]))
    return out


def _check(relation, symbols):
    """A value check for Family.relations: the relation with every parameter replaced by its value."""
    return lambda *values: relation.xreplace(dict(zip(symbols, values))) is sp.true


def _log_density(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """log of the density split into terms (log(rate) - rate*x), the form the engine expands; the plain
    log(density) where splitting would cross a branch cut (factors negative on the support)."""
    if expr.is_zero:
        raise DensityError("the density is 0 everywhere")
    split = sp.expand_log(sp.log(expr), force=True)
    if split.has(sp.I):
        return sp.log(expr)  # log(-log(x)) split into log(-1) + log(log(x))
    probe = {s: sp.Rational(3, 7) + i for i, s in enumerate(sorted(expr.free_symbols, key=str))}
    try:
        same = abs(complex(sp.N((sp.exp(split) - expr).xreplace(probe)))) < 1e-12
    except (TypeError, ValueError):
        same = False
    return split if same else sp.log(expr)


def check_density(fam: Family) -> str:
    """How the density was found to be one ("symbolically" or "numerically at ..."); DensityError if it is not."""
    x, params = fam.variable(), fam.symbols()
    p = fam.density(x, *params)
    if p.is_nonnegative is False or p.is_extended_real is False:
        raise DensityError(f"the density {fam.label} is negative (or not real) on its support{_hint(fam)}")
    points = _sample_points(fam, edges=True)
    if p.is_nonnegative is not True:
        for values in points:
            _check_sign(fam, values)
    total = _symbolic_mass(fam)
    if total is not None:
        return _judge_mass(fam, total, points)
    points = _sample_points(fam, edges=False)  # quadrature is reliable away from the domains' edges
    for values in points:
        mass = _numeric_mass(fam, values)
        if mass is None or abs(mass - 1) > MASS_TOLERANCE:
            shown = "does not converge" if mass is None else f"is {mpmath.nstr(mass, 12)}"
            raise DensityError(f"the density {fam.label} is not normalized: its total mass {shown} at "
                               f"{_show(fam, values)} (it must be 1)")
    return f"numerically at {len(points)} sampled parameter points"


def _judge_mass(fam: Family, total: sp.Expr, points: list) -> str:
    """A closed-form total mass: 1 (exactly, or at every sampled point), else a refusal that shows it."""
    if sp.simplify(total - 1) == 0:
        return "symbolically"
    for values in points:
        value = sp.N(total.xreplace(dict(zip(fam.symbols(), values))), 30)
        if not value.is_number or abs(value - 1) > 1e-20:
            where = f" (at {_show(fam, values)}: {sp.N(value, 12)})" if total.free_symbols else ""
            raise DensityError(f"the density {fam.label} is not normalized: its total mass is {total}{where}, "
                               f"not 1; divide it by that")
    return "symbolically, equal to 1 at sampled parameter points"


def _symbolic_mass(fam: Family) -> sp.Expr | None:
    """The integral (sum) of the density over its support in closed form, or None (no closed form in time)."""
    x, params = fam.variable(), fam.symbols()
    support, p = fam.support(*params), fam.density(x, *params)
    if isinstance(support, sp.FiniteSet):
        return sp.Add(*[p.subs(x, k) for k in support])
    lo, hi = bounds(support)
    if fam.discrete:
        k = sp.Symbol("k", integer=True)
        step = lambda: sp.Sum(p.subs(x, k), (k, lo, hi)).doit()  # noqa: E731
    else:
        step = lambda: sp.integrate(p, (x, lo, hi), conds="none")  # noqa: E731
    try:
        total = attempt(NORMALIZATION_SECONDS, "the normalization integral", step)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if total is None or total.has(sp.Integral, sp.Sum, sp.nan, sp.zoo, sp.Piecewise):
        return None
    return total


def _sample_points(fam: Family, edges: bool) -> list[tuple]:
    """Parameter values drawn from their domains (every third near an edge when ``edges``), satisfying the
    relations, with a fixed seed: reproducible."""
    rng, points = random.Random(0), []
    for attempt_no in range(200):
        values = tuple(sample_value(p.domain, rng, edge=edges and attempt_no % 3 == 2) for p in fam.params)
        if not fam.violations({p.name: v for p, v in zip(fam.params, values)}):
            points.append(values)
            if len(points) == SAMPLE_POINTS:
                return points
    if not points:
        raise DensityError(f"no parameter values satisfying the assumptions could be drawn for {fam.label}")
    return points


_NUMERIC_ERRORS = (ZeroDivisionError, ValueError, TypeError, OverflowError, MemoryError)


def _numeric_pdf(fam: Family, values: tuple):
    """The density at given parameter values as an mpmath function; nan where it cannot be evaluated (a value
    too large for memory, as exp(exp(exp(x))) gives), so that checks refuse it instead of failing."""
    x = fam.variable()
    density = fam.density(x, *values)
    pdf = sp.lambdify(x, density, "mpmath")
    try:
        in_floats = sp.lambdify(x, density, "math")
    except (NameError, KeyError, TypeError):
        in_floats = None

    def guarded(t):
        try:
            if in_floats is not None and math.isinf(in_floats(float(t))):
                return mpmath.inf  # mpmath would take ages on exp(huge) to give the same answer
        except OverflowError:
            return mpmath.inf
        except (*_NUMERIC_ERRORS, NameError):
            pass
        try:
            return mpmath.mpmathify(pdf(t))
        except _NUMERIC_ERRORS:
            return mpmath.nan
    return guarded


def _check_sign(fam: Family, values: tuple) -> None:
    """The density at points spread over the support: a negative or non-real value is refused."""
    pdf = _numeric_pdf(fam, values)
    with mpmath.workdps(30):
        for point in _grid(*bounds(fam.support(*values)), fam.discrete):
            value = pdf(point)
            if isinstance(value, mpmath.mpc) and abs(value.imag) > 1e-20 or mpmath.re(value) < -1e-20:
                raise DensityError(f"the density {fam.label} is negative (or not real) at x = "
                                   f"{mpmath.nstr(point, 8)} with {_show(fam, values)}{_hint(fam)}")


def _grid(lo, hi, discrete: bool) -> list:
    """Points over a support: its first 200 integers, 200 evenly spaced points, or geometric steps from a
    finite end (from 0 both ways on the real line)."""
    if discrete:
        return [int(lo) + k for k in range(200) if hi.is_infinite or int(lo) + k <= hi]
    lo, hi = (mpmath.mpf(sp.N(v, 30)) if v.is_finite else None for v in (lo, hi))
    if lo is not None and hi is not None:
        return [lo + (hi - lo) * (k + mpmath.mpf(1) / 2) / 200 for k in range(200)]
    steps = [mpmath.mpf(2) ** k for k in range(-20, 10)]
    if lo is not None:
        return [lo + s for s in steps]
    if hi is not None:
        return [hi - s for s in steps]
    return [mpmath.mpf(0)] + steps + [-s for s in steps]


def _numeric_mass(fam: Family, values: tuple):
    """Total mass by tanh-sinh quadrature split at the support ends and at the points the quadrature of the
    definitions uses, with the substitution that tames singular ends (x**(a - 1) at 0), or by a sum, at 30
    digits; None when it is not a finite number."""
    pdf = _numeric_pdf(fam, values)
    lo, hi = (mpmath.inf if v == sp.oo else -mpmath.inf if v == -sp.oo else mpmath.mpf(sp.N(v, 40))
              for v in bounds(fam.support(*values)))
    cuts = _plain_landmarks(*bounds(fam.support(*values)))
    points = [lo, *sorted(c for c in (mpmath.mpf(sp.N(c, 40)) for c in cuts) if lo < c < hi), hi]
    with mpmath.workdps(30):
        try:
            if fam.discrete:
                total = mpmath.nsum(pdf, [lo, hi])
            else:
                # a node rounded onto a singular end has no finite value; its weight is negligible
                finite = lambda t: v if mpmath.isfinite(v := pdf(t)) else 0  # noqa: E731
                total = mpmath.fsum(_piece(finite, a, b, "tanh-sinh") for a, b in zip(points, points[1:]))
        except (*_NUMERIC_ERRORS, mpmath.libmp.NoConvergence):
            return None
    return total if isinstance(total, mpmath.mpf) and mpmath.isfinite(total) else None


def _hint(fam: Family) -> str:
    """Parameters are real unless assumed otherwise: the usual cause of a negative density is a missing bound."""
    real = [p.name for p in fam.params if p.domain == "real"]
    return f" (the parameters {', '.join(real)} are any real numbers unless assumed otherwise, e.g. " \
           f"'{real[0]} > 0')" if real else ""


def _show(fam: Family, values: tuple) -> str:
    return ", ".join(f"{p.name} = {v}" for p, v in zip(fam.params, values)) or "no parameters"
