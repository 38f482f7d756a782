"""The queries users ask: kl, entropy and cross_entropy of specs, derived once per family pair and cached."""
from __future__ import annotations

from . import cache
from .divergence import Derivation
from .result import BASES, Result, specialize
from .simplify import readable
from .spec import check_shared_names, instance


def kl(p, q, base="e") -> Result:
    """KL(P||Q) for two specs, e.g. ``kl("normal", "normal(0, 1)")``; ``base=2`` gives bits."""
    return _query("kl", p, q, base)


def cross_entropy(p, q, base="e") -> Result:
    """H(P, Q) = -E_P[log q(X)] for two specs."""
    return _query("cross_entropy", p, q, base)


def entropy(p, base="e") -> Result:
    """H(P) = -E_P[log p(X)] for a spec, e.g. ``entropy("gamma(2, 1)")``."""
    return _query("entropy", p, None, base)


def expectation(p, f: str) -> Result:
    """E_P[f(X)] for a spec and a formula in x (x1, x2, ... for a vector) and the family's parameter names:
    ``expectation("gamma", "x*log(x)")``, ``expectation("mvnormal[2]", "x1*x2")``.

    The formula is user text: it goes through the safe parser only.
    """
    import sympy as sp

    from .divergence import variable_for
    from .expectation import Step, expect
    from .parse import parse_expression
    ip = instance(p)
    fam, params = ip.family, ip.family.symbols()
    x = variable_for(fam)
    variables = {xi.name: xi for xi in x} if isinstance(x, sp.MatrixBase) else {"x": x}
    f_expr = parse_expression(f, {**variables, **{s.name: s for s in params}})
    value, steps = expect(fam, params, f_expr, x)
    d = Derivation("expectation", fam.label, None, readable(value), sp.true, "", "closed",
                   (Step(f"f(x) = {f_expr}"), *steps))
    return specialize(d, ip, None)


def unit_base(base) -> str:
    """Normalize a log base given as e, 2, 10 (number or text) to the key used in results."""
    key = {"2.0": "2", "10.0": "10", "nats": "e", "bits": "2"}.get(str(base).strip().lower(), str(base).strip().lower())
    if key not in BASES:
        raise ValueError(f"unsupported log base {base!r}: use e (nats), 2 (bits) or 10")
    return key


def _query(quantity: str, p, q, base) -> Result:
    key = unit_base(base)
    ip = instance(p)
    iq = instance(q) if q is not None else None
    check_shared_names(*[i for i in (ip, iq) if i is not None])
    d = cache.derivation(quantity, ip.family, iq.family if iq else None)
    return specialize(d, ip, iq, key)
