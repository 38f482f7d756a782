"""Coding length: KL(P||Q) is the expected number of extra bits spent coding data from P with a code built for Q.

For finite discrete P and Q with every value given, exactly (sympy numbers): the ideal code lengths -log2 q(x),
their expected excess over -log2 p(x) (KL in bits, checked against the catalog's derived KL), and the real
prefix codes built for Q (Shannon lengths ceil(-log2 q(x)) and a Huffman code), with the theorems they satisfy
checked exactly. E_P[L_Huffman(Q)] <= E_P[L_Shannon(Q)] is not one of them: Huffman's code is optimal under Q,
not under P, and `huffman_can_lose` shows a pair where it is longer.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import mpmath
import sympy as sp
from sympy.core.evalf import PrecisionExhausted

from ..divergence import masses
from ..family import FamilyError
from ..spec import Instance, instance
from ..support import bounds

DPS = 60
SIGN_BITS = 40000
LOG2 = sp.log(2)


@dataclass(frozen=True)
class Symbol:
    """One outcome: its probabilities under P and Q, ideal lengths in bits, and the two codes' codewords."""

    x: int
    p: sp.Expr
    q: sp.Expr
    ideal_q: sp.Expr
    ideal_p: sp.Expr | None
    shannon: str | None
    huffman: str | None
    """None where q(x) = 0: a code built for Q has no codeword for x."""


@dataclass(frozen=True)
class Bound:
    """A theorem about the codes, its instance here (exact sides) and whether it holds."""

    name: str
    statement: str
    sides: tuple
    holds: bool

    def shown(self) -> str:
        return " ".join(s if isinstance(s, str) else _decimal(s, 8) for s in self.sides)


@dataclass(frozen=True)
class Coding:
    """Codes built for Q, used on data from P. Lengths in bits; expectations exact sympy numbers."""

    p: str
    q: str
    symbols: tuple[Symbol, ...]
    entropy_p: sp.Expr
    entropy_q: sp.Expr
    cross_entropy: sp.Expr
    kl_bits: sp.Expr
    kl_catalog: str
    shannon_p: sp.Expr
    shannon_q: sp.Expr
    huffman_p: sp.Expr
    huffman_q: sp.Expr
    uncodable: tuple[int, ...] = ()
    """Outcomes where P has mass and q(x) = 0: no code for Q codes them, so every excess is infinite."""
    bounds: tuple[Bound, ...] = field(default=())

    @property
    def uncodable_mass(self) -> sp.Expr:
        """P(q(X) = 0): the share of P's data that codes built for Q cannot code."""
        return sp.Add(*[s.p for s in self.symbols if s.x in self.uncodable])

    @property
    def ok(self) -> bool:
        return all(b.holds for b in self.bounds)

    def to_json(self) -> dict:
        rows = [{"x": s.x, "p": str(s.p), "q": str(s.q), "ideal_bits_q": _decimal(s.ideal_q, 20),
                 "ideal_bits_p": None if s.ideal_p is None else _decimal(s.ideal_p, 20),
                 "shannon": s.shannon, "huffman": s.huffman} for s in self.symbols]
        exact = {name: {"exact": str(v), "bits": _decimal(v, 20)} for name, v in (
            ("entropy_p", self.entropy_p), ("cross_entropy", self.cross_entropy), ("kl_bits", self.kl_bits),
            ("shannon_p", self.shannon_p), ("huffman_p", self.huffman_p), ("entropy_q", self.entropy_q),
            ("shannon_q", self.shannon_q), ("huffman_q", self.huffman_q))}
        return {"p": self.p, "q": self.q, "symbols": rows, **exact, "kl_equals_catalog": self.kl_catalog,
                "uncodable": list(self.uncodable), "uncodable_mass": str(self.uncodable_mass),
                "bounds": [{"name": b.name, "statement": b.statement, "instance": b.shown(), "holds": b.holds}
                           for b in self.bounds], "ok": self.ok}


