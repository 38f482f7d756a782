"""The symkl command line: symbolic queries, proofs and the catalog summary. Exit codes: 0 ok, 1 a check found a
difference, 2 bad input, 3 out of time."""
from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Optional

import typer

app = typer.Typer(no_args_is_help=True, add_completion=True, pretty_exceptions_enable=False,
                  help="Derive and verify KL divergence, entropy and cross-entropy between distributions.")


class Base(str, Enum):
    e = "e"
    two = "2"
    ten = "10"


BaseOpt = Annotated[Base, typer.Option("--base", help="log base: e (nats), 2 (bits) or 10")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]
LatexOpt = Annotated[bool, typer.Option("--latex", help="print the result as LaTeX")]
StepsOpt = Annotated[bool, typer.Option("--steps", help="print the derivation steps")]
PythonOpt = Annotated[bool, typer.Option("--python", help="print numpy code for the result")]
MarkdownOpt = Annotated[bool, typer.Option("--markdown", help="print a Markdown block with display LaTeX")]
SpecArg = Annotated[str, typer.Argument(help='a distribution: "normal", "normal(0, 1)", "categorical[3]"')]


_SETTINGS = {"timeout": 30.0}


@app.callback()
def options(timeout: Annotated[float, typer.Option(help="CPU seconds a query may take before exit 3")] = 30.0):
    """Derive and verify KL divergence, entropy and cross-entropy between distributions."""
    _SETTINGS["timeout"] = timeout


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _run(query, *args):
    """Run a library call, turning the errors a user can cause into messages and exit codes."""
    from .budget import OutOfTime, time_budget
    from .family import FamilyError
    try:
        with time_budget(_SETTINGS["timeout"], "this query (raise --timeout to allow more)"):
            return query(*args)
    except FamilyError as err:
        _fail(str(err), 2)
    except OutOfTime as err:
        _fail(str(err), 3)
    except ValueError as err:
        _fail(str(err), 2)


def _show(result, as_json: bool, latex: bool, steps: bool, python: bool = False, md: bool = False) -> None:
    from .render import markdown, text
    if md:
        typer.echo(markdown(result, steps))
    elif python:
        from .numeric import python_source
        typer.echo(_run(python_source, result))
    elif as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    elif latex:
        typer.echo(result.latex() or result.reason)
    else:
        typer.echo(text(result, steps))


@app.command("kl")
def kl_command(p: SpecArg, q: SpecArg, base: BaseOpt = Base.e, as_json: JsonOpt = False,
               latex: LatexOpt = False, steps: StepsOpt = False, python: PythonOpt = False,
               md: MarkdownOpt = False):
    """KL(P||Q). Examples: symkl kl normal normal; symkl kl "bernoulli(0.7)" "bernoulli(0.4)" --base 2;
    symkl kl gamma gamma --python"""
    from .query import kl
    _show(_run(kl, p, q, base.value), as_json, latex, steps, python, md)


@app.command("entropy")
def entropy_command(p: SpecArg, base: BaseOpt = Base.e, as_json: JsonOpt = False,
                    latex: LatexOpt = False, steps: StepsOpt = False, python: PythonOpt = False,
                    md: MarkdownOpt = False):
    """H(P). Examples: symkl entropy gamma; symkl entropy "poisson(3)" """
    from .query import entropy
    _show(_run(entropy, p, base.value), as_json, latex, steps, python, md)


@app.command("cross-entropy")
def cross_entropy_command(p: SpecArg, q: SpecArg, base: BaseOpt = Base.e, as_json: JsonOpt = False,
                          latex: LatexOpt = False, steps: StepsOpt = False, python: PythonOpt = False,
                          md: MarkdownOpt = False):
    """H(P, Q) = -E_P[log q(X)]. Example: symkl cross-entropy exponential gamma"""
    from .query import cross_entropy
    _show(_run(cross_entropy, p, q, base.value), as_json, latex, steps, python, md)


