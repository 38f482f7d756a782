"""The catalog: every declared family, looked up by name or alias, with a did-you-mean for typos."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable

from ..family import Family, FamilyError
from . import continuous, halfline, realline, unitinterval
from .discrete import FAMILIES as DISCRETE
from .discrete import categorical
from .multivariate import diagnormal, dirichlet, mvnormal, mvnormal_general

ORDER = ("normal", "lognormal", "halfnormal", "exponential", "gamma", "chi2", "chi", "inversegamma", "beta", "uniform",
         "laplace", "gumbel", "cauchy", "halfcauchy", "logistic", "pareto", "weibull", "rayleigh", "maxwell",
         "continuousbernoulli", "kumaraswamy", "vonmises", "studentt", "inversegaussian", "levy", "moyal",
         "logitnormal")
"""The univariate continuous families in the order of FAMILIES.md, whichever module declares them."""

CONTINUOUS = tuple(sorted(continuous.FAMILIES + halfline.FAMILIES + realline.FAMILIES + unitinterval.FAMILIES,
                          key=lambda fam: ORDER.index(fam.name)))


@dataclass(frozen=True)
class Indexed:
    """A family declared per size (``categorical[3]``): its builder, the sizes it takes, how `symkl families`
    shows it, and its form for a symbolic size (``mvnormal[d]``) where it has one."""

    build: Callable[[int], Family]
    sizes: range
    size: str
    params: str
    support: str
    example: str
    general: Callable[[], Family] | None = None

    def __call__(self, size: int) -> Family:
        return self.build(size)


INDEXED = {
    "categorical": Indexed(categorical, range(1, 65), "K", "p1..pK (each in [0, 1], summing to 1)", "{1, ..., K}",
                           "categorical(0.2, 0.3, 0.5)"),
    "dirichlet": Indexed(dirichlet, range(2, 65), "K", "alpha1..alphaK (> 0)", "the simplex x1 + ... + xK = 1",
                         "dirichlet(1, 2, 3)"),
    "diagnormal": Indexed(diagnormal, range(1, 65), "d", "mu1..mud (real), then sigma1..sigmad (> 0)", "R^d",
                          "diagnormal([0, 0], [1, 1])"),
    "mvnormal": Indexed(mvnormal, range(1, 4), "d", "mu1..mud (real), Sigma11, Sigma12, ..., Sigmadd (the upper "
                        "triangle, row by row; positive definite)", "R^d",
                        "mvnormal([0, 0], [[1, 0.5], [0.5, 2]])", general=mvnormal_general),
}
"""Families declared per size K or d (``categorical[3]``, ``mvnormal[2]``; ``mvnormal[d]`` for a symbolic d)."""

_BY_NAME = {alias: fam for fam in CONTINUOUS + DISCRETE for alias in (fam.name, *fam.aliases)}


def names() -> list[str]:
    """Canonical names of every family, in catalog order."""
    return [f.name for f in CONTINUOUS + DISCRETE] + sorted(INDEXED)


def lookup(name: str, index: int | str | None = None) -> Family:
    """The family called ``name`` (or an alias); indexed families need ``index`` (``categorical[3]``), and one
    with a general form also takes a name (``mvnormal[d]``)."""
    key = name.strip().lower()
    if key in INDEXED:
        return _indexed(key, INDEXED[key], index)
    if key in _BY_NAME:
        if index is not None:
            raise FamilyError(f"{key} takes no [index]; only {', '.join(sorted(INDEXED))} do")
        return _BY_NAME[key]
    close = difflib.get_close_matches(key, list(_BY_NAME) + list(INDEXED), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(_canonical(c) for c in close))
    hint = f" Did you mean {' or '.join(map(repr, suggestions))}?" if close else ""
    raise FamilyError(f"unknown family {name.strip()!r}.{hint} Known families: {', '.join(names())}")


def _indexed(key: str, entry: Indexed, index) -> Family:
    n, sizes = entry.size, entry.sizes
    general = f", or {key}[{n}] for a symbolic {n}" if entry.general else ""
    if index is None:
        size = 3 if 3 in sizes else sizes.start
        raise FamilyError(f"{key} needs its size: write {key}[{size}] for {n} = {size}{general}, "
                          f"or give every value, as in {entry.example}")
    if isinstance(index, str):
        if entry.general is None or index != n:
            raise FamilyError(f"{key}[{index}]: {n} must be a whole number" +
                              (f" or {n}" if entry.general else ""))
        return entry.general()
    if index not in sizes:
        beyond = f"; use {key}[{n}] for the general form" if entry.general and index > sizes.stop - 1 else ""
        raise FamilyError(f"{key}[{index}]: {n} must be between {sizes.start} and {sizes.stop - 1}{beyond}")
    return entry.build(index)


def _canonical(alias: str) -> str:
    return _BY_NAME[alias].name if alias in _BY_NAME else alias
