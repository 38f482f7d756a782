"""The symkl command line: symbolic queries, proofs and the catalog summary. Exit codes: 0 ok, 1 a check found a
difference, 2 bad input, 3 out of time, 4 a worker process died."""
from __future__ import annotations

import json
from enum import Enum
from functools import partial
from typing import Annotated, Optional

import typer

app = typer.Typer(no_args_is_help=True, add_completion=True, pretty_exceptions_enable=False, rich_markup_mode=None)


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
OptSpecArg = Annotated[Optional[str], typer.Argument(
    help='a distribution: "normal", "normal(0, 1)", "categorical[3]" (omitted for a role given by --p-density or '
         '--q-density)', show_default=False)]
PDensityOpt = Annotated[Optional[str], typer.Option(
    "--p-density", help='P as a density in x: "rate*exp(-rate*x)"; its other names are its parameters')]
QDensityOpt = Annotated[Optional[str], typer.Option("--q-density", help="Q as a density in x")]
SupportOpt = Annotated[Optional[str], typer.Option(
    help='support of the custom densities: "[0, oo)", "(0, 1)", "{0, 1, 2, ...}" (default: the real line, or '
         'the integers from 0 with --discrete)')]
PSupportOpt = Annotated[Optional[str], typer.Option("--p-support", help="P's support, where it differs from Q's")]
QSupportOpt = Annotated[Optional[str], typer.Option("--q-support", help="Q's support, where it differs from P's")]
DiscreteOpt = Annotated[bool, typer.Option("--discrete", help="the custom densities are on integers (mass functions)")]
AssumeOpt = Annotated[Optional[str], typer.Option(
    help='conditions on the custom densities\' parameters: "rate > 0", "0 < p < 1", "low < high" (default: real)')]
PValuesOpt = Annotated[Optional[str], typer.Option("--p-values", help='values of P\'s density parameters: "rate=2"')]
QValuesOpt = Annotated[Optional[str], typer.Option("--q-values", help="values of Q's density parameters")]


_SETTINGS = {"timeout": 30.0}


@app.callback()
def options(timeout: Annotated[float, typer.Option(help="CPU seconds a query may take before exit 3")] = 30.0):
    """Derive and verify KL divergence, entropy and cross-entropy between distributions.

    \b
    Examples:
      symkl kl normal normal
      symkl entropy gamma
      symkl verify kl "bernoulli(0.7)" "bernoulli(0.4)" 0.1838
      symkl --timeout 60 prove beta beta

    Shell completion: symkl --install-completion (or --show-completion to print the script).
    """
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


def _pooled(step, *args):
    """step(*args) for a command that fans out to worker processes (unbounded by --timeout: minutes are its
    normal): a worker that dies (out of memory, killed) is a message and exit 4, not a traceback."""
    from concurrent.futures.process import BrokenProcessPool
    try:
        return step(*args)
    except BrokenProcessPool:
        _fail("a worker process ended abruptly (out of memory, or killed); rerun with --workers 1", 4)


def _density(text, support, discrete, assume, values):
    """A custom density as a spec instance (checked to be normalized and non-negative), or None without text."""
    from .custom import density
    return None if text is None else _run(density, text, support, discrete, assume or "", values or "")


def _distributions(positional: list, custom: dict, p_values, q_values) -> list:
    """P (and Q) from the positional specs and the custom densities: positional specs fill, in order, the roles
    that no --p-density / --q-density gives (so `kl --p-density ... normal` compares with a catalog Q)."""
    for role, values in (("p", p_values), ("q", q_values)):
        if values is not None and custom.get(role) is None:
            _fail(f"--{role}-values belongs with --{role}-density (give a catalog family's values in its spec, "
                  f"as in normal(0, 1))", 2)
    given = [s for s in positional if s is not None]
    out = []
    for role in custom:
        if custom[role] is None and not given:
            _fail(f"missing {role.upper()}: give it as a spec such as normal(0, 1), or with --{role}-density", 2)
        out.append(custom[role] if custom[role] is not None else given.pop(0))
    if given:
        _fail(f"too many distributions: {', '.join(given)} (a role given by a density takes no spec)", 2)
    return out


def _roles(p, q, p_density, q_density, support, p_support, q_support, discrete, assume, p_values, q_values):
    """The (P, Q) pair for a two-distribution command."""
    custom = {"p": _density(p_density, p_support or support, discrete, assume, p_values),
              "q": _density(q_density, q_support or support, discrete, assume, q_values)}
    _check_assumptions(assume, custom)
    return _distributions([p, q], custom, p_values, q_values)


