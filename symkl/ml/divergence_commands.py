"""The command-line side of symkl.ml's coding, distillation, estimator, Rényi and Jeffreys identities:
`symkl coding`, `symkl distill`, `symkl estimators`, `symkl renyi`, `symkl jeffreys` (registered on symkl's app).
Exit codes as everywhere: 0 ok, 1 a check found a difference, 2 bad input, 3 out of time."""
from __future__ import annotations

import json
import math
from typing import Annotated

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]
StepsOpt = Annotated[bool, typer.Option("--steps", help="print the derivation steps")]
SpecArg = Annotated[str, typer.Argument(help='a distribution: "normal", "normal(0, 1)", "categorical(0.5, 0.5)"')]
CheckOpt = Annotated[bool, typer.Option("--check", help="check against mpmath quadrature or summation at 50 digits "
                                                        "(every value given; continuous families take a minute)")]


def coding_command(p: SpecArg, q: SpecArg, as_json: JsonOpt = False):
    """Code data from P with codes built for Q: ideal lengths -log2 q(x), Shannon and Huffman codes, their
    expected lengths (exact, in bits), the excess KL(P||Q), and the theorems they satisfy. Exit 1 if one fails.

    \b
    Examples:
      symkl coding "bernoulli(0.7)" "bernoulli(0.4)"
      symkl coding "categorical(0.5, 0.25, 0.25)" "categorical(0.25, 0.25, 0.5)"
      symkl coding "binomial(3, 0.5)" "binomial(3, 0.2)" --json
    """
    from .coding import coding
    from .text import coding_text
    result = _run(coding, p, q)
    typer.echo(json.dumps(result.to_json(), indent=2) if as_json else coding_text(result))
    raise typer.Exit(0 if result.ok else 1)


def distill_command(
        teacher: Annotated[str | None, typer.Option(help='teacher logits z_t: "1, 2, 3"')] = None,
        student: Annotated[str | None, typer.Option(help='student logits z_s: "1, 2, 2.5"')] = None,
        temperature: Annotated[str, typer.Option(help="temperature T > 0")] = "1",
        classes: Annotated[int | None, typer.Option(help="K: print the symbolic form for K classes")] = None,
        steps: StepsOpt = False, as_json: JsonOpt = False):
    """KL(softmax(z_t/T) || softmax(z_s/T)), the distillation loss, for one teacher and student: the float64 value
    of symkl's stable form and the 50-digit value of the definition; with --steps (or --classes K alone) the
    closed form derived from the categorical KL. Multiply by T^2 for Hinton's scaled loss.

    \b
    Examples:
      symkl distill --teacher "1, 2, 3" --student "1, 2, 2.5" --temperature 2
      symkl distill --teacher "1000, 0" --student "0, 1000"
      symkl distill --classes 3
    """
    from .distill import derive, kl_softmax, kl_softmax_mpmath
    from .text import pretty, step_line
    if teacher is None and student is None:
        if classes is None:
            _fail("give --teacher and --student logits, or --classes K for the symbolic form", 2)
        d = _run(derive, classes)
        _show_distillation(d, as_json, True)
        return
    if teacher is None or student is None:
        _fail("give both --teacher and --student (comma-separated logits, one per class)", 2)
    zt, zs, t = _logits(teacher, "--teacher"), _logits(student, "--student"), _positive(temperature)
    if len(zt) != len(zs):
        _fail(f"the teacher has {len(zt)} logits and the student {len(zs)}: one per class for both", 2)
    if classes is not None and classes != len(zt):
        _fail(f"--classes {classes} but {len(zt)} logits were given", 2)
    floats = [float(z) for z in zt], [float(z) for z in zs], float(t)
    fast = float(kl_softmax(*floats))
    fast_shown = repr(fast) if math.isfinite(fast) else (
        "not representable: a logit, T or a logit difference over T is beyond float64's range (1.8e308)")
    exact = kl_softmax_mpmath([_mpf(z) for z in zt], [_mpf(z) for z in zs], _mpf(t), 50)
    import mpmath
    if as_json:
        typer.echo(json.dumps({"classes": len(zt), "temperature": str(t),
                               "kl_float64": repr(fast) if math.isfinite(fast) else None,
                               "kl_50_digits": mpmath.nstr(exact, 50), "unit": "nats"}, indent=2))
        return
    typer.echo(f"KL(softmax(z_t/T) || softmax(z_s/T)), K = {len(zt)}, T = {t}  [nats]")
    typer.echo(f"= {mpmath.nstr(exact, 25)}  (the definition at 50 digits, from the exact inputs)")
    typer.echo(f"= {fast_shown}  (symkl.ml.distill.kl_softmax, float64)")
    if steps and 2 <= len(zt) <= 12:
        d = _run(derive, len(zt))
        typer.echo("\nDerivation:\n" + "\n".join(step_line(s) for s in d.steps) + "\n" + pretty(d.expr))


def _show_distillation(d, as_json: bool, steps: bool) -> None:
    from .text import pretty, step_line
    if as_json:
        typer.echo(json.dumps({"classes": d.classes, "expr": str(d.expr), "proof": d.proof,
                               "symbols": [s.name for s in (*d.teacher, *d.student, d.temperature)]}, indent=2))
        return
    typer.echo(f"KL(softmax(z_t/T) || softmax(z_s/T)) for K = {d.classes}, p_i = softmax(z_t/T)_i  [nats]")
    if steps:
        typer.echo("\nDerivation:\n" + "\n".join(step_line(s) for s in d.steps) + "\n")
    typer.echo(pretty(d.expr))


