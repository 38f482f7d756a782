"""Text renderings of results, proofs and the family list (sympy's unicode pretty printer for formulas)."""
from __future__ import annotations

import json
import re

import sympy as sp
from sympy.printing.latex import LatexPrinter


class _Latex(LatexPrinter):
    """sympy's LaTeX with the notation of papers: psi(x) for digamma, psi^(n) for polygamma, log Gamma(x)."""

    def _print_polygamma(self, expr, exp=None):
        order, arg = expr.args
        head = r"\psi" if order == 0 else rf"\psi^{{({self._print(order)})}}"
        out = rf"{head}\left({self._print(arg)}\right)"
        return rf"{out}^{{{exp}}}" if exp else out

    def _print_loggamma(self, expr, exp=None):
        out = rf"\log\Gamma\left({self._print(expr.args[0])}\right)"
        return rf"\left({out}\right)^{{{exp}}}" if exp else out


def latex(expr) -> str:
    """LaTeX of an expression as papers write it (renders on a Git forge inside $$ ... $$)."""
    return _Latex().doprint(expr)


def _pretty(expr) -> str:
    """sympy's unicode form; a numeric sum with a Meijer G or hypergeometric term in its own order (sympy sorts
    numeric terms by value: seconds per print for rayleigh(1/100)||halfcauchy(10), where mpmath gives up)."""
    slow = not expr.free_symbols and expr.has(sp.meijerg, sp.hyper)
    return sp.pretty(expr, use_unicode=True, wrap_line=False, order="none" if slow else None)


def text(result, steps: bool = False) -> str:
    """The title, the formula, when it holds, and the value when every parameter is given."""
    unit = "" if result.quantity == "expectation" else f" {result.unit}"
    lines = [f"{result.title}  [{unit.strip()}]" if unit else result.title]
    if steps:
        lines += ["", "Derivation:"] + [step_line(s) for s in result.steps] + [""]
    if result.expr is None:
        lines += no_closed_form_lines(result, unit)
        return "\n".join(lines)
    lines.append(_pretty(result.expr))
    if result.status == "infinite" and result.reason:
        lines.append(f"infinite: {result.reason}")
    elif result.conditions not in (sp.true, sp.false):
        lines.append(f"finite when: {result.conditions}" + (f"  ({result.reason})" if result.reason else ""))
    if result.symbols:
        lines.append("parameters: " + ", ".join(s.name for s in result.symbols))
    if not result.expr.free_symbols and result.status != "infinite":
        lines.append(f"= {result.decimal(20)}{unit}")
    return "\n".join(lines)


def no_closed_form_lines(result, unit: str) -> list[str]:
    """Say which expectation has no closed form, and give the value by quadrature when every parameter is given."""
    why = next((s.how for s in result.steps if s.title == "no closed form"), "") or result.reason
    lines = [f"no closed form found: {why}" if why else "no closed form found"]
    if result.symbols:
        return lines + ["give every parameter a value for a numeric value by quadrature"]
    try:
        shown = f"= {result.decimal(10)}{unit}"
        if shown.startswith("= oo"):
            return lines + [f"{shown}  (the defining integral diverges in a tail)"]
        return lines + [f"{shown}  (deterministic quadrature of the definition, 10 digits shown)"]
    except ValueError as err:
        return lines + [str(err)]


def markdown(result, steps: bool = False) -> str:
    """A Markdown block: the title, the result as display LaTeX ($$ ... $$), when it holds, the steps."""
    lines = [f"### {result.title} ({result.unit})", ""]
    lines.append(f"$$\n{result.latex()}\n$$" if result.expr is not None else f"No closed form found: {result.reason}")
    if result.reason:
        lines += ["", f"- {result.reason}"]
    if result.symbols:
        lines += ["", "- parameters: " + ", ".join(f"`{s.name}`" for s in result.symbols)]
    if steps:
        lines += ["", "Derivation:", ""] + [f"- {step_line(s).strip()}" for s in result.steps]
    return "\n".join(lines)


def step_line(step) -> str:
    shown = f" = {step.expr}" if step.expr is not None else ""
    how = f"    ({step.how})" if step.how else ""
    return f"  {step.title}{shown}{how}"


def proof_text(proof) -> str:
    lines = [f"KL(P||Q) = H(P, Q) - H(P) for P = {proof.p}, Q = {proof.q}: {proof.status.upper()}"]
    lines += [step_line(s) for s in proof.steps]
    family = re.sub(r"^(\w+)\(.*\)$", r"\1", proof.p)  # bernoulli(7/10) -> bernoulli; a custom density stays whole
    lines.append(f"KL(P||P) = 0 for {family}: {proof.self_status.upper()}")
    inv = proof.invariance
    if inv is not None:
        lines.append(f"KL unchanged by X = {inv.g} (Y ~ {inv.base} under P and Q): {inv.status.upper()}")
        lines += [step_line(s) for s in inv.steps]
    return "\n".join(lines)


def families_table(as_json: bool) -> str:
    """Every family with aliases, parameters in order, and support; indexed ones by their size K or d."""
    from . import families
    from .families import INDEXED
    rows = []
    for fam in families():
        entry = INDEXED.get(fam.name) if fam.index is not None else None
        syms = fam.symbols()
        rows.append({"name": fam.name if entry is None else f"{fam.name}[{entry.size}]",
                     "aliases": list(fam.aliases), "kind": "discrete" if fam.discrete else "continuous",
                     "parameters": [f"{p.name} ({p.domain})" for p in fam.params] if entry is None
                     else [entry.params],
                     "support": str(fam.support(*syms)) if entry is None else entry.support,
                     "about": fam.description})
        if entry is not None:
            rows[-1]["sizes"] = f"{entry.size} = {entry.sizes.start}..{entry.sizes.stop - 1}"
            rows[-1]["example"] = entry.example
            if entry.general is not None:
                rows[-1]["general"] = (f"{fam.name}[{entry.size}], with the letter {entry.size}: "
                                       f"{entry.general().description}")
    if as_json:
        return json.dumps(rows, indent=2)
    width = max(len(r["name"]) for r in rows)
    out = [f"{r['name']:<{width}}  {', '.join(r['parameters'])}  on {r['support']}"
           + (f"  (aliases: {', '.join(r['aliases'])})" if r["aliases"] else "")
           + (f"  ({r['sizes']}; e.g. {r['example']})" if "example" in r else "")
           + (f"\n{'':<{width}}  {r['general']}" if "general" in r else "") for r in rows]
    out.append("Specs: normal (all symbolic), normal(0, 1), normal(sigma=2), normal(_, 1), binomial(n, 0.3) "
               "(a shared symbol n), categorical[3] (symbolic, K = 3), categorical(0.2, 0.3, 0.5) (K inferred); "
               "vectors and matrices as lists of numbers: dirichlet([1, 2, 3]), diagnormal([0, 0], [1, 1]), "
               "mvnormal([0, 0], [[1, 0.5], [0.5, 2]]), mvnormal(_, [[1, 0], [0, 1]]) (mean symbolic); "
               "mvnormal[d] is the general-d form in matrix symbols mu, Sigma.")
    return "\n".join(out)
