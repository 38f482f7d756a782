"""Continuous families on the real line (and the circle): declarations only (see ``Family``).

gumbel and moyal are minus the log of an exponential and of a chi-square(1) variable, so their expectations
come from Mellin transforms; logistic is the logit of a uniform; von Mises is an exponential family on the
circle [-pi, pi); cauchy and studentt have heavy tails (``moments_below``), and cauchy supplies the one
expectation nothing derives (``known_expectation``).
"""
from sympy import (
    Interval,
    Poly,
    S,
    besseli,
    cancel,
    cos,
    exp,
    gamma,
    log,
    loggamma,
    oo,
    pi,
    sin,
    sqrt,
)

from ..family import ExpFamily, Family, Param
from .continuous import beta, exponential, gamma_

_LOC_SCALE = (Param("loc"), Param("scale", "positive"))


def _standard(loc, scale):
    """The (loc, scale, standard params) of a location-scale family whose standard member is (0, 1)."""
    return loc, scale, (0, 1)


gumbel = Family(
    "gumbel", _LOC_SCALE, aliases=("gumbel_r", "gumbel-max"),
    support=lambda loc, scale: S.Reals,
    log_density=lambda x, loc, scale: -(x - loc) / scale - exp(-(x - loc) / scale) - log(scale),
    mgf=lambda t, loc, scale: exp(loc * t) * gamma(1 - scale * t),
    mgf_domain=lambda loc, scale: Interval.open(-oo, 1 / scale),
    affine=_standard,
    transformation=lambda loc, scale: (exponential, (1,), lambda y: loc - scale * log(y)),
    description="maximum Gumbel: location loc, scale; X = loc - scale*log(E), E ~ exponential(1)",
)


def _log_quadratic_mean(h, x, loc, scale):
    """E[log(a*((X - c)**2 + d**2))] = log(a) + log((loc - c)**2 + (scale + d)**2) under a Cauchy, d > 0: the
    mean of log|X - w|**2 for w = c - i*d below the real line is its value at loc + i*scale (Poisson kernel)."""
    if not (h.func == log and h.args[0].is_polynomial(x)):
        return None
    poly = Poly(h.args[0], x)
    if poly.degree() != 2:
        return None
    a, b, c0 = poly.all_coeffs()
    center, d2 = cancel(-b / (2 * a)), cancel(c0 / a - b**2 / (4 * a**2))
    if not (a.is_positive and d2.is_positive):
        return None
    return log(a) + log((loc - center)**2 + (scale + sqrt(d2))**2)


cauchy = Family(
    "cauchy", _LOC_SCALE, aliases=("lorentz",),
    support=lambda loc, scale: S.Reals,
    log_density=lambda x, loc, scale: log(scale) - log(pi) - log((x - loc)**2 + scale**2),
    affine=_standard, moments_below=lambda loc, scale: S.One,
    known_expectation=_log_quadratic_mean,
    description="location loc (median), scale (half width at half maximum)",
)

logistic = Family(
    "logistic", _LOC_SCALE,
    support=lambda loc, scale: S.Reals,
    log_density=lambda x, loc, scale: -(x - loc) / scale - 2 * log(1 + exp(-(x - loc) / scale)) - log(scale),
    mgf=lambda t, loc, scale: exp(loc * t) * gamma(1 - scale * t) * gamma(1 + scale * t),
    mgf_domain=lambda loc, scale: Interval.open(-1 / scale, 1 / scale),
    affine=_standard,
    transformation=lambda loc, scale: (beta, (1, 1), lambda u: loc + scale * log(u / (1 - u))),
    description="location loc, scale: X = loc + scale*logit(U), U ~ uniform(0, 1) as beta(1, 1)",
)

vonmises = Family(
    "vonmises", (Param("loc"), Param("kappa", "positive")), aliases=("von-mises", "vonmisesfisher1"),
    support=lambda loc, kappa: Interval.Ropen(-pi, pi),
    log_density=lambda x, loc, kappa: kappa * cos(x - loc) - log(2 * pi * besseli(0, kappa)),
    exp_family=ExpFamily(stats=lambda x: (cos(x), sin(x)), log_base=lambda x, *_: S.Zero,
                         natural=lambda loc, kappa: (kappa * cos(loc), kappa * sin(loc)),
                         log_partition=lambda eta, *_: log(2 * pi * besseli(0, sqrt(eta[0]**2 + eta[1]**2)))),
    description="on the circle, as angles in [-pi, pi): mean direction loc, concentration kappa",
)



def _t_kernel(x, df, loc, scale):
    """log(1 + z**2/df), z = (x - loc)/scale: studentt's statistic at fixed df, loc, scale."""
    return log(1 + ((x - loc) / scale)**2 / df)


studentt = Family(
    "studentt", (Param("df", "positive"), *_LOC_SCALE), aliases=("t", "student-t", "student"),
    support=lambda df, loc, scale: S.Reals,
    log_density=lambda x, df, loc, scale: (loggamma((df + 1) / 2) - loggamma(df / 2) - log(df * pi) / 2
                                           - log(scale) - (df + 1) / 2 * _t_kernel(x, df, loc, scale)),
    exp_family=ExpFamily(stats=lambda x, *params: (_t_kernel(x, *params),), natural=lambda df, *_: (-(df + 1) / 2,),
                         log_partition=lambda eta, df, loc, scale: (loggamma(-eta[0] - S.Half) - loggamma(-eta[0])
                                                                     + log(sqrt(df * pi) * scale)),
                         log_base=lambda x, *_: S.Zero, fixed_stats=True),
    affine=lambda df, loc, scale: (loc, scale, (df, 0, 1)), moments_below=lambda df, loc, scale: df,
    mirror=lambda df, loc, scale: (beta, (df / 2, S.Half), loc, lambda w: scale * sqrt(df * (1 - w) / w)),
    description="degrees of freedom df, location loc, scale; moments of order df and above diverge",
)

moyal = Family(
    "moyal", _LOC_SCALE,
    support=lambda loc, scale: S.Reals,
    log_density=lambda x, loc, scale: (-((x - loc) / scale + exp(-(x - loc) / scale)) / 2 - log(scale)
                                       - log(2 * pi) / 2),
    mgf=lambda t, loc, scale: exp(loc * t) * 2**(-scale * t) * gamma(S.Half - scale * t) / sqrt(pi),
    mgf_domain=lambda loc, scale: Interval.open(-oo, 1 / (2 * scale)),
    affine=_standard,
    transformation=lambda loc, scale: (gamma_, (S.Half, S.Half), lambda y: loc - scale * log(y)),
    description="location loc, scale: X = loc - scale*log(Y), Y ~ chi2(1)",
)

FAMILIES = (gumbel, cauchy, logistic, vonmises, studentt, moyal)