def _logits(text: str, option: str) -> list:
    """Comma-separated exact numbers (brackets allowed), each through the safe parser."""
    from ..parse import ParseError, parse_number
    body = text.strip()
    if body[:1] in "[(" and body[-1:] in "])":
        body = body[1:-1]
    parts, depth, current = [], 0, ""
    for ch in body:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    if len(parts) > 100_000:
        _fail(f"{option}: at most 100000 classes", 2)
    values = []
    for part in parts:
        try:
            v = parse_number(part)
        except ParseError as err:
            _fail(f"{option}: {err}", 2)
        if not v.is_real or not v.is_finite:
            _fail(f"{option}: logits must be finite real numbers, got {v}", 2)
        values.append(v)
    return values


def _positive(text: str):
    from ..parse import ParseError, parse_number
    try:
        t = parse_number(text)
    except ParseError as err:
        _fail(f"--temperature: {err}", 2)
    if not t.is_real or not t.is_finite or not t > 0:
        _fail(f"--temperature must be a finite number > 0, got {t}", 2)
    return t


def _mpf(v):
    from .reference import value
    return value(v, 70)


def estimators_command(p: SpecArg, q: SpecArg, check: CheckOpt = False, as_json: JsonOpt = False):
    """The KL estimators k1 = -log r, k2 = (log r)^2/2, k3 = (r - 1) - log r of RL fine-tuning (x ~ P,
    r = q(x)/p(x)): mean, bias and variance under P, and whether E_P[grad k] (x held fixed) is the gradient of
    KL(P||Q), for P and Q of one family. Exit 1 if --check finds a difference.

    \b
    Examples:
      symkl estimators normal normal
      symkl estimators "categorical(0.5, 0.3, 0.2)" "categorical(0.2, 0.3, 0.5)"
      symkl estimators "categorical(0.5, 0.3, 0.2)" "categorical(0.2, 0.3, 0.5)" --check
    """
    from .estimators import check_estimators, estimators
    from .text import estimators_text
    result = _run_parsed(estimators, p, q)
    checks = _run(check_estimators, p, q) if check else None
    if as_json:
        typer.echo(json.dumps({**result.to_json(), "checks": checks}, indent=2))
    else:
        typer.echo(estimators_text(result, checks))
    raise typer.Exit(1 if checks and min(d for _, d in checks) < 40 else 0)


def renyi_command(p: SpecArg, q: SpecArg,
                  alpha: Annotated[str | None, typer.Option(help="the order alpha > 0, alpha != 1 (default: "
                                                                    "symbolic)")] = None,
                  check: CheckOpt = False, steps: StepsOpt = False, as_json: JsonOpt = False):
    """Rényi divergence D_alpha(P||Q) = log(integral of p^alpha q^(1 - alpha))/(alpha - 1), through the
    log-partition of P and Q's exponential family; D_alpha -> KL(P||Q) as alpha -> 1 is checked.

    \b
    Examples:
      symkl renyi normal normal --alpha 0.5
      symkl renyi "poisson(2)" "poisson(5)" --alpha 2 --check
      symkl renyi gamma gamma --steps
    """
    from .renyi import check_renyi, renyi
    result = _run(renyi, p, q, alpha)
    _show_divergence(result, as_json, steps, check, lambda: check_renyi(p, q, alpha) if alpha else None)


def jeffreys_command(p: SpecArg, q: SpecArg, check: CheckOpt = False, steps: StepsOpt = False,
                     as_json: JsonOpt = False):
    """Jeffreys divergence J(P, Q) = KL(P||Q) + KL(Q||P), the symmetrised KL, from the catalog's two closed forms.

    \b
    Examples:
      symkl jeffreys normal normal
      symkl jeffreys "bernoulli(0.7)" "bernoulli(0.4)" --check
    """
    from .renyi import check_jeffreys, jeffreys
    result = _run(jeffreys, p, q)
    _show_divergence(result, as_json, steps, check, lambda: check_jeffreys(p, q))


def _show_divergence(result, as_json: bool, steps: bool, check: bool, run_check) -> None:
    from .text import divergence_text
    digits = None
    if check:
        if result.symbols or result.expr.is_infinite:
            _fail("--check needs every value given (and a finite result), as in normal(0, 1)", 2)
        digits = _run(run_check)
        if digits is None:
            _fail("--check needs --alpha", 2)
    if as_json:
        typer.echo(json.dumps({**result.to_json(), "check_digits": digits}, indent=2))
    else:
        typer.echo(divergence_text(result, steps))
        if digits is not None:
            typer.echo(f"checked against mpmath quadrature/summation of the definition: {digits:.1f} digits agree"
                       + ("" if digits >= 40 else "  FAILED"))
    raise typer.Exit(1 if digits is not None and digits < 40 else 0)


def _run(query, *args):
    from ..cli import _run as run
    return run(query, *args)


def _run_parsed(query, *args):
    from ..cli import _run_parsed as run
    return run(query, *args)


def _fail(message: str, code: int) -> None:
    from ..cli import _fail as fail
    fail(message, code)


COMMANDS = {"coding": coding_command, "distill": distill_command, "estimators": estimators_command,
            "renyi": renyi_command, "jeffreys": jeffreys_command}


def register(app: typer.Typer) -> None:
    """Add these commands to symkl's app."""
    for name, command in COMMANDS.items():
        app.command(name)(command)
