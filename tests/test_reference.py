"""Independent reference tests of symkl's public API.

Expected values come only from tests/reference.py: hand-typed textbook
formulas in plain mpmath, themselves checked against quadrature/summation by
tests/check_reference.py (which checks exactly the parameter points used
here).  Nothing from symkl is used to compute an expected value.

Parameter points are seeded and written as short decimal strings ("0.37"),
so the spec's exact rational and the reference's mpf(str) agree.

Knob: SYMKL_REF_POINTS (default 3) = random points per pair / family.
"""

from __future__ import annotations

import os
import sys

import mpmath
import pytest
import sympy
from mpmath import mp, mpf, inf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # any --import-mode
import reference as R  # noqa: E402

N_POINTS = int(os.environ.get("SYMKL_REF_POINTS", "3"))
DPS = 40            # digits asked of symkl
REL_TOL = mpf("1e-25")
ABS_TOL = mpf("1e-30")
STATUSES = ("closed", "infinite", "conditional", "no-closed-form")


def _api():
    import symkl  # noqa: PLC0415  (imported per test: collection works without the engine)

    return symkl


@pytest.fixture(autouse=True)
def _precision():
    old = mp.dps
    mp.dps = DPS + 10
    try:
        yield
    finally:
        mp.dps = old


def _pair_id(fp, fq):
    return f"{fp}||{fq}"


def _close(got, ref):
    if ref == inf:
        return got == inf
    if got == inf or got == -inf or mpmath.isnan(got):
        return False
    err = abs(got - ref)
    return err < ABS_TOL or err < REL_TOL * abs(ref)


def _fmt(x):
    return mpmath.nstr(x, 35) if x not in (inf, -inf) else str(x)


def _value(r, label):
    v = r.value(dps=DPS)
    assert isinstance(v, mpmath.mpf), f"{label}: value() returned {type(v).__name__}, not mpmath.mpf"
    return v


def _check(r, ref, label, quantity):
    """Compare one symkl result with the reference.

    Returns a note (str) when the result has status "no-closed-form" (the
    caller skips visibly after checking all points), else None."""
    status = r.status
    assert status in STATUSES, f"{label}: unknown status {status!r}"
    if status == "no-closed-form":
        try:
            v = _value(r, label)
        except AssertionError:
            raise
        except Exception as e:  # value() did not return: nothing to compare
            return f"{label}: no closed form; value() raised {e!r}"
        assert _close(v, ref), f"{label} [no-closed-form]: symkl {_fmt(v)} != reference {_fmt(ref)}"
        return f"{label}: no closed form (numerical value() agreed with the reference)"
    v = _value(r, label)
    assert _close(v, ref), f"{label}: symkl {_fmt(v)} != reference {_fmt(ref)} (status {status})"
    if ref == inf:
        assert status == "infinite", f"{label}: infinite result with status {status!r}"
        assert r.expr == sympy.oo, f"{label}: infinite result with expr {r.expr}"
    else:
        assert status != "infinite", f"{label}: finite reference {_fmt(ref)} but status 'infinite'"
        if status == "closed":
            e = sympy.N(r.expr, DPS)
            assert e.is_number, f"{label}: numeric spec but expr has free symbols: {r.expr}"
            ev = mpmath.mpmathify(str(e))
            assert _close(ev, ref), f"{label}: N(expr) = {e} != reference {_fmt(ref)}"
    if quantity == "kl" and ref != inf:
        assert v >= -ABS_TOL, f"{label}: negative KL {_fmt(v)}"
    return None


# ---------------------------------------------------------------------------
# every pair, every quantity, random points (both regimes where conditional)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("quantity", ["kl", "cross_entropy"])
@pytest.mark.parametrize("fp,fq", R.ALL_PAIRS, ids=[_pair_id(*p) for p in R.ALL_PAIRS])
def test_pair_values(fp, fq, quantity):
    api = _api()
    fn = getattr(api, quantity)
    ref_fn = getattr(R, quantity)
    points, conditional = R.points_for_pair(fp, fq, N_POINTS)
    assert points
    if conditional:
        finite = [R.support_ok(fp, pp, fq, qp) for pp, qp in points]
        assert any(finite) and not all(finite)  # both regimes are exercised
    notes = []
    for pp, qp in points:
        P, Q = R.spec(fp, pp), R.spec(fq, qp)
        label = f"{quantity}({P!r}, {Q!r})"
        ref = ref_fn(fp, pp, fq, qp)
        r = fn(P, Q)
        note = _check(r, ref, label, quantity)
        if note:
            notes.append(note)
    if notes:
        pytest.skip("; ".join(notes))


