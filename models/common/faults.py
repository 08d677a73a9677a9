"""Failure models as a parameter: which nodes are faulty, and how they fail.

`-p faults=crash|omission|byzantine -p faulty=K` gives a consensus model K faulty
acceptors (or replicas) of one kind, after the ladder of failure models in
Cachin, Guerraoui and Rodrigues, "Introduction to Reliable and Secure Distributed
Programming" §2.2 (crash-stop, omission, arbitrary):

- crash: a faulty node stops and takes no further step (crash-stop);
- omission: a faulty node follows the protocol but may fail to send or to receive
  any message;
- byzantine: a faulty node may send any message of a bounded universe, but only
  under its own identity (messages are authenticated: it cannot forge another
  node's), so it may lie about its state and equivocate.

Crash faults are a budget (any K nodes may crash, as the models' own `crashes`
parameters count them). Omission and Byzantine faults belong to a fixed set, the
last K nodes, as pbft's `byzantine=backups` does: the symmetry reductions then keep
faulty and correct nodes apart (a renaming that swapped one for the other would map
a behaviour to one that is not a behaviour).
"""

from __future__ import annotations

from ...checker.errors import UsageError
from ...checker.model import Param

FAULTS = ("crash", "omission", "byzantine")
CRASH, OMISSION, BYZANTINE = FAULTS


def fault_params(nodes: str, maximum: int) -> tuple[Param, Param]:
    """The two parameters, `faults` and `faulty`, for a model of `nodes` (the word)."""
    return (
        Param("faults", CRASH, f"failure model of the faulty {nodes}: crash (stop), "
              "omission (may fail to send or receive any message), byzantine (may send "
              "any message under its own name)", choices=FAULTS),
        Param("faulty", 0, f"how many {nodes} are faulty (crash: a budget, any of them; "
              "omission, byzantine: the last ones)", minimum=0, maximum=maximum),
    )


def faulty_nodes(n: int, k: int, nodes: str) -> frozenset[int]:
    """The last k of nodes 0..n-1; k above n is a usage error."""
    if k > n:
        raise UsageError(f"parameter faulty must be at most the number of {nodes} ({n}); "
                         f"got {k}")
    return frozenset(range(n - k, n))
