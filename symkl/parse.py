"""Turn user-typed formulas, conditions and distribution specs into sympy objects, safely.

Text is parsed with ast.parse(mode="eval"); an allow-list of node types is built into sympy objects
directly (never eval, exec or sympy's string parsers), and sizes are bounded before sympy computes.
"""
from __future__ import annotations

import ast
import math
import re
import warnings
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping, Union

import mpmath
import sympy as sp
from mpmath.libmp import NoConvergence

__all__ = ["ParseError", "Spec", "SpecArg", "ALLOWED_FUNCTIONS", "ALLOWED_CONSTANTS", "parse_expression",
           "parse_condition", "parse_spec", "parse_number", "free_names", "parse_mixture"]

MAX_TEXT_LENGTH = 2000
MAX_DEPTH = 50                  # nesting of expression nodes
MAX_NODES = 500                 # expression nodes in one input
MAX_LITERAL_DIGITS = 1000       # digits written in one number literal
MAX_LITERAL_EXPONENT = 1000     # |e| in 1e-3 style literals
MAX_EXPONENT = 10000            # |exponent| of any power whose exponent is a number
MAX_NUMBER_DIGITS = 1000        # digits of any exact number computed (sympy primality-tests big ones)
MAX_RADICAND_DIGITS = 300       # digits of numbers under a root (sympy factors them)
MAX_SPECIAL_ARGUMENT = 10000    # |x| in factorial, gamma, loggamma, binomial, beta; besseli order
MAX_POLYGAMMA_WORK = 2000       # (order + 1) * |x| for digamma/trigamma/polygamma
MAX_BINOMIAL_FACTORS = 30       # |k| in binomial(n, k) for a non-integer number n (sympy expands k factors)
MAX_ROOT_DEGREE = 1000          # q in (algebraic number)**(p/q); sympy may seek its minimal polynomial
MAX_ROUNDING_DIGITS = 300       # digits of an irrational number given to floor/ceiling
MAX_INDEX = 10000               # K in name[K]
SYMBOLIC_INDEX = "d"            # name[d]: a family of symbolic dimension (mvnormal[d])
MAX_LIST_DEPTH = 2              # a vector [1, 2] or a matrix [[1, 0], [0, 1]]


class ParseError(ValueError):
    """User input could not be accepted; the message says what was wrong and where."""


_UNARY = ["exp", "sqrt", "sin", "cos", "tan", "atan", "sinh", "cosh", "tanh", "gamma", "loggamma",
          "digamma", "erf", "erfc", "factorial", "floor", "ceiling", "sign"]
_FUNCTIONS = {name: (getattr(sp, name), 1, 1) for name in _UNARY}   # name -> (function, least, most args)
_FUNCTIONS.update({
    "log": (sp.log, 1, 2), "ln": (sp.log, 1, 1), "Abs": (sp.Abs, 1, 1), "abs": (sp.Abs, 1, 1),
    "lgamma": (sp.loggamma, 1, 1), "polygamma": (sp.polygamma, 2, 2), "beta": (sp.beta, 2, 2),
    "binomial": (sp.binomial, 2, 2), "besseli": (sp.besseli, 2, 2),
    "trigamma": (lambda x: sp.polygamma(1, x), 1, 1),
    "log1p": (lambda x: sp.log(sp.Add(sp.S.One, x)), 1, 1),
    "expm1": (lambda x: sp.Add(sp.exp(x), sp.S.NegativeOne), 1, 1),
    "xlogy": (lambda a, b: sp.S.Zero if a.is_zero else sp.Mul(a, sp.log(b)), 2, 2),   # 0*log(0) = 0
    "Min": (sp.Min, 1, None), "Max": (sp.Max, 1, None),
})
ALLOWED_FUNCTIONS: Mapping[str, Callable] = MappingProxyType({k: v[0] for k, v in _FUNCTIONS.items()})
ALLOWED_CONSTANTS: Mapping[str, sp.Basic] = MappingProxyType({
    "pi": sp.pi, "E": sp.E, "e": sp.E, "oo": sp.oo, "inf": sp.oo, "EulerGamma": sp.EulerGamma})