@pytest.mark.parametrize("fam", list(R.FAMILIES))
def test_entropy_values(fam):
    api = _api()
    notes = []
    for pp in R.family_points(fam, N_POINTS):
        P = R.spec(fam, pp)
        note = _check(api.entropy(P), R.entropy(fam, pp), f"entropy({P!r})", "entropy")
        if note:
            notes.append(note)
    if notes:
        pytest.skip("; ".join(notes))


# ---------------------------------------------------------------------------
# same-family closed forms: second, independent reference
# ---------------------------------------------------------------------------
def test_reference_closed_forms_agree():
    """The two references agree with each other (no symkl involved)."""
    for fam in R.CLOSED_FORM_FAMILIES:
        for pp, qp in R.points_for_pair(fam, fam, N_POINTS)[0]:
            if fam == "binomial":
                qp = (pp[0],) + tuple(qp[1:])
            a = R.kl(fam, pp, fam, qp)
            b = R.kl_closed_form(fam, pp, qp)
            assert _close(a, b), (fam, pp, qp, a, b)


@pytest.mark.parametrize("fam", R.CLOSED_FORM_FAMILIES)
def test_same_family_closed_form(fam):
    api = _api()
    for pp, qp in R.points_for_pair(fam, fam, N_POINTS, seed=R.DEFAULT_SEED + 7)[0]:
        if fam == "binomial":
            qp = (pp[0],) + tuple(qp[1:])  # the textbook form needs equal n
        P, Q = R.spec(fam, pp), R.spec(fam, qp)
        ref = R.kl_closed_form(fam, pp, qp)
        r = api.kl(P, Q)
        v = _value(r, f"kl({P!r}, {Q!r})")
        assert _close(v, ref), f"kl({P!r}, {Q!r}): symkl {_fmt(v)} != closed form {_fmt(ref)}"


# ---------------------------------------------------------------------------
# the symbolic path: fully symbolic specs, substituted by symbol name
# ---------------------------------------------------------------------------
def _names(fam, suffix):
    base = fam.split("[")[0]
    return tuple(n + suffix for n in R.FAMILIES[base])


# (quantity, P spec, Q spec or None, expected status or None = not asserted)
SYMBOLIC_CASES = [
    ("kl", "normal", "normal", "closed"),
    ("kl", "lognormal", "lognormal", "closed"),
    ("kl", "exponential", "exponential", "closed"),
    ("kl", "gamma", "gamma", "closed"),
    ("kl", "beta", "beta", "closed"),
    ("kl", "laplace", "laplace", "closed"),
    ("kl", "normal", "laplace", "closed"),
    ("kl", "exponential", "gamma", "closed"),
    ("cross_entropy", "gamma", "normal", "closed"),
    ("kl", "uniform", "uniform", "conditional"),
    ("kl", "beta", "uniform", "conditional"),
    ("kl", "normal", "exponential", "infinite"),
    # discrete: boundary parameters (p = 0 or 1, zero p_i) may make the
    # symbolic result conditional, so the status is not asserted
    ("kl", "bernoulli", "bernoulli", None),
    ("kl", "geometric", "geometric", None),
    ("kl", "poisson", "poisson", None),
    ("kl", "categorical[3]", "categorical[3]", None),
    ("entropy", "normal", None, "closed"),
    ("entropy", "gamma", None, "closed"),
    ("entropy", "beta", None, "closed"),
    ("entropy", "categorical[3]", None, None),
]


def _sym_id(case):
    q, p, qq, _ = case
    return f"{q}:{p}" + (f"||{qq}" if qq else "")


def _sympy_to_mpf(e, label):
    if e == sympy.oo:
        return inf
    e = sympy.N(e, DPS)
    assert e.is_number and e.is_real, f"{label}: substituted expr did not evaluate to a real number: {e}"
    return mpmath.mpmathify(str(e))


@pytest.mark.parametrize("case", SYMBOLIC_CASES, ids=[_sym_id(c) for c in SYMBOLIC_CASES])
def test_symbolic_expr(case):
    quantity, Pspec, Qspec, want_status = case
    api = _api()
    fp = Pspec.split("[")[0]
    fq = Qspec.split("[")[0] if Qspec else None
    if quantity == "entropy":
        r = api.entropy(Pspec)
        names = _names(Pspec, "")
        points = [(pp, ()) for pp in R.family_points(fp, N_POINTS, seed=R.DEFAULT_SEED + 11)]
    else:
        r = getattr(api, quantity)(Pspec, Qspec)
        names = _names(Pspec, "_p") + _names(Qspec, "_q")
        points, _ = R.points_for_pair(fp, fq, N_POINTS, seed=R.DEFAULT_SEED + 11)
    label = f"{quantity}({Pspec!r}" + (f", {Qspec!r})" if Qspec else ")")
    assert tuple(s.name for s in r.symbols) == names, f"{label}: symbols {r.symbols}, expected {names}"
    assert r.status in STATUSES
    if want_status is not None:
        assert r.status == want_status, f"{label}: status {r.status!r}, expected {want_status!r}"
    if r.status == "infinite":
        assert r.expr == sympy.oo
    else:
        with pytest.raises(ValueError):
            r.value(dps=DPS)  # parameters have no values
    for pp, qp in points:
        vals = dict(zip(names, tuple(pp) + tuple(qp)))
        subs = {s: sympy.Rational(vals[s.name]) for s in r.symbols}
        if quantity == "entropy":
            ref = R.entropy(fp, pp)
        else:
            ref = getattr(R, quantity)(fp, pp, fq, qp)
        at = f"{label} at {vals}"
        if r.status == "no-closed-form":
            pytest.skip(f"{label}: no closed form")
        got = _sympy_to_mpf(r.expr.subs(subs), at)
        assert _close(got, ref), f"{at}: expr gives {_fmt(got)}, reference {_fmt(ref)}"