def coding(p, q) -> Coding:
    """Ideal, Shannon and Huffman codes built for Q, and what they cost on data from P (bits, exact). Where P
    has mass on an outcome with q(x) = 0 the codes have no codeword for it: its ideal length, every expected
    length on data from P and KL(P||Q) are oo, and ``uncodable`` names the outcomes.

    .. math:: E_P[-\\log_2 q(X)] - H(P) = KL(P||Q) \\text{ bits}

        >>> c = coding("bernoulli(0.7)", "bernoulli(0.4)")
        >>> c.shannon_p, c.huffman_p
        (17/10, 1)
    """
    ip, iq = instance(p), instance(q)
    p_mass, q_mass = _pmf(ip, "P"), _pmf(iq, "Q")
    uncodable = tuple(sorted(x for x in p_mass if x not in q_mass))
    shannon = {x: shannon_length(w) for x, w in q_mass.items()}
    huffman = huffman_lengths(dict(sorted(q_mass.items())))
    words_s, words_h = canonical_code(shannon), canonical_code(huffman)
    rows = tuple(Symbol(x, p_mass.get(x, sp.S.Zero), q_mass.get(x, sp.S.Zero),
                        -sp.log(q_mass[x], 2) if x in q_mass else sp.oo,
                        -sp.log(p_mass[x], 2) if x in p_mass else None, words_s.get(x), words_h.get(x))
                 for x in sorted(set(q_mass) | set(p_mass)))

    def under_p(f):   # E_P[f(X)]; oo when P has mass where Q's codes have no codeword
        return sp.oo if uncodable else sp.Add(*[w * f(x) for x, w in p_mass.items()])
    under_q = lambda f: sp.Add(*[w * f(x) for x, w in q_mass.items()])
    h_p = sp.Add(*[-w * sp.log(w, 2) for w in p_mass.values()])   # finite whatever Q is
    h_q = under_q(lambda x: -sp.log(q_mass[x], 2))
    cross = under_p(lambda x: -sp.log(q_mass[x], 2))
    kl_bits = under_p(lambda x: sp.log(p_mass[x] / q_mass[x], 2))
    result = Coding(ip.label, iq.label, rows, h_p, h_q, cross, kl_bits, _against_catalog(kl_bits, ip, iq),
                    under_p(lambda x: shannon[x]), under_q(lambda x: shannon[x]),
                    under_p(lambda x: huffman[x]), under_q(lambda x: huffman[x]), uncodable)
    return Coding(**{**result.__dict__, "bounds": _bounds(result, shannon, huffman)})


def _pmf(inst: Instance, role: str) -> dict[int, sp.Expr]:
    """The outcomes with positive mass and their exact probabilities, for a finite family with values given."""
    fam = inst.family
    if not fam.discrete or fam.dim is not None:
        raise FamilyError(f"{role} = {inst.label}: coding needs a discrete distribution on finitely many outcomes "
                          f"(bernoulli, binomial, categorical)")
    if any(v is None or isinstance(v, str) for v in inst.bound):
        raise FamilyError(f"{role} = {inst.label}: give every probability, as in bernoulli(0.7) or "
                          f"categorical(0.5, 0.25, 0.25); a code is built for numbers")
    _lo, hi = bounds(fam.support(*inst.bound))
    found = masses(fam, inst.bound) if hi.is_finite else None
    if found is None:
        raise FamilyError(f"{role} = {inst.label} has infinitely many outcomes: a Huffman code needs a finite "
                          f"alphabet (bernoulli, binomial, categorical)")
    return found


def shannon_length(q: sp.Expr) -> int:
    """ceil(-log2 q), exactly: the least l with 2**-l <= q (the Shannon code's length for probability q)."""
    length = max(int(mpmath.ceil(-mpmath.log(_mp(q), 2))) - 1, 0)
    while not _is_at_most(sp.Integer(2) ** -length, q):
        length += 1
    return length


def _is_at_most(a: sp.Expr, b: sp.Expr) -> bool:
    """a <= b for exact numbers."""
    return _sign(b - a) >= 0


def _is_zero(expr: sp.Expr) -> bool:
    return _sign(expr) == 0


def _sign(expr: sp.Expr) -> int:
    """-1, 0 or 1 for an exact real number. Zero is decided exactly (``_log_combination_is_zero``: every number
    here is one); otherwise the value comes from sympy's evalf, which raises the working precision through
    cancellation (the gap between E_Q[L_Shannon] and H(Q) + 1 is 2e-300 for q = 1e-300: a fixed 60 digits saw 0).
    simplify is the last resort only, since simplifying logs of huge integers factors them (minutes)."""
    exact = _log_combination_is_zero(expr)
    if exact:
        return 0
    try:
        v = sp.sympify(expr).evalf(30, strict=True, maxn=SIGN_BITS)  # safe: a sympy expr
    except PrecisionExhausted:
        v = sp.S.Zero
    if v != 0:
        return 1 if v > 0 else -1
    if exact is None and sp.simplify(sp.expand_log(sp.expand(expr), force=True)) == 0:
        return 0
    raise ArithmeticError(f"cannot decide the sign of {expr}: zero to {SIGN_BITS} bits, yet not exactly 0")


