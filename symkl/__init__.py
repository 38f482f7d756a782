"""symkl: derive and verify KL divergence, entropy and cross-entropy between probability distributions.

    >>> from symkl import kl
    >>> kl("bernoulli(0.7)", "bernoulli(0.4)").expr
    -3*log(2)/10 + 7*log(7/4)/10
"""
from .custom import density
from .families import CONTINUOUS, DISCRETE, names
from .family import Family, FamilyError
from .proof import Proof, prove
from .query import cross_entropy, entropy, kl
from .result import Result
from .spec import instance

__all__ = ["kl", "entropy", "cross_entropy", "prove", "family", "families", "density", "Result", "Proof", "Family",
           "FamilyError"]
__version__ = "0.1.0"


def family(spec) -> Family:
    """The family a spec names: ``family("normal")``, ``family("categorical[3]")``."""
    return instance(spec).family


def families() -> list[Family]:
    """Every family in the catalog (categorical shown at K = 3; any K works in a spec)."""
    return list(CONTINUOUS + DISCRETE) + [family(f"{n}[3]") for n in names() if n not in
                                           {f.name for f in CONTINUOUS + DISCRETE}]