# ---------------------------------------------------------------------------
# base = 2
# ---------------------------------------------------------------------------
BASE2_CASES = [
    ("kl", "normal", "normal"),
    ("kl", "gamma", "exponential"),
    ("kl", "beta", "uniform"),      # includes an infinite point
    ("kl", "poisson", "geometric"),
    ("kl", "categorical", "binomial"),
    ("cross_entropy", "laplace", "normal"),
    ("cross_entropy", "bernoulli", "binomial"),
    ("entropy", "gamma", None),
    ("entropy", "poisson", None),
]


@pytest.mark.parametrize("case", BASE2_CASES, ids=[_sym_id(c + (None,)) for c in BASE2_CASES])
def test_base2(case):
    quantity, fp, fq = case
    api = _api()
    fn = getattr(api, quantity)
    ln2 = mpmath.log(2)
    if quantity == "entropy":
        points = [(pp, None) for pp in R.family_points(fp, 2, seed=R.DEFAULT_SEED + 13)]
    else:
        points = R.points_for_pair(fp, fq, 3 if quantity == "kl" else 2, seed=R.DEFAULT_SEED + 13)[0]
    for pp, qp in points:
        if quantity == "entropy":
            args = (R.spec(fp, pp),)
            ref = R.entropy(fp, pp)
        else:
            args = (R.spec(fp, pp), R.spec(fq, qp))
            ref = getattr(R, quantity)(fp, pp, fq, qp)
        label = f"{quantity}{args}, base=2"
        r2 = fn(*args, base=2)
        rn = fn(*args)
        v2 = _value(r2, label)
        vn = _value(rn, label)
        assert r2.status == rn.status, f"{label}: status {r2.status} vs nats {rn.status}"
        if ref == inf:
            assert v2 == inf and vn == inf, label
            continue
        assert _close(v2, vn / ln2), f"{label}: {_fmt(v2)} != nats/ln2 {_fmt(vn / ln2)}"
        assert _close(v2, ref / ln2), f"{label}: {_fmt(v2)} != reference/ln2 {_fmt(ref / ln2)}"


# ---------------------------------------------------------------------------
# KL(P||P) = 0, H(P, P) = H(P), KL >= 0
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("fam", list(R.FAMILIES))
def test_self_divergence_is_zero(fam):
    api = _api()
    for pp in R.family_points(fam, N_POINTS, seed=R.DEFAULT_SEED + 17):
        P = R.spec(fam, pp)
        v = _value(api.kl(P, P), f"kl({P!r}, {P!r})")
        assert abs(v) < ABS_TOL, f"kl({P!r}, {P!r}) = {_fmt(v)}, expected 0"
        h = _value(api.cross_entropy(P, P), f"cross_entropy({P!r}, {P!r})")
        assert _close(h, R.entropy(fam, pp)), f"cross_entropy({P!r}, {P!r}) = {_fmt(h)} != H(P)"


def _finite_point(fp, fq):
    pts, _ = R.points_for_pair(fp, fq, 3, seed=R.DEFAULT_SEED + 19)
    for pp, qp in pts:
        if R.support_ok(fp, pp, fq, qp):
            return pp, qp
    return None


NONNEG_CASES = [(fp, fq, pt) for fp, fq in R.ALL_PAIRS if (pt := _finite_point(fp, fq)) is not None]


@pytest.mark.parametrize("fp,fq,pt", NONNEG_CASES, ids=[_pair_id(c[0], c[1]) for c in NONNEG_CASES])
def test_kl_nonnegative(fp, fq, pt):
    api = _api()
    pp, qp = pt
    P, Q = R.spec(fp, pp), R.spec(fq, qp)
    v = _value(api.kl(P, Q), f"kl({P!r}, {Q!r})")
    assert v != inf, f"kl({P!r}, {Q!r}) is infinite; reference is finite"
    assert v >= -ABS_TOL, f"kl({P!r}, {Q!r}) = {_fmt(v)} < 0"
    assert _close(v, R.kl(fp, pp, fq, qp))