@app.command("prove")
def prove_command(p: SpecArg, q: SpecArg, as_json: JsonOpt = False):
    """Prove KL(P||Q) = H(P,Q) - H(P) by two routes, and KL(P||P) = 0. Exit 0 proven, 1 not proven."""
    from .proof import prove
    from .render import proof_text
    proof = _run(prove, p, q)
    if as_json:
        typer.echo(json.dumps({"p": proof.p, "q": proof.q, "status": proof.status,
                               "self_divergence": proof.self_status, "proven": proof.proven}, indent=2))
    else:
        typer.echo(proof_text(proof))
    raise typer.Exit(0 if proof.proven else 1)


@app.command("check")
def check_command(p: Annotated[Optional[str], typer.Argument(help="P (omit with --all)")] = None,
                  q: Annotated[Optional[str], typer.Argument(help="Q (omit to check H(P) only)")] = None,
                  all_: Annotated[bool, typer.Option("--all", help="every quantity of the catalog")] = False,
                  points: Annotated[int, typer.Option(help="parameter points per quantity")] = 5,
                  workers: Annotated[int, typer.Option(help="processes for --all")] = 2,
                  as_json: JsonOpt = False):
    """Check H(P), KL and H(P,Q) against 50-digit quadrature or summation of their definitions.
    Exit 1 if a check failed. Examples: symkl check poisson poisson; symkl check --all --json"""
    from .check import check, check_all
    if all_ == (p is not None):
        _fail("give P (and Q), or --all", 2)
    if all_:
        records = check_all(workers, points)
    else:
        records = _run(check, p, q, points)
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in records], indent=2))
    else:
        for r in records:
            digits = "" if r.digits is None else f", worst {r.digits:.1f} digits"
            name = r.p if r.q is None else f"{r.p}||{r.q}"
            typer.echo(f"{r.quantity:<14} {name:<28} {r.status}{digits} ({len(r.points)} points)")
        if all_:
            counts = {}
            for r in records:
                counts[r.status] = counts.get(r.status, 0) + 1
            typer.echo(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    raise typer.Exit(1 if any(r.status == "failed" for r in records) else 0)


@app.command("derive")
def derive_command(all_: Annotated[bool, typer.Option("--all", help="every pair and family of the catalog")] = False,
                   check: Annotated[bool, typer.Option("--check", help="only report stale pages; exit 1 if any")]
                   = False,
                   out: Annotated[str, typer.Option(help="the book's folder")] = "derivations"):
    """Write the formula book: an index matrix and a page per pair and per family. Example: symkl derive --all"""
    from pathlib import Path

    from .book import write
    if not all_:
        _fail("say --all (the whole catalog is the only book there is for now)", 2)
    stale = write(Path(out), check=check)
    for rel in stale:
        typer.echo(f"{'stale' if check else 'wrote'}: {rel}")
    typer.echo(f"{len(stale)} page(s) {'stale' if check else 'written'}")
    raise typer.Exit(1 if check and stale else 0)


verify_app = typer.Typer(no_args_is_help=True, help="Judge a claimed formula or number: exit 0 equivalent, "
                                                    "1 wrong, 2 bad input.")
app.add_typer(verify_app, name="verify")
WhereOpt = Annotated[Optional[list[str]],
                     typer.Option("--where", help='define a name used in EXPR: "lv = log(sigma_p**2)"')]
ClaimArg = Annotated[str, typer.Argument(help="the claimed formula in the printed parameter names, or a number")]


def _verdict(result, claim: str, where, swapped, as_json: bool) -> None:
    from .parse import ParseError
    from .verify import verify
    try:
        verdict = _run(verify, result, claim, where or [], swapped)
    except ParseError as err:
        _fail(str(err), 2)
    if as_json:
        typer.echo(json.dumps(verdict.to_json(), indent=2))
    else:
        typer.echo(f"{verdict.status} ({verdict.how})")
        if verdict.point:
            typer.echo("at " + ", ".join(f"{k} = {v}" for k, v in verdict.point.items()))
        if verdict.truth:
            typer.echo(f"derived: {verdict.truth}\nclaimed: {verdict.claimed}")
        if verdict.diagnosis:
            typer.echo(f"diagnosis: {verdict.diagnosis}")
    raise typer.Exit(0 if verdict.equivalent else 1)


@verify_app.command("kl", context_settings={"ignore_unknown_options": True})
def verify_kl(p: SpecArg, q: SpecArg, claim: ClaimArg, base: BaseOpt = Base.e, where: WhereOpt = None,
              as_json: JsonOpt = False):
    """Is EXPR equal to KL(P||Q)? Examples: symkl verify kl "bernoulli(0.7)" "bernoulli(0.4)" 0.1838;
    symkl verify kl normal "normal(0, 1)" "-(1 + lv - mu_p**2 - exp(lv))/2" --where "lv = log(sigma_p**2)" """
    from .query import kl
    result = _run(kl, p, q, base.value)
    swapped = _run(kl, q, p, base.value) if result.p.family is result.q.family else None
    _verdict(result, claim, where, swapped, as_json)


@verify_app.command("entropy", context_settings={"ignore_unknown_options": True})
def verify_entropy(p: SpecArg, claim: ClaimArg, base: BaseOpt = Base.e, where: WhereOpt = None,
                   as_json: JsonOpt = False):
    """Is EXPR equal to H(P)? Example: symkl verify entropy exponential "1 - log(rate)" """
    from .query import entropy
    _verdict(_run(entropy, p, base.value), claim, where, None, as_json)


@verify_app.command("expectation", context_settings={"ignore_unknown_options": True})
def verify_expectation(p: SpecArg, f: Annotated[str, typer.Argument(help="f(x), in x and the parameter names")],
                       claim: ClaimArg, where: WhereOpt = None, as_json: JsonOpt = False):
    """Is EXPR equal to E_P[f(X)]?
    Example: symkl verify expectation gamma "x*log(x)" "shape/rate*(digamma(shape + 1) - log(rate))" """
    from .query import expectation
    _verdict(_run_parsed(expectation, p, f), claim, where, None, as_json)


@verify_app.command("cross-entropy", context_settings={"ignore_unknown_options": True})
def verify_cross_entropy(p: SpecArg, q: SpecArg, claim: ClaimArg, base: BaseOpt = Base.e, where: WhereOpt = None,
                         as_json: JsonOpt = False):
    """Is EXPR equal to H(P, Q)?"""
    from .query import cross_entropy
    _verdict(_run(cross_entropy, p, q, base.value), claim, where, None, as_json)


@app.command("expect")
def expect_command(p: SpecArg, f: Annotated[str, typer.Argument(help="f(x), in x and the parameter names")],
                   as_json: JsonOpt = False, latex: LatexOpt = False, steps: StepsOpt = False):
    """E_P[f(X)], derived. Examples: symkl expect gamma "x*log(x)"; symkl expect "normal(0, 1)" "x**4" """
    from .query import expectation
    _show(_run_parsed(expectation, p, f), as_json, latex, steps)


def _run_parsed(query, *args):
    """_run, with a parse error in the user's formula reported as bad input."""
    from .expectation import NoClosedForm
    from .parse import ParseError
    try:
        return _run(query, *args)
    except (ParseError, NoClosedForm) as err:
        _fail(str(err), 2)


@app.command("families")
def families_command(as_json: JsonOpt = False):
    """List the families: names, aliases, parameters in order, supports."""
    from .render import families_table
    typer.echo(families_table(as_json))


@app.command("catalog")
def catalog_command(as_json: JsonOpt = False, workers: Annotated[int, typer.Option(help="processes")] = 2):
    """Derive KL for every pair in the catalog (cached) and print the summary matrix."""
    from .catalog import summary
    typer.echo(summary(as_json, workers))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