_EXPONENTIAL_ARGUMENT = {"exp": 0, "expm1": 0, "sinh": 0, "cosh": 0, "besseli": 1}   # grows like e**arg
_SPECIAL_ARGUMENTS = {"factorial": (0,), "gamma": (0,), "loggamma": (0,), "lgamma": (0,),
                      "binomial": (0, 1), "beta": (0, 1), "besseli": (0,)}
_POLYGAMMA_ORDER = {"digamma": 0, "trigamma": 1, "polygamma": None}
_INFINITIES = (sp.S.Infinity, sp.S.NegativeInfinity, sp.S.ComplexInfinity)
_SYMPY_ERRORS = (TypeError, ValueError, ArithmeticError, NotImplementedError, NoConvergence)
_FORBIDDEN = {
    ast.Attribute: "attribute access", ast.Subscript: "subscript", ast.Lambda: "lambda",
    ast.ListComp: "comprehension", ast.SetComp: "comprehension", ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension", ast.IfExp: "conditional expression (a if b else c)",
    ast.NamedExpr: "assignment (:=)", ast.JoinedStr: "f-string", ast.Starred: "starred argument",
    ast.Dict: "dict", ast.Set: "set", ast.List: "list", ast.Tuple: "tuple", ast.Slice: "slice",
    ast.Compare: "comparison", ast.BoolOp: "and/or", ast.Call: "call", ast.Await: "await",
}
_SYMBOLS = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
            ast.BitOr: "|", ast.BitAnd: "&", ast.Invert: "~", ast.Not: "not", ast.Is: "is",
            ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
_COMPARISONS = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge, ast.Eq: sp.Eq, ast.NotEq: sp.Ne}
_DECIMAL = re.compile(r"(?P<int>[0-9_]*)(?:\.(?P<frac>[0-9_]*))?(?:[eE](?P<exp>[+-]?[0-9_]+))?")
_BAD_CHARACTER = re.compile(r"[^\x20-\x7e\t\n\r]")

SpecArg = Union[sp.Expr, str, None, tuple]   # exact number, shared symbol name, '_' (None), or list of numbers


@dataclass(frozen=True)
class Spec:
    """A distribution spec as typed: `name[index](args, key=value)`; the catalog is not consulted."""
    name: str
    index: int | str | None
    args: tuple[SpecArg, ...]
    kwargs: tuple[tuple[str, SpecArg], ...]
    text: str


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _int_digits(n: int) -> int:
    return int(abs(n).bit_length() * 0.30103) + 1


def _rational_digits(value: sp.Basic) -> int:
    return max((max(_int_digits(r.p), _int_digits(r.q)) for r in value.atoms(sp.Rational)), default=0)


def _radicand_digits(value: sp.Basic) -> int:
    return sum(_int_digits(p.base.p) + _int_digits(p.base.q) for p in value.atoms(sp.Pow)
               if p.base.is_Rational and not p.exp.is_Integer)


def _root_degree(value: sp.Basic) -> int:
    """Largest root index in an algebraic number (1 for rationals); 0 for 1 and transcendental numbers."""
    if value == 1 or value.atoms(sp.Function) or not all(a.is_Rational or a is sp.I for a in value.atoms()):
        return 0
    return max((p.exp.q for p in value.atoms(sp.Pow) if p.exp.is_Rational), default=1)


def _log10_abs(value: sp.Basic) -> float:
    """Estimate log10|value| of a number cheaply; inf when it cannot be bounded."""
    if value.is_Rational:
        return -math.inf if value == 0 else math.log10(abs(value.p)) - math.log10(value.q)
    try:
        parts = [part for part in value.evalf(15).as_real_imag() if not part.is_zero]
    except _SYMPY_ERRORS:
        return math.inf
    if not all(part.is_Float for part in parts):
        return math.inf
    return max((float(mpmath.log10(abs(mpmath.mpf(part)))) for part in parts), default=-math.inf)


