"""Sympy expressions to JSON and back through an allow-list of classes: the cache never evaluates text."""
from __future__ import annotations

import sympy as sp
from sympy.printing.repr import ReprPrinter

_CLASSES = {cls.__name__: cls for cls in (
    sp.Add, sp.Mul, sp.Pow, sp.log, sp.exp, sp.loggamma, sp.gamma, sp.polygamma, sp.erf, sp.erfc, sp.Abs,
    sp.sign, sp.factorial, sp.beta, sp.Min, sp.Max, sp.sin, sp.cos, sp.besseli, sp.Piecewise, sp.Sum,
    sp.Tuple, sp.Equality, sp.Unequality, sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan,
    sp.And, sp.Or, sp.Not, sp.floor, sp.ceiling,
    # what closed forms also reach: continuousbernoulli's atanh, inversegaussian's expint, Meijer G's arguments
    sp.atanh, sp.asinh, sp.acosh, sp.atan, sp.sinh, sp.cosh, sp.tanh, sp.expint, sp.Ei, sp.Si, sp.Ci, sp.Shi, sp.Chi,
    sp.lowergamma, sp.uppergamma, sp.besselk, sp.erfi, sp.zeta, sp.binomial, sp.meijerg, sp.hyper,
    sp.betainc_regularized, sp.functions.special.hyper.TupleArg)}
_CLASSES["ExprCondPair"] = sp.functions.elementary.piecewise.ExprCondPair
_CONSTANTS = {"pi": sp.pi, "E": sp.E, "EulerGamma": sp.EulerGamma, "oo": sp.oo, "-oo": -sp.oo, "zoo": sp.zoo,
              "nan": sp.nan, "true": sp.true, "false": sp.false}
_ASSUMPTIONS = ("real", "positive", "integer", "nonnegative")


class NotSerializable(ValueError):
    """The expression uses a class outside the allow-list (the result is then simply not cached)."""


def encode(expr) -> list:
    """A JSON-able nested list for an expression built from allowed classes."""
    for name, const in _CONSTANTS.items():
        if expr == const and type(expr) is type(const):
            return ["C", name]
    if isinstance(expr, sp.Dummy):
        raise NotSerializable(f"dummy symbol {expr}")
    if isinstance(expr, sp.Symbol):
        return ["S", expr.name, {a: True for a in _ASSUMPTIONS if expr.assumptions0.get(a)}]
    if isinstance(expr, sp.Integer):
        return ["I", str(expr)]
    if isinstance(expr, sp.Rational):
        return ["Q", str(expr.p), str(expr.q)]
    if isinstance(expr, sp.Float):
        return ["F", str(expr), expr._prec]
    name = type(expr).__name__
    if name not in _CLASSES or _CLASSES[name] is not type(expr):
        raise NotSerializable(f"cannot store {name}")
    return [name, [encode(a) for a in expr.args]]


def decode(data: list):
    """Rebuild an expression from ``encode``'s output; anything unexpected raises ValueError."""
    tag = data[0]
    if tag == "C":
        return _CONSTANTS[data[1]]
    if tag == "S":
        return sp.Symbol(data[1], **{a: True for a in data[2] if a in _ASSUMPTIONS})
    if tag == "I":
        return sp.Integer(int(data[1]))
    if tag == "Q":
        return sp.Rational(int(data[1]), int(data[2]))
    if tag == "F":
        return sp.Float(data[1], precision=int(data[2]))
    if tag not in _CLASSES:
        raise ValueError(f"unknown class {tag!r}")
    return _CLASSES[tag](*[decode(a) for a in data[1]])


def allow(*classes) -> None:
    """Admit more function classes (numeric's float primitives) to the allow-list."""
    _CLASSES.update({cls.__name__: cls for cls in classes})


class _KeyPrinter(ReprPrinter):
    """srepr with every symbol's full assumptions: sympy keeps one instance per equal symbol, the first one
    made, and srepr prints the assumptions that one was made with (sigma_q as positive=True, or as real=True,
    positive=True, nonnegative=True after a round trip through the cache), so srepr differs by process history."""

    def _print_Symbol(self, expr, **kwargs):
        given = "".join(f", {k}={v}" for k, v in sorted(expr.assumptions0.items()))
        return f"{type(expr).__name__}({expr.name!r}{given})"

    def _print_Dummy(self, expr, **kwargs):  # two dummies of one name are different symbols
        return self._print_Symbol(expr)[:-1] + f", dummy_index={expr.dummy_index})"


def key_text(expr) -> str:
    """An expression as text for a cache key: the same for equal expressions in every process."""
    return _KeyPrinter().doprint(expr)

