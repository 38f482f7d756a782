"""Trust regions: KL between a policy and its update, and the Fisher quadratic form that approximates it.

Why: TRPO constrains KL(pi_theta || pi_theta+delta) <= epsilon and PPO penalises it; for small steps the
constraint is the ellipse 1/2 delta^T F(theta) delta <= epsilon (natural gradient). For a diagonal Gaussian
policy (``diagnormal[d]``: all means, then all standard deviations) and a categorical policy given by logits
(p = softmax(z)), symkl derives F (see ``symkl.ml.fisher``: three routes that must agree) and tabulates the exact
KL against the quadratic form along a direction.

    >>> from symkl.ml.trust import trust_region
    >>> trust_region("diagnormal[1]").quadratic
    delta_mu1**2/(2*sigma1**2) + delta_sigma1**2/sigma1**2
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy as sp

from ..family import FamilyError
from ..parse import ParseError, parse_number
from .fisher import Fisher, chart, fisher, kl_along
from .stationary import number

STEPS = tuple(sp.Rational(1, 10**k) for k in range(1, 5))


@dataclass(frozen=True)
class TrustRegion:
    """1/2 delta^T F delta for a family, and exact KL against it along ``direction`` at ``point``."""

    fisher: Fisher
    deltas: tuple
    quadratic: sp.Expr
    point: dict
    direction: tuple
    table: tuple

    @property
    def ok(self) -> bool:
        return self.fisher.ok


def trust_region(spec, logits: bool = False, direction: tuple | None = None, steps: tuple = STEPS) -> TrustRegion:
    """F and the quadratic approximation of KL(P_theta || P_theta+delta) for a policy family, checked along a
    direction at the spec's values (or a sampled point) for the step sizes ``steps``."""
    coordinates = chart(spec, logits).symbols
    if direction is not None and len(direction) != len(coordinates):
        raise FamilyError(f"the direction needs {len(coordinates)} numbers ({', '.join(map(str, coordinates))}), "
                          f"got {len(direction)}")
    f = fisher(spec, logits)
    c = f.chart
    if f.matrix is None:
        raise FamilyError(f"{c.label} has no Fisher quadratic form: {f.note}")
    deltas = tuple(sp.Symbol(f"delta_{t.name}", real=True) for t in c.symbols)
    d = sp.Matrix(deltas)
    quadratic = sp.expand((d.T * f.shown() * d)[0] / 2)
    point = f.remainder["point"]
    direction = tuple(direction) if direction is not None else f.remainder["direction"]
    exact = kl_along(c, point, direction, 40)
    approx = (sp.Matrix(direction).T * f.matrix.subs(point) * sp.Matrix(direction))[0] / 2
    rows = []
    with mpmath.workdps(40):
        for step in steps:
            e, a = +exact(number(step, 60)), number(approx * step**2, 40)
            rows.append((step, e, a, (e - a) / e if e else mpmath.mpf(0)))
    return TrustRegion(f, deltas, quadratic, point, direction, tuple(rows))


def parse_direction(text: str) -> tuple:
    """'1, -1, 0.5' -> exact numbers, by the safe parser."""
    try:
        return tuple(parse_number(item.strip()) for item in text.split(",") if item.strip())
    except ParseError as err:
        raise FamilyError(f"--direction: {err}") from None