def _check_text(text: str) -> str:
    """Refuse input that is too long, empty or holds non-ASCII/control characters; return it stripped."""
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_TEXT_LENGTH:
        raise ParseError(f"input too long: {len(text)} characters (at most {MAX_TEXT_LENGTH})")
    bad = _BAD_CHARACTER.search(text)
    if bad:
        kind = "non-ASCII" if ord(bad.group()) > 127 else "control"
        raise ParseError(f"{kind} character {bad.group()!r} at position {bad.start() + 1} is not allowed")
    if not text.strip():
        raise ParseError("empty input")
    return text.strip()


def _check_tree_size(root: ast.AST) -> None:
    """Refuse trees with too many nodes or too deep nesting, without recursing."""
    count, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ParseError(f"expression too large: more than {MAX_NODES} elements")
        if depth > MAX_DEPTH:
            raise ParseError(f"expression nested too deeply: more than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node)
                     if isinstance(child, (ast.expr, ast.keyword)))


def _parse_tree(text: str) -> ast.expr:
    """Parse checked text into an ast expression, mapping every parser failure to ParseError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        column = f" (column {exc.offset})" if exc.offset else ""
        raise ParseError(f"could not parse {_shorten(text)!r}: {exc.msg}{column}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise ParseError(f"could not parse {_shorten(text)!r}: {type(exc).__name__}") from None
    _check_tree_size(tree.body)
    return tree.body


class _Builder:
    """Builds sympy objects from a size-checked ast, refusing every node type not explicitly handled."""

    def __init__(self, text: str, names: Mapping[str, sp.Basic]):
        if not all(isinstance(value, sp.Basic) for value in names.values()):
            raise TypeError("names must map to sympy objects")
        self.text, self.names = text, dict(names)

    def error(self, message: str, node: ast.AST) -> ParseError:
        segment = ast.get_source_segment(self.text, node) or type(node).__name__
        return ParseError(f"{message}: {_shorten(segment)!r}")

    def refuse(self, node: ast.AST) -> ParseError:
        return self.error(f"{_FORBIDDEN.get(type(node), type(node).__name__)} is not allowed", node)

    def apply(self, node: ast.AST, function, *args) -> sp.Basic:
        """Call a sympy constructor, turning its failures, undefined and oversized results into ParseError."""
        try:
            result = function(*args)
        except _SYMPY_ERRORS as exc:
            raise self.error(f"could not evaluate ({_shorten(str(exc), 80)})", node) from None
        if result.has(sp.S.NaN, sp.S.ComplexInfinity):
            raise self.error("expression is undefined (nan or complex infinity)", node)
        if _rational_digits(result) > MAX_NUMBER_DIGITS:
            raise self.error(f"number too large (more than {MAX_NUMBER_DIGITS} digits)", node)
        return result

    def expr(self, node: ast.AST) -> sp.Expr:
        handler = {ast.Constant: self.constant, ast.Name: self.name, ast.BinOp: self.binop,
                   ast.UnaryOp: self.unary, ast.Call: self.call}.get(type(node))
        if handler is None:
            raise self.refuse(node)
        return handler(node)

    def constant(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, (str, bytes, complex)):
            raise self.error(f"{'complex' if isinstance(value, complex) else 'string'} literal is not allowed", node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"{value!r} is not a number", node)
        if isinstance(value, float):
            return self.decimal(node)
        if len(str(abs(value))) > MAX_LITERAL_DIGITS:
            raise self.error(f"integer literal too long (more than {MAX_LITERAL_DIGITS} digits)", node)
        return sp.Integer(value)

    def decimal(self, node: ast.Constant) -> sp.Rational:
        """Read a float literal from its source text so that 0.1 becomes exactly 1/10."""
        match = _DECIMAL.fullmatch(ast.get_source_segment(self.text, node) or "")
        if not match:
            raise self.error("could not read number", node)
        whole, fraction = (match["int"] or "").replace("_", ""), (match["frac"] or "").replace("_", "")
        exponent = int((match["exp"] or "0").replace("_", ""))
        if abs(exponent) > MAX_LITERAL_EXPONENT:
            raise self.error(f"number exponent out of range (at most +-{MAX_LITERAL_EXPONENT})", node)
        if len((whole + fraction).lstrip("0")) > MAX_LITERAL_DIGITS:
            raise self.error(f"number literal too long (more than {MAX_LITERAL_DIGITS} digits)", node)
        mantissa, shift = int(whole + fraction or "0"), exponent - len(fraction)
        return sp.Rational(mantissa * 10 ** max(shift, 0), 10 ** max(-shift, 0))

    def check_identifier(self, identifier: str, node: ast.AST) -> None:
        if identifier.startswith("_"):
            raise self.error("names beginning with '_' are not allowed", node)

    def name(self, node: ast.Name) -> sp.Basic:
        self.check_identifier(node.id, node)
        if node.id in self.names:
            return self.names[node.id]
        if node.id in ALLOWED_CONSTANTS:
            return ALLOWED_CONSTANTS[node.id]
        if node.id in _FUNCTIONS:
            raise self.error(f"function {node.id!r} must be called with arguments", node)
        allowed = ", ".join(sorted(self.names)) or "none here (only numbers, constants and functions)"
        raise ParseError(f"unknown name {node.id!r}; allowed: {allowed}")

    def unary(self, node: ast.UnaryOp) -> sp.Expr:
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise self.error(f"operator {_SYMBOLS[type(node.op)]!r} is not allowed here", node)
        operand = self.expr(node.operand)
        return self.apply(node, sp.Mul, sp.S.NegativeOne, operand) if isinstance(node.op, ast.USub) else operand

    def binop(self, node: ast.BinOp) -> sp.Expr:
        op = type(node.op)
        if op is ast.BitXor:
            raise self.error("'^' is not allowed (use ** for powers)", node)
        if op not in (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow):
            raise self.error(f"operator {_SYMBOLS[op]!r} is not allowed", node)
        left, right = self.expr(node.left), self.expr(node.right)
        if op is ast.Add:
            return self.apply(node, sp.Add, left, right)
        if op is ast.Sub:
            return self.apply(node, sp.Add, left, sp.Mul(sp.S.NegativeOne, right))
        if op is ast.Pow:
            self.check_power(left, right, node)
            return self.apply(node, sp.Pow, left, right)
        radicands = (_radicand_digits(left), _radicand_digits(right))   # sqrt(a)*sqrt(b) becomes sqrt(ab)
        if all(radicands) and sum(radicands) > MAX_RADICAND_DIGITS:
            raise self.error(f"numbers under roots too large (more than {MAX_RADICAND_DIGITS} digits)", node)
        if op is ast.Div:
            if right.is_zero:
                raise self.error("division by zero", node)
            right = self.apply(node, sp.Pow, right, sp.S.NegativeOne)
        return self.apply(node, sp.Mul, left, right)

    def check_power(self, base: sp.Basic, exponent: sp.Basic, node: ast.AST) -> None:
        """Bound base**exponent before sympy computes it: exponent size, result digits, roots (size, degree)."""
        if not exponent.is_number or exponent in _INFINITIES or base in _INFINITIES:
            return
        exponent_size = _log10_abs(exponent)
        if exponent_size > math.log10(MAX_EXPONENT):
            raise self.error(f"exponent too large (|exponent| > {MAX_EXPONENT})", node)
        if not base.is_number or base.is_zero or exponent.is_zero:
            return
        if 10 ** exponent_size * abs(_log10_abs(base)) > MAX_NUMBER_DIGITS:
            raise self.error(f"number too large (more than {MAX_NUMBER_DIGITS} digits)", node)
        if not exponent.is_Integer and max(_rational_digits(base), _rational_digits(exponent)) > MAX_RADICAND_DIGITS:
            raise self.error(f"number under a root too large (more than {MAX_RADICAND_DIGITS} digits)", node)
        if exponent.is_Rational and _root_degree(base) * exponent.q > MAX_ROOT_DEGREE:
            raise self.error(f"root degree too large (at most {MAX_ROOT_DEGREE})", node)

    def check_bound(self, value: sp.Basic, bound: float, what: str, node: ast.AST) -> None:
        if value.is_number and value not in _INFINITIES and _log10_abs(value) > math.log10(bound):
            raise self.error(f"{what} too large (at most {bound:g})", node)

    def check_function_arguments(self, name: str, args: list, node: ast.AST) -> None:
        """Bound arguments of functions that sympy would evaluate expensively (exactly or numerically)."""
        if name == "sqrt":
            self.check_power(args[0], sp.S.Half, node)
        if name in _EXPONENTIAL_ARGUMENT:
            self.check_power(sp.E, args[_EXPONENTIAL_ARGUMENT[name]], node)
        for position in _SPECIAL_ARGUMENTS.get(name, ()):
            self.check_bound(args[position], MAX_SPECIAL_ARGUMENT, f"argument of {name}", node)
        if name == "binomial" and args[0].is_number and not args[0].is_Integer:
            self.check_bound(args[1], MAX_BINOMIAL_FACTORS, "k in binomial(n, k) with non-integer n", node)
        if name in _POLYGAMMA_ORDER:
            order = args[0] if _POLYGAMMA_ORDER[name] is None else sp.Integer(_POLYGAMMA_ORDER[name])
            if order.is_number and args[-1].is_number:
                self.check_bound(order, MAX_POLYGAMMA_WORK, f"order of {name}", node)
                work = sp.Mul(sp.Add(order, 1), args[-1])
                self.check_bound(work, MAX_POLYGAMMA_WORK, f"(order + 1) * argument of {name}", node)
        if name in ("floor", "ceiling") and not args[0].is_Rational:
            self.check_bound(args[0], 10.0 ** MAX_ROUNDING_DIGITS, f"argument of {name}", node)

    def call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.refuse(node.func) if type(node.func) in _FORBIDDEN else \
                self.error("only plain function names can be called", node)
        name = node.func.id
        self.check_identifier(name, node)
        if name not in _FUNCTIONS:
            if name in self.names or name in ALLOWED_CONSTANTS:
                raise self.error(f"{name!r} is not a function", node)
            raise self.error(f"function {name!r} is not allowed (allowed: {', '.join(sorted(_FUNCTIONS))})", node)
        if node.keywords:
            raise self.error("keyword arguments are not allowed", node)
        function, least, most = _FUNCTIONS[name]
        if not least <= len(node.args) <= (most or len(node.args)):
            expected = f"{least}" if least == most else f"at least {least}" if most is None else f"{least} or {most}"
            raise self.error(f"{name}() takes {expected} argument(s), got {len(node.args)}", node)
        args = [self.expr(arg) for arg in node.args]
        self.check_function_arguments(name, args, node)
        return self.apply(node, function, *args)

    def condition(self, node: ast.AST) -> sp.Basic:
        """Build a boolean from comparisons joined by and/or/not."""
        if isinstance(node, ast.BoolOp):
            join = sp.And if isinstance(node.op, ast.And) else sp.Or
            return self.apply(node, join, *[self.condition(value) for value in node.values])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.apply(node, sp.Not, self.condition(node.operand))
        if isinstance(node, ast.Compare):
            return self.comparison(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return sp.true if node.value else sp.false
        if isinstance(node, ast.BinOp) and type(node.op) in (ast.BitAnd, ast.BitOr):
            raise self.error(f"{_SYMBOLS[type(node.op)]!r} is not allowed (use 'and' / 'or')", node)
        raise self.error("expected a comparison such as 'x > 0'", node)

    def comparison(self, node: ast.Compare) -> sp.Basic:
        """Build a (possibly chained) comparison; a < b < c becomes And(a < b, b < c)."""
        operands = [self.expr(node.left)] + [self.expr(item) for item in node.comparators]
        relations = []
        for op, left, right in zip(node.ops, operands, operands[1:]):
            if type(op) not in _COMPARISONS:
                raise self.error(f"operator {_SYMBOLS[type(op)]!r} is not allowed", node)
            relations.append(self.apply(node, _COMPARISONS[type(op)], left, right))
        return self.apply(node, sp.And, *relations)

    def spec_head(self, node: ast.AST) -> tuple[str, int | str | None]:
        """Read `name`, `name[K]` or `name[d]` (a symbolic dimension) of a spec."""
        index = None
        if isinstance(node, ast.Subscript):
            item = node.slice
            if isinstance(item, ast.Name) and item.id == SYMBOLIC_INDEX:
                node, index = node.value, item.id
            elif not (isinstance(item, ast.Constant) and type(item.value) is int and 1 <= item.value <= MAX_INDEX):
                raise self.error(f"index must be a whole number from 1 to {MAX_INDEX}, or {SYMBOLIC_INDEX} "
                                 f"(a symbolic dimension)", node)
            else:
                node, index = node.value, item.value
        if not isinstance(node, ast.Name):
            raise self.error("expected a family name such as 'normal' or 'categorical[3]'", node)
        self.check_identifier(node.id, node)
        return node.id.lower(), index

    def spec_arg(self, node: ast.AST) -> SpecArg:
        """Read one spec argument: '_', a parameter name, a [list] of numbers, or an exact number."""
        if isinstance(node, ast.Name) and node.id == "_":
            return None
        if isinstance(node, ast.Name) and node.id not in ALLOWED_CONSTANTS:
            self.check_identifier(node.id, node)
            return node.id
        if isinstance(node, ast.List):
            return self.spec_list(node, 1)
        return self.expr(node)

    def spec_list(self, node: ast.List, depth: int) -> tuple:
        """A vector [1, 2] or a matrix [[1, 0], [0, 1]]: exact numbers only, nested at most MAX_LIST_DEPTH deep."""
        if depth > MAX_LIST_DEPTH:
            raise self.error(f"lists nest at most {MAX_LIST_DEPTH} deep (a vector, or a matrix as a list of rows)",
                             node)
        if not node.elts:
            raise self.error("empty list", node)
        items = []
        for item in node.elts:
            if isinstance(item, ast.List):
                items.append(self.spec_list(item, depth + 1))
                continue
            if isinstance(item, ast.Name) and (item.id == "_" or item.id not in ALLOWED_CONSTANTS):
                raise self.error("a list holds numbers only (write '_' for the whole list to leave it symbolic)",
                                 item)
            items.append(self.expr(item))
        return tuple(items)

    def spec_keywords(self, keywords: list) -> tuple:
        found = {}
        for keyword in keywords:
            if keyword.arg is None:
                raise self.error("'**' arguments are not allowed", keyword)
            self.check_identifier(keyword.arg, keyword)
            if keyword.arg in found:
                raise self.error(f"argument {keyword.arg!r} given twice", keyword)
            found[keyword.arg] = self.spec_arg(keyword.value)
        return tuple(found.items())


def parse_expression(text: str, names: Mapping[str, sp.Basic], *, allow_relations: bool = False) -> sp.Expr:
    """Parse user text into a sympy expression using only the given names, the allowed functions and constants."""
    stripped = _check_text(text)
    body, builder = _parse_tree(stripped), _Builder(stripped, names)
    if allow_relations and isinstance(body, ast.Compare):
        return builder.comparison(body)
    return builder.expr(body)


def parse_condition(text: str, names: Mapping[str, sp.Basic]) -> sp.Basic:
    """Parse user text such as '0 < p < 1, sigma > 0' into a sympy Boolean (commas mean 'and')."""
    stripped = _check_text(text)
    body, builder = _parse_tree(stripped), _Builder(stripped, names)
    if not isinstance(body, ast.Tuple):
        return builder.condition(body)
    if not body.elts:
        raise ParseError("empty condition")
    return builder.apply(body, sp.And, *[builder.condition(item) for item in body.elts])


def parse_spec(text: str) -> Spec:
    """Parse a distribution spec like 'normal(0, sigma=2)' or 'dirichlet[3](1, 2, 3)' into a Spec."""
    stripped = _check_text(text)
    body, builder = _parse_tree(stripped), _Builder(stripped, {})
    return _spec_of(builder, body, text)


def _spec_of(builder: _Builder, body: ast.AST, text: str) -> Spec:
    call = body if isinstance(body, ast.Call) else None
    name, index = builder.spec_head(call.func if call else body)
    args = tuple(builder.spec_arg(arg) for arg in call.args) if call else ()
    kwargs = builder.spec_keywords(call.keywords) if call else ()
    return Spec(name=name, index=index, args=args, kwargs=kwargs, text=text)


_MIXTURE_FORM = "a mixture is a sum of weight*distribution terms, as in 0.5*normal(-2, 1) + 0.5*normal(2, 1)"


def parse_mixture(text: str) -> list[tuple[sp.Expr, Spec]]:
    """Parse a mixture 'w1*spec1 + w2*spec2 + ...' into [(weight, Spec)]: each weight an exact number (any
    allowed numeric expression), each spec as in parse_spec. Every term needs its weight: none is guessed."""
    stripped = _check_text(text)
    body, builder = _parse_tree(stripped), _Builder(stripped, {})
    terms, stack = [], [body]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            stack += [node.right, node.left]
            continue
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
            raise builder.error(_MIXTURE_FORM, node)
        sides = [side for side in (node.right, node.left) if _names_a_family(side)] or \
            [side for side in (node.right, node.left) if isinstance(side, ast.Call)]  # 0.5*gamma(2, 1)
        if len(sides) != 1 and not (len(sides) == 2 and _names_a_family(sides[0])):
            raise builder.error(_MIXTURE_FORM + " (write the weight as a number)", node)
        component = sides[0]
        weight = node.left if component is node.right else node.right
        value = builder.expr(weight)
        if not value.is_number:
            raise builder.error("a weight must be a number", weight)
        terms.append((value, _spec_of(builder, component, ast.get_source_segment(stripped, component) or "")))
    return terms


def _names_a_family(node: ast.AST) -> bool:
    """A call whose head is a name that is not an allowed function: normal(0, 1), categorical[3](...)."""
    head = node.func.value if isinstance(node, ast.Call) and isinstance(node.func, ast.Subscript) else \
        node.func if isinstance(node, ast.Call) else None
    return isinstance(head, ast.Name) and head.id not in _FUNCTIONS


def parse_number(text: str) -> sp.Expr:
    """Parse user text that must denote one exact number (e.g. '0.7', 'sqrt(2)/2', '-pi')."""
    value = parse_expression(text, {})
    if not value.is_number:
        raise ParseError(f"expected a number, got {_shorten(text)!r}")
    return value


def free_names(text: str) -> list[str]:
    """The names a formula uses that are not allowed constants or called functions, in order of appearance:
    the parameters of a user-written density, found before it is built with ``parse_expression``."""
    body = _parse_tree(_check_text(text))
    called = {id(node.func) for node in ast.walk(body) if isinstance(node, ast.Call)}
    found = [node for node in ast.walk(body) if isinstance(node, ast.Name) and id(node) not in called]
    ordered = sorted(found, key=lambda node: (node.lineno, node.col_offset))
    return list(dict.fromkeys(node.id for node in ordered if node.id not in ALLOWED_CONSTANTS))