# ---------------------------------------------------------------------------
# known values and boundaries
# ---------------------------------------------------------------------------
def test_two_coins():
    """KL(Bern(0.7)||Bern(0.4)) = 0.7 log(7/4) + 0.3 log(1/2) = 0.18378... nats.

    (A popular blog post gives 0.1526, which is wrong.)"""
    api = _api()
    exact = mpf(7) / 10 * mpmath.log(mpf(7) / 4) + mpf(3) / 10 * mpmath.log(mpf(1) / 2)
    assert abs(exact - mpf("0.183786")) < mpf("1e-6")                 # nats
    assert abs(exact / mpmath.log(2) - mpf("0.265148")) < mpf("1e-6")  # bits
    v = _value(api.kl("bernoulli(0.7)", "bernoulli(0.4)"), "two coins")
    assert _close(v, exact), _fmt(v)
    assert abs(v - mpf("0.1526")) > mpf("0.01")
    b = _value(api.kl("bernoulli(0.7)", "bernoulli(0.4)", base=2), "two coins, bits")
    assert _close(b, exact / mpmath.log(2)), _fmt(b)
    assert _close(v, R.kl("bernoulli", ("0.7",), "bernoulli", ("0.4",)))


def test_entropy_standard_normal():
    api = _api()
    v = _value(api.entropy("normal(0, 1)"), "entropy(normal(0, 1))")
    assert _close(v, (1 + mpmath.log(2 * mpmath.pi)) / 2), _fmt(v)


def test_entropy_geometric_where_scipy_is_wrong():
    """geometric(0.0146), failures before the first success: H = (-(1 - p) log(1 - p) - p log p)/p = 5.2194 nats
    (scipy.stats.geom(0.0146).entropy() gives 2.96)."""
    api = _api()
    p = mpf("0.0146")
    exact = (-(1 - p) * mpmath.log(1 - p) - p * mpmath.log(p)) / p
    assert abs(exact - mpf("5.2194")) < mpf("1e-4")
    v = _value(api.entropy("geometric(0.0146)"), "entropy(geometric(0.0146))")
    assert _close(v, exact), _fmt(v)


def test_entropy_fair_coin():
    api = _api()
    v = _value(api.entropy("bernoulli(0.5)"), "entropy(bernoulli(0.5))")
    assert _close(v, mpmath.log(2)), _fmt(v)
    b = _value(api.entropy("bernoulli(0.5)", base=2), "entropy(bernoulli(0.5), base=2)")
    assert _close(b, mpf(1)), _fmt(b)


def test_entropy_degenerate_coin_is_zero():
    api = _api()
    for p in ("0", "1"):
        r = api.entropy(f"bernoulli({p})")
        v = _value(r, f"entropy(bernoulli({p}))")
        assert v == 0, f"entropy(bernoulli({p})) = {_fmt(v)} (0 log 0 must be 0)"
        assert sympy.sympify(r.expr).is_zero, f"entropy(bernoulli({p})).expr = {r.expr}"


def test_kl_certain_coin_vs_fair_coin():
    api = _api()
    v = _value(api.kl("bernoulli(1)", "bernoulli(0.5)"), "kl(bernoulli(1), bernoulli(0.5))")
    assert _close(v, mpmath.log(2)), _fmt(v)


def test_kl_fair_coin_vs_certain_coin_is_infinite():
    api = _api()
    r = api.kl("bernoulli(0.5)", "bernoulli(1)")
    assert _value(r, "kl(bernoulli(0.5), bernoulli(1))") == inf
    assert r.status == "infinite"
    assert r.expr == sympy.oo


@pytest.mark.parametrize(
    "case", R.BOUNDARY_CASES,
    ids=[f"{R.spec(c[0], c[1])}||{R.spec(c[2], c[3])}" for c in R.BOUNDARY_CASES])
def test_boundary_values(case):
    """Boundary parameters (0 log 0, supports shrunk by p = 0 or 1) and
    supports sharing an end point (finite: the difference has measure zero)."""
    fp, pp, fq, qp = case
    api = _api()
    P, Q = R.spec(fp, pp), R.spec(fq, qp)
    notes = []
    for quantity in ("kl", "cross_entropy"):
        ref = getattr(R, quantity)(fp, pp, fq, qp)
        note = _check(getattr(api, quantity)(P, Q), ref, f"{quantity}({P!r}, {Q!r})", quantity)
        if note:
            notes.append(note)
    note = _check(api.entropy(P), R.entropy(fp, pp), f"entropy({P!r})", "entropy")
    if note:
        notes.append(note)
    if notes:
        pytest.skip("; ".join(notes))