def _check_assumptions(assume, custom: dict) -> None:
    """--assume is shared by the custom densities: each name in it must be a parameter of one of them."""
    from .custom import unused_assumptions
    unused = _run(unused_assumptions, assume or "", [d.family for d in custom.values() if d is not None])
    if unused:
        _fail(f"--assume names {', '.join(map(repr, unused))}, which no custom density uses", 2)


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


def _mixture_query(quantity: str, p, q, base: str, as_json: bool) -> bool:
    """Answer for a mixture on either side (value by quadrature, bounds in closed form); False if neither is."""
    from .mixture import divergence, is_mixture
    if not any(is_mixture(s) for s in (p, q)):
        return False
    result = _run(divergence, quantity, p, q, base)
    typer.echo(json.dumps(result.to_json(), indent=2) if as_json else str(result))
    return True


@app.command("kl")
def kl_command(p: OptSpecArg = None, q: OptSpecArg = None, base: BaseOpt = Base.e, as_json: JsonOpt = False,
               latex: LatexOpt = False, steps: StepsOpt = False, python: PythonOpt = False,
               md: MarkdownOpt = False, p_density: PDensityOpt = None, q_density: QDensityOpt = None,
               support: SupportOpt = None, p_support: PSupportOpt = None, q_support: QSupportOpt = None,
               discrete: DiscreteOpt = False, assume: AssumeOpt = None, p_values: PValuesOpt = None,
               q_values: QValuesOpt = None):
    """KL(P||Q) = E_P[log p(X) - log q(X)], derived for two distributions.

    \b
    Examples:
      symkl kl normal normal
      symkl kl "bernoulli(0.7)" "bernoulli(0.4)" --base 2
      symkl kl gamma gamma --python
      symkl kl --p-density "rate*exp(-rate*x)" --q-density "rate*exp(-rate*x)" --support "[0, oo)" --assume "rate > 0"
      symkl kl --p-density "2*exp(-x)*(1 + sin(x))/3" exponential --support "[0, oo)"
      symkl kl "0.3*normal(0, 1) + 0.7*normal(2, 0.5)" "normal(1, 1)"
    """
    from .query import kl
    if _mixture_query("kl", p, q, base.value, as_json):
        return
    pair = _roles(p, q, p_density, q_density, support, p_support, q_support, discrete, assume, p_values, q_values)
    _show(_run(kl, *pair, base.value), as_json, latex, steps, python, md)


@app.command("entropy")
def entropy_command(p: OptSpecArg = None, base: BaseOpt = Base.e, as_json: JsonOpt = False,
                    latex: LatexOpt = False, steps: StepsOpt = False, python: PythonOpt = False,
                    md: MarkdownOpt = False,
                    p_density: Annotated[Optional[str], typer.Option(
                        "--p-density", "--density", help='P as a density in x: "rate*exp(-rate*x)"')] = None,
                    support: SupportOpt = None, discrete: DiscreteOpt = False, assume: AssumeOpt = None,
                    p_values: Annotated[Optional[str], typer.Option(
                        "--p-values", "--values", help='values of the density\'s parameters: "rate=2"')] = None):
    """H(P) = -E_P[log p(X)], derived for one distribution.

    \b
    Examples:
      symkl entropy gamma
      symkl entropy "poisson(3)"
      symkl entropy --density "p*(1 - p)**x" --discrete --assume "0 < p < 1"
      symkl entropy --density "a*exp(-a*x)" --support "[0, oo)" --assume "a > 0" --values "a=2"
    """
    from .query import entropy
    if _mixture_query("entropy", p, None, base.value, as_json):
        return
    custom = {"p": _density(p_density, support, discrete, assume, p_values)}
    _check_assumptions(assume, custom)
    (dist,) = _distributions([p], custom, p_values, None)
    _show(_run(entropy, dist, base.value), as_json, latex, steps, python, md)


@app.command("cross-entropy")
def cross_entropy_command(p: OptSpecArg = None, q: OptSpecArg = None, base: BaseOpt = Base.e,
                          as_json: JsonOpt = False, latex: LatexOpt = False, steps: StepsOpt = False,
                          python: PythonOpt = False, md: MarkdownOpt = False, p_density: PDensityOpt = None,
                          q_density: QDensityOpt = None, support: SupportOpt = None, p_support: PSupportOpt = None,
                          q_support: QSupportOpt = None, discrete: DiscreteOpt = False, assume: AssumeOpt = None,
                          p_values: PValuesOpt = None, q_values: QValuesOpt = None):
    """H(P, Q) = -E_P[log q(X)], derived for two distributions.

    \b
    Examples:
      symkl cross-entropy exponential gamma
      symkl cross-entropy "normal(0, 1)" --q-density "exp(-abs(x)/b)/(2*b)" --assume "b > 0"
    """
    from .query import cross_entropy
    if _mixture_query("cross_entropy", p, q, base.value, as_json):
        return
    pair = _roles(p, q, p_density, q_density, support, p_support, q_support, discrete, assume, p_values, q_values)
    _show(_run(cross_entropy, *pair, base.value), as_json, latex, steps, python, md)


