"""The command-line side of ``symkl.ml``: fit, elbo, fisher, trust-region and direction, added to symkl's typer
app by ``register`` (called by ``symkl.cli``; the library never imports this module). Exit codes as everywhere: 0 ok,
1 a check found a difference, 2 bad input, 3 out of time."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

# symkl.cli imports this module to register the commands, so it is imported here only when a command runs
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]
SpecArg = Annotated[str, typer.Argument(help='a distribution: "normal", "normal(0, 1)", "categorical[3]"')]
LogitsOpt = Annotated[bool, typer.Option("--logits", help="a categorical family in logits z (p = softmax(z))")]


def _run(query, *args):
    from ..cli import _run as run
    return run(query, *args)


def _fail(message: str, code: int) -> None:
    from ..cli import _fail as fail
    fail(message, code)


def _emit(as_json: bool, data: dict, text: str, ok: bool) -> None:
    typer.echo(json.dumps(data, indent=2) if as_json else text)
    raise typer.Exit(0 if ok else 1)


def fit_command(p: SpecArg, q: Annotated[str, typer.Argument(help='the family fitted: "normal", "normal(0, _)"')],
                points: Annotated[int, typer.Option(help="parameter points checked when P has no values")] = 2,
                as_json: JsonOpt = False):
    """Fit Q to P: argmin over Q's open parameters of KL(P||Q), which is argmin of H(P, Q); derived, solved in
    closed form where sympy can, and checked by findroot on quadrature moments. Exit 1 if a check failed.

    \b
    Examples:
      symkl fit gamma normal
      symkl fit "gamma(2, 3)" normal
      symkl fit "categorical[3]" "categorical[3]"
    """
    from .fit import fit
    from .report import fit_json, fit_text
    result = _run(fit, p, q, points)
    _emit(as_json, fit_json(result), fit_text(result), result.status != "failed")


def elbo_command(name: Annotated[str, typer.Argument(metavar="MODEL", help="normal-normal or beta-bernoulli")],
                 values: Annotated[str | None, typer.Option(
                     help='the check point: "m0=0, s0=1, s=0.5, x=1.2, m=0, v=1" (the rest from the model\'s own)')]
                 = None, as_json: JsonOpt = False):
    """The ELBO of a conjugate model: log p(x), ELBO and KL(q || p(z|x)) derived, log p(x) = ELBO + KL proven,
    the maximiser found, every form checked by quadrature. Exit 1 if something is not proven.

    \b
    Examples:
      symkl elbo normal-normal
      symkl elbo beta-bernoulli --values "a=1, b=1, n=1, k=0, alpha=2, beta=2"
    """
    from .elbo import elbo, model, values_point
    from .report import elbo_json, elbo_text
    mod = _run(model, name)
    points = mod.points[:1] if values is None else (_run(values_point, mod, values),)
    result = _run(elbo, name, points)
    _emit(as_json, elbo_json(result), elbo_text(result), result.ok)


def fisher_command(p: Annotated[str | None, typer.Argument(
                       help='a family: "normal", "gamma", "categorical[3]", or with values "normal(0, 2)"')] = None,
                   logits: LogitsOpt = False,
                   all_: Annotated[bool, typer.Option("--all", help="the table for every catalog family")] = False,
                   as_json: JsonOpt = False):
    """Fisher information F(theta), by the Hessian of KL and by E[score score^T] and -E[Hessian of log p],
    which must agree; and the check that (KL(theta||theta + h d) - h^2 d^T F d/2)/h^3 stays bounded as h -> 0.
    Exit 1 when the routes disagree or F does not exist (a support moving with the parameters).

    \b
    Examples:
      symkl fisher normal
      symkl fisher gamma
      symkl fisher "categorical(0.2, 0.3, 0.5)" --logits
    """
    from .fisher import catalog_table, fisher
    from .report import fisher_json, fisher_text
    if all_ == (p is not None):
        _fail("give a family, or --all", 2)
    results = [_run(fisher, spec, lg) for spec, lg in catalog_table()] if all_ else [_run(fisher, p, logits)]
    if as_json:
        typer.echo(json.dumps([fisher_json(r) for r in results] if all_ else fisher_json(results[0]), indent=2))
    else:
        typer.echo("\n\n".join(fisher_text(r) for r in results))
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


def trust_region_command(p: SpecArg, logits: LogitsOpt = False,
                         direction: Annotated[str | None, typer.Option(
                             help='the direction d of the step, one number per coordinate: "1, -1, 0.5, 0.5"')]
                         = None, as_json: JsonOpt = False):
    """KL between a policy and its update, KL(P_theta || P_theta+delta) = delta^T F delta/2 + O(|delta|^3):
    F derived (see fisher) and the exact KL tabulated against the quadratic form along a direction.

    \b
    Examples:
      symkl trust-region "diagnormal(0, 0, 1, 2)"
      symkl trust-region "categorical(0.2, 0.3, 0.5)" --logits --direction "1, 0, -1"
    """
    from .report import trust_json, trust_text
    from .trust import parse_direction, trust_region
    d = None if direction is None else _run(parse_direction, direction)
    result = _run(trust_region, p, logits, d)
    _emit(as_json, trust_json(result), trust_text(result), result.ok)


def direction_command(mixture: Annotated[str, typer.Argument(
                          help='P as a mixture: "0.5*normal(-2, 0.6) + 0.5*normal(2, 0.6)" (weights sum to 1)')],
                      plot: Annotated[str | None, typer.Option(
                          help="draw P and both fits to this PNG file (needs the plot extra: symkl[plot])")] = None,
                      starts: Annotated[int, typer.Option(help="starts for the reverse fit (at least one per "
                                                                    "component, and the forward fit)")] = 4,
                      as_json: JsonOpt = False):
    """Fit one normal to a mixture by forward KL(P||Q) (mode-covering, closed form) and by reverse KL(Q||P)
    (mode-seeking, quadrature and BFGS from several starts); --plot draws both.

    \b
    Examples:
      symkl direction "0.5*normal(-2, 0.6) + 0.5*normal(2, 0.6)"
    """
    from .direction import direction, pyplot
    from .direction import plot as draw
    from .report import direction_json, direction_text
    if plot is not None:  # the path first: its error does not depend on the extra being installed
        _writable(plot)
        try:
            pyplot()
        except ImportError as err:
            _fail(str(err), 2)
    result = _run(direction, mixture, starts)
    text = direction_text(result)
    if plot is not None:
        try:
            draw(result, plot)
        except OSError as err:
            _fail(f"cannot write the plot to {plot}: {err.strerror or err}", 2)
        text += f"\nplot written to {plot}"
    _emit(as_json, direction_json(result), text, True)


COMMANDS = {"fit": fit_command, "elbo": elbo_command, "fisher": fisher_command,
            "trust-region": trust_region_command, "direction": direction_command}


def register(app: typer.Typer) -> None:
    """Add the commands to symkl's app (the one running, also under `python -m symkl.cli`)."""
    for name, command in COMMANDS.items():
        app.command(name)(command)


def _writable(path: str) -> None:
    """Refuse, before any work, a plot path that is a folder or whose folder is missing or not writable."""
    target = Path(path)
    folder = target.parent
    if target.suffix.lower() != ".png" and not target.is_dir():
        _fail(f"cannot write the plot to {path}: the plot is a PNG, so give a path ending in .png", 2)
    problem = "it is a folder" if target.is_dir() else f"the folder {folder} does not exist" \
        if not folder.is_dir() else "it is not writable" if not os.access(folder, os.W_OK) or \
        target.exists() and not os.access(target, os.W_OK) else None
    if problem:
        _fail(f"cannot write the plot to {path}: {problem}", 2)