def _log_combination_is_zero(expr: sp.Expr) -> bool | None:
    """For c0 + sum c_i log(r_i) with rational c and positive rational r (every number here, in nats or bits): the
    r_i written over a coprime base b_j (gcds only, no factoring) make log r_i = sum_j e_ij log b_j with the
    log b_j linearly independent over the rationals, so the sum is 0 exactly when c0 = 0 (e^c0 is transcendental
    for a rational c0 != 0) and sum_i c_i e_ij = 0 for every j. None for any other shape."""
    parsed = _log_combination(expr) or _log_combination(expr * LOG2)   # in nats, or in bits
    if parsed is None:
        return None
    constant, logs = parsed
    if constant != 0:
        return False
    base = _coprime_base([n for _, r in logs for n in (r.p, r.q)])
    return all(sum(c * (_valuation(r.p, b) - _valuation(r.q, b)) for c, r in logs) == 0 for b in base)


def _log_combination(expr: sp.Expr) -> tuple[sp.Rational, list] | None:
    """expr as c0 + sum c_i log(r_i) (rational c, positive rational r): (c0, [(c_i, r_i)]), else None."""
    constant, logs = sp.S.Zero, []
    for term in sp.Add.make_args(sp.expand(expr)):
        coeff, rest = term.as_coeff_Mul()
        if rest is sp.S.One and coeff.is_Rational:
            constant += coeff
        elif isinstance(rest, sp.log) and rest.args[0].is_Rational and rest.args[0] > 0 and coeff.is_Rational:
            logs.append((coeff, rest.args[0]))
        else:
            return None
    return constant, logs