@app.command("prove")
def prove_command(p: OptSpecArg = None, q: OptSpecArg = None, as_json: JsonOpt = False,
                  p_density: PDensityOpt = None, q_density: QDensityOpt = None, support: SupportOpt = None,
                  p_support: PSupportOpt = None, q_support: QSupportOpt = None, discrete: DiscreteOpt = False,
                  assume: AssumeOpt = None, p_values: PValuesOpt = None, q_values: QValuesOpt = None):
    """Prove KL(P||Q) = H(P,Q) - H(P) by two routes, and KL(P||P) = 0. Exit 0 proven, 1 not proven.

    \b
    Examples:
      symkl prove gamma gamma
      symkl prove "bernoulli(0.7)" "bernoulli(0.4)" --json
      symkl prove --p-density "rate*exp(-rate*x)" gamma --support "[0, oo)" --assume "rate > 0"
    """
    from .proof import prove
    from .render import proof_text
    pair = _roles(p, q, p_density, q_density, support, p_support, q_support, discrete, assume, p_values, q_values)
    proof = _run(prove, *pair)
    if as_json:
        typer.echo(json.dumps({"p": proof.p, "q": proof.q, "status": proof.status,
                               "self_divergence": proof.self_status, "proven": proof.proven}, indent=2))
    else:
        typer.echo(proof_text(proof))
    raise typer.Exit(0 if proof.proven else 1)


@app.command("check")
def check_command(p: OptSpecArg = None,
                  q: Annotated[Optional[str], typer.Argument(help="Q (omit to check H(P) only)")] = None,
                  all_: Annotated[bool, typer.Option("--all", help="every quantity of the catalog")] = False,
                  points: Annotated[int, typer.Option(help="parameter points per quantity")] = 5,
                  workers: Annotated[int, typer.Option(help="processes for --all")] = 2,
                  as_json: JsonOpt = False, p_density: PDensityOpt = None, q_density: QDensityOpt = None,
                  support: SupportOpt = None, p_support: PSupportOpt = None, q_support: QSupportOpt = None,
                  discrete: DiscreteOpt = False, assume: AssumeOpt = None, p_values: PValuesOpt = None,
                  q_values: QValuesOpt = None):
    """Check H(P), KL and H(P,Q) against 50-digit quadrature or summation of their definitions.
    Exit 1 if a check failed.

    \b
    Examples:
      symkl check poisson poisson
      symkl check "bernoulli(0.7)" bernoulli --points 2
      symkl check --p-density "exp(-lam)*lam**x/factorial(x)" poisson --discrete --assume "lam > 0" --points 2
    """
    from .check import check, check_all
    given = [s for s in (p, q) if s is not None] + [d for d in (p_density, q_density) if d is not None]
    if all_ == bool(given):
        _fail("give P (and Q), or --all", 2)
    if all_:
        records = _pooled(check_all, workers, points)
    elif len(given) == 1:  # P only: its entropy
        custom = {"p": _density(p_density, p_support or support, discrete, assume, p_values)}
        _check_assumptions(assume, custom)
        records = _run(check, *_distributions([p], custom, p_values, q_values), None, points)
    else:
        pair = _roles(p, q, p_density, q_density, support, p_support, q_support, discrete, assume, p_values,
                      q_values)
        records = _run(check, *pair, points)
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
                   out: Annotated[str, typer.Option(help="the book's folder")] = "derivations",
                   ml: Annotated[bool, typer.Option("--ml", help="only the identities' pages (ml/)")] = False,
                   workers: Annotated[int, typer.Option(min=1, help="processes for the derivations and checks")]
                   = 2,
                   only: Annotated[Optional[str], typer.Option(help='only pages matching a pattern: "kl/normal--*"')]
                   = None,
                   checks: Annotated[bool, typer.Option("--checks/--no-checks", help="each page with its 50-digit "
                                                        "check and its numeric function's accuracy")] = True):
    """Write the formula book: an index matrix and a page per pair and per family, each with its derivation,
    its check at 50 digits and the accuracy of its numeric function (--no-checks: the derivations alone).

    \b
    Examples:
      symkl derive --all --only "kl/normal--laplace.md"
    """
    from pathlib import Path

    from .book import write
    if not all_ and not ml:
        _fail("say --all (the whole book) or --ml (the identities' pages under ml/)", 2)
    from fnmatch import fnmatchcase
    stale = _pooled(partial(write, Path(out), check=check, ml_only=ml, workers=workers, checks=checks,
                            only=None if only is None else (lambda rel: fnmatchcase(rel, only))))
    for rel in stale:
        typer.echo(f"{'stale' if check else 'wrote'}: {rel}")
    typer.echo(f"{len(stale)} page(s) {'stale' if check else 'written'}")
    raise typer.Exit(1 if check and stale else 0)


