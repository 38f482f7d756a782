"""Plain-text renderings of the ``symkl.ml`` results for the command line (formulas by sympy's pretty printer)."""
from __future__ import annotations

import mpmath
import sympy as sp

from .reference import value

EXACT_WIDTH = 60


def pretty(expr) -> str:
    return sp.pretty(expr, use_unicode=True, wrap_line=False)


def number(expr, digits: int = 20, bits: bool = False) -> str:
    """An exact number as itself (when short) and its decimal: '17/10 = 1.7'."""
    if expr.is_infinite:
        return "oo"
    if expr.is_Integer:
        return str(expr)
    decimal = mpmath.nstr(value(expr, digits + 5), digits)
    exact = str(bits_form(expr) if bits else expr)
    return decimal if exact == decimal or len(exact) > EXACT_WIDTH else f"{exact} = {decimal}"


def bits_form(expr: sp.Expr) -> sp.Expr:
    """A number in bits as a rational part plus (logs of primes)/log(2): 7*log(7)/(10*log(2)) - 17/10."""
    if expr.is_Rational or not expr.has(sp.log):
        return expr
    nats = sp.expand(sp.expand_log(sp.expand(expr * sp.log(2)), force=True))
    rational = nats.coeff(sp.log(2))
    rest = sp.expand(nats - rational * sp.log(2))
    if rest.has(sp.log(2)) or not rational.is_Rational:
        return expr
    return rational + (rest / sp.log(2) if rest != 0 else 0)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header] + rows]


def coding_text(c) -> str:
    lines = [f"Coding X ~ P = {c.p} with codes built for Q = {c.q}  [bits]", ""]
    rows = [[str(s.x), str(s.p), str(s.q), "oo" if s.ideal_q.is_infinite else mpmath.nstr(value(s.ideal_q, 12), 8),
             "-" if s.ideal_p is None else mpmath.nstr(value(s.ideal_p, 12), 8),
             codeword(s.shannon), codeword(s.huffman)] for s in c.symbols]
    lines += table(["x", "p(x)", "q(x)", "-log2 q(x)", "-log2 p(x)", "Shannon(Q)", "Huffman(Q)"], rows)
    if c.uncodable:
        lines += ["", (f"q(x) = 0 at x = {', '.join(map(str, c.uncodable))}, where P has mass "
                       f"{number(c.uncodable_mass, 8)}: the codes built for Q have no codeword there, so data from P "
                       f"cannot be coded with them. Every expected length on data from P, and the excess KL(P||Q), "
                       f"is infinite.")]
    lines += ["", "expected length on data from P, bits per symbol:",
              f"  H(P)                       {number(c.entropy_p, bits=True)}",
              f"  ideal code for Q, H(P, Q)  {number(c.cross_entropy, bits=True)}",
              f"  Shannon code for Q         {number(c.shannon_p, bits=True)}",
              f"  Huffman code for Q         {number(c.huffman_p, bits=True)}",
              "", "excess of the ideal code for Q over the ideal code for P, E_P[-log2 q(X)] - E_P[-log2 p(X)]:",
              f"  KL(P||Q) = {number(c.kl_bits, bits=True)} bits",
              f"  the catalog's KL(P||Q) in bits (symkl kl P Q --base 2): {c.kl_catalog}",
              "", "theorems, checked exactly on this pair:"]
    lines += [f"  {'ok  ' if b.holds else 'FAIL'}  {b.name}: {b.statement}\n        here: {b.shown()}"
              for b in c.bounds]
    if c.uncodable:
        return "\n".join(lines)
    lines.append(f"not a theorem: E_P[L_Huffman(Q)] <= E_P[L_Shannon(Q)] (Huffman's code is optimal under Q, not "
                 f"under P); here {number(c.huffman_p, 8)} against {number(c.shannon_p, 8)}")
    return "\n".join(lines)


def codeword(word: str | None) -> str:
    """'2 10' (length and bits), '0 (empty)' for the one outcome of a certain Q, 'none' where q(x) = 0."""
    return "none" if word is None else f"{len(word)} {word or '(empty)'}"


def divergence_text(d, steps: bool = False) -> str:
    lines = [f"{d.title}  [nats]"]
    if steps:
        lines += ["", "Derivation:"] + [step_line(s) for s in d.steps] + [""]
    lines.append(pretty(d.expr))
    if d.expr.is_infinite:
        lines.append(f"infinite: the integral diverges (needs {d.condition})"
                     if d.condition not in (sp.true, sp.false) else "infinite")
    elif d.condition not in (sp.true, sp.false) and d.expr.free_symbols:
        lines.append(f"finite when: {d.condition}")
    if d.symbols:
        lines.append("parameters: " + ", ".join(s.name for s in d.symbols))
    elif not d.expr.is_infinite:
        lines.append(f"= {mpmath.nstr(d.value(25), 20)} nats")
    lines += [f"check: {c}" for c in d.checks]
    return "\n".join(lines)


def step_line(step) -> str:
    shown = f" = {step.expr}" if step.expr is not None else ""
    return f"  {step.title}{shown}" + (f"    ({step.how})" if step.how else "")


def estimators_text(e, checks=None) -> str:
    """Each estimator's mean, bias, variance and expected gradient; decimals when every value is given."""
    numeric = not any(x.free_symbols for x in (e.kl, *e.kl_gradient))
    show = (lambda x: number(x, 12)) if numeric else (lambda x: str(x))
    lines = [f"KL estimators for P = {e.p}, Q = {e.q}  [nats]", *[f"  {n}" for n in e.notes],
             f"  KL(P||Q) = {show(e.kl)}",
             (f"  grad KL(P||Q) in ({', '.join(s.name for s in e.parameters)}) = "
             f"({', '.join(show(g) for g in e.kl_gradient)})"), ""]
    if numeric:
        rows = [[r.name, number(r.mean, 12).split(" = ")[-1], number(r.bias, 12).split(" = ")[-1],
                 number(r.variance, 12).split(" = ")[-1],
                 "(" + ", ".join(number(g, 6).split(" = ")[-1] for g in r.gradient_bias) + ")"] for r in e.rows]
        lines += table(["k", "mean", "bias", "variance", "gradient bias E_P[grad k] - grad KL"], rows) + [""]
    rows = [[r.name, str(r.definition), r.unbiased, r.gradient_matches, r.reverse_matches] for r in e.rows]
    lines += table(["k", "definition", "unbiased for KL(P||Q)", "E_P[grad k] = grad KL(P||Q)",
                    "E_P[grad k] = grad KL(Q||P)"], rows)
    for r in e.rows:
        lines += ["", f"{r.name} = {r.definition}",
                  f"  mean      {show(r.mean)}", f"  bias      {show(r.bias)}",
                  f"  variance  {show(r.variance) if not r.variance.has(sp.Piecewise) else pretty_inline(r.variance)}",
                  f"  E_P[grad] ({', '.join(show(g) for g in r.gradient)})",
                  f"  gradient bias, E_P[grad k] - grad KL ({', '.join(show(g) for g in r.gradient_bias)})"]
    if checks:
        worst = min(d for _, d in checks)
        lines += ["", f"checked against mpmath quadrature/summation: {len(checks)} numbers, worst {worst:.1f} "
                      f"digits agreeing" + ("" if worst >= 40 else "  FAILED")]
    return "\n".join(lines)


def pretty_inline(expr: sp.Expr) -> str:
    """A Piecewise((value, condition), (oo, True)) as 'value  (oo unless condition)'."""
    (branch, condition), *_ = expr.args
    return f"{branch}  (when {condition}; else oo)"