def _coprime_base(numbers: list[int]) -> list[int]:
    """Pairwise coprime integers > 1 of which every number given is a product (factor refinement by gcds)."""
    base: list[int] = []
    todo = [n for n in numbers if n > 1]
    while todo:
        a = todo.pop()
        for i, b in enumerate(base):
            g = math.gcd(a, b)
            if g > 1:
                base.pop(i)
                todo += [n for n in (g, a // g, b // g) if n > 1]
                break
        else:
            base.append(a)
    return base


def _valuation(n: int, b: int) -> int:
    """How many times b divides n."""
    count = 0
    while n % b == 0:
        n //= b
        count += 1
    return count


def huffman_lengths(weights: dict[int, sp.Expr]) -> dict[int, int]:
    """Codeword lengths of a binary Huffman code for these weights (ties broken by first appearance).

    One symbol gets the empty codeword (length 0): it needs no bits.
    """
    if len(weights) == 1:
        return {x: 0 for x in weights}
    heap = [(_mp(w), i, (x,)) for i, (x, w) in enumerate(weights.items())]
    heapq.heapify(heap)
    lengths = {x: 0 for x in weights}
    counter = len(heap)
    while len(heap) > 1:
        w1, _, a = heapq.heappop(heap)
        w2, _, b = heapq.heappop(heap)
        for x in a + b:
            lengths[x] += 1
        heapq.heappush(heap, (w1 + w2, counter, a + b))
        counter += 1
    return lengths


def canonical_code(lengths: dict[int, int]) -> dict[int, str]:
    """A prefix code with these lengths (they satisfy Kraft's inequality): canonical, shortest first."""
    out, code, previous = {}, 0, None
    for x in sorted(lengths, key=lambda s: (lengths[s], s)):
        if previous is not None:
            code = (code + 1) << (lengths[x] - previous)
        out[x] = format(code, f"0{lengths[x]}b") if lengths[x] else ""
        previous = lengths[x]
    return out


def kraft_sum(lengths: dict[int, int]) -> sp.Rational:
    return sp.Add(*[sp.Rational(1, 2 ** n) for n in lengths.values()])


def _bounds(c: Coding, shannon: dict, huffman: dict) -> tuple[Bound, ...]:
    """The theorems about these codes, each checked exactly on this pair (those about data from P only where
    P's data can be coded; otherwise the statement that the excess is infinite)."""
    k_s, k_h = kraft_sum(shannon), kraft_sum(huffman)
    kraft = (Bound("Kraft, Shannon code", "sum 2^-l(x) <= 1 (a prefix code with these lengths exists)",
                   (k_s, "<=", sp.S.One), _is_at_most(k_s, sp.S.One)),
             Bound("Kraft, Huffman code", "sum 2^-l(x) = 1 (Huffman's code is complete)",
                   (k_h, "=", sp.S.One), k_h == 1))
    under_q = Bound("Huffman is optimal under Q", "H(Q) <= E_Q[L_Huffman] <= E_Q[L_Shannon] < H(Q) + 1",
                    (c.entropy_q, "<=", c.huffman_q, "<=", c.shannon_q, "<", c.entropy_q + 1),
                    _is_at_most(c.entropy_q, c.huffman_q) and _is_at_most(c.huffman_q, c.shannon_q)
                    and _strictly_less(c.shannon_q, c.entropy_q + 1))
    if c.uncodable:
        mass = c.uncodable_mass
        return (*kraft, under_q,
                Bound("no codeword where q(x) = 0", "P(q(X) = 0) > 0 makes E_P[L] = oo for every code built for Q, "
                      "and KL(P||Q) = oo", (mass, ">", sp.S.Zero), bool(mass > 0) and c.kl_bits is sp.oo))
    hp_kl = c.entropy_p + c.kl_bits
    return (
        *kraft,
        Bound("Shannon code for Q, data from P", "H(P) + KL(P||Q) <= E_P[L] < H(P) + KL(P||Q) + 1",
              (hp_kl, "<=", c.shannon_p, "<", hp_kl + 1),
              _is_at_most(hp_kl, c.shannon_p) and _strictly_less(c.shannon_p, hp_kl + 1)),
        Bound("any prefix code, data from P", "E_P[L_Huffman(Q)] >= H(P) (the excess is KL(P||2^-L) >= 0)",
              (c.huffman_p, ">=", c.entropy_p), _is_at_most(c.entropy_p, c.huffman_p)),
        under_q,
        Bound("excess of the ideal code for Q", "E_P[-log2 q(X)] - H(P) = KL(P||Q) in bits",
              (c.cross_entropy - c.entropy_p, "=", c.kl_bits), _is_zero(c.cross_entropy - c.entropy_p - c.kl_bits)),
    )


def _strictly_less(a: sp.Expr, b: sp.Expr) -> bool:
    return _sign(b - a) > 0


def _against_catalog(kl_bits: sp.Expr, ip: Instance, iq: Instance) -> str:
    """The expected excess against `kl(P, Q, base=2)` derived by the catalog: proven equal, or digits agreeing."""
    from ..query import kl
    derived = kl(ip, iq, base="2").expr
    if derived is not None and (derived.is_infinite or kl_bits.is_infinite):
        return "proven (both are oo)" if derived == kl_bits else f"DIFFERS (the catalog gives {derived})"
    if _is_zero(derived - kl_bits):
        return "proven (the difference simplifies to 0)"
    a, b = sp.N(derived, DPS), sp.N(kl_bits, DPS)
    digits = DPS if a == b else int(-mpmath.log10(abs(_mp(a - b)) / max(abs(_mp(b)), mpmath.mpf(10) ** -DPS)))
    return f"agrees to {min(digits, DPS)} digits" if digits >= 40 else f"DIFFERS (only {digits} digits agree)"


def huffman_can_lose() -> tuple[str, str, sp.Expr, sp.Expr]:
    """A pair where Huffman's code for Q is longer on data from P than Shannon's code for Q:
    Q = (0.42, 0.28, 0.25, 0.05) (no ties) gives Huffman lengths (1, 2, 3, 3) but Shannon (2, 2, 2, 5); P on the
    third outcome pays 3 bits with Huffman and 2 with Shannon."""
    p, q = "categorical(0.02, 0.02, 0.94, 0.02)", "categorical(0.42, 0.28, 0.25, 0.05)"
    c = coding(p, q)
    return p, q, c.huffman_p, c.shannon_p


def _mp(value: sp.Expr) -> mpmath.mpf:
    with mpmath.workdps(DPS):
        return mpmath.mpf(sp.Float(sp.N(value, DPS), DPS)._mpf_)


def _decimal(value: sp.Expr, digits: int) -> str:
    if value.is_infinite:
        return "inf"
    with mpmath.workdps(DPS):
        return mpmath.nstr(_mp(value), digits)