verify_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                         help="Judge a claimed formula or number: exit 0 equivalent, 1 wrong, 2 bad input.\n\n\b\n"
                              "Examples:\n  symkl verify kl \"bernoulli(0.7)\" \"bernoulli(0.4)\" 0.1838\n"
                              "  symkl verify entropy exponential \"1 - log(rate)\"")
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
    """Is EXPR equal to KL(P||Q)?

    \b
    Examples:
      symkl verify kl "bernoulli(0.7)" "bernoulli(0.4)" 0.1838
      symkl verify kl normal "normal(0, 1)" "-(1 + lv - mu_p**2 - exp(lv))/2" --where "lv = log(sigma_p**2)"
    """
    from .query import kl
    result = _run(kl, p, q, base.value)
    swapped = _run(kl, q, p, base.value) if result.p.family is result.q.family else None
    _verdict(result, claim, where, swapped, as_json)


@verify_app.command("entropy", context_settings={"ignore_unknown_options": True})
def verify_entropy(p: SpecArg, claim: ClaimArg, base: BaseOpt = Base.e, where: WhereOpt = None,
                   as_json: JsonOpt = False):
    """Is EXPR equal to H(P)?

    \b
    Examples:
      symkl verify entropy exponential "1 - log(rate)"
      symkl verify entropy "bernoulli(0.5)" 1 --base 2
    """
    from .query import entropy
    _verdict(_run(entropy, p, base.value), claim, where, None, as_json)


@verify_app.command("expectation", context_settings={"ignore_unknown_options": True})
def verify_expectation(p: SpecArg, f: Annotated[str, typer.Argument(help="f(x), in x and the parameter names")],
                       claim: ClaimArg, where: WhereOpt = None, as_json: JsonOpt = False):
    """Is EXPR equal to E_P[f(X)]?

    \b
    Examples:
      symkl verify expectation gamma "x*log(x)" "shape/rate*(digamma(shape + 1) - log(rate))"
    """
    from .query import expectation
    _verdict(_run_parsed(expectation, p, f), claim, where, None, as_json)


@verify_app.command("cross-entropy", context_settings={"ignore_unknown_options": True})
def verify_cross_entropy(p: SpecArg, q: SpecArg, claim: ClaimArg, base: BaseOpt = Base.e, where: WhereOpt = None,
                         as_json: JsonOpt = False):
    """Is EXPR equal to H(P, Q)?

    \b
    Examples:
      symkl verify cross-entropy exponential exponential "rate_q/rate_p - log(rate_q)"
    """
    from .query import cross_entropy
    _verdict(_run(cross_entropy, p, q, base.value), claim, where, None, as_json)


@app.command("expect")
def expect_command(p: SpecArg, f: Annotated[str, typer.Argument(help="f(x), in x and the parameter names")],
                   as_json: JsonOpt = False, latex: LatexOpt = False, steps: StepsOpt = False):
    """E_P[f(X)], derived.

    \b
    Examples:
      symkl expect gamma "x*log(x)"
      symkl expect "normal(0, 1)" "x**4"
    """
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
    """List the families: names, aliases, parameters in order, supports.

    \b
    Examples:
      symkl families
      symkl families --json
    """
    from .render import families_table
    typer.echo(families_table(as_json))


@app.command("catalog")
def catalog_command(as_json: JsonOpt = False, workers: Annotated[int, typer.Option(help="processes")] = 2,
                    p: Annotated[Optional[list[str]], typer.Option(
                        "--p", help="only this P's row (repeatable); without it every pair, minutes on a cold "
                                    "cache")] = None):
    """Derive KL for every pair in the catalog (cached) and print the summary matrix.

    \b
    Examples:
      symkl catalog --p normal --p poisson
      symkl catalog --json --workers 1 --p "categorical[3]"
    """
    from .catalog import row_labels, summary
    rows = _run(row_labels, p) if p else None
    typer.echo(_pooled(summary, as_json, workers, rows))


def _register_identities() -> None:
    """The commands of symkl.ml's identities: coding, distill, estimators, renyi, jeffreys; fit, elbo, fisher,
    trust-region, direction."""
    from .ml.commands import register as register_fitting
    from .ml.divergence_commands import register as register_divergences
    register_divergences(app)
    register_fitting(app)


_register_identities()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
