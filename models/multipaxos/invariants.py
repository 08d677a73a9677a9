"""The safety properties of MultiPaxos, each a separately reported predicate.

A value is *chosen* in a slot when a quorum of acceptors accepted it there in one
ballot (Paxos Made Simple §2.3, per instance as §3 runs one instance per slot). The
properties, from the log's point of view down to the single acceptor:

- MP-AGREEMENT: at most one value is chosen per slot (§2.1's safety requirement, per
  instance).
- MP-VALIDITY: every chosen value is a client command or the leader's no-op (§2.1:
  "only a value that has been proposed may be chosen").
- MP-LOG-PREFIX: any two replicas' executed logs are prefixes of one another, so the
  state machines go through the same states (§3's goal).
- MP-AT-MOST-ONCE: no replica executes a command twice.
- MP-PROMISE: no acceptor accepts in a ballot below its promise (§2.2 P1a). An
  acceptor's promise only ever rises to the ballot of a 1b or 2b it sends, so the
  step that breaks the promise is exactly the one that leaves its `max_bal` below
  the ballot of one of its own messages.
- MP-CHOSEN-STABLE: once a value is chosen in a slot, every Accept (2a) for that slot
  at a higher ballot carries that value (§2.2 P2b, the invariant phase 1 exists for).
- MP-EXECUTED-CHOSEN: replicas execute only chosen values, each log entry being a
  value chosen in its slot (or a no-op standing for a duplicate). Not in the issue's
  list: it is the learner's half of §2.1's safety ("a process never learns that a
  value has been chosen unless it actually has been"), and it catches a bad learner
  with two ballots where MP-LOG-PREFIX needs three and a lagging learner.
- MP-ALL-EXECUTED (sometimes): every command is executed by every live replica, so
  the checks above are not vacuous (with fewer slots than commands: every live
  replica fills its log with distinct commands).

Every property uses the model's own quorum size: a mutant with smaller quorums also
has learners that consider a value chosen on a smaller quorum.

With Byzantine replicas (`faults=byzantine`) a value is chosen by any quorum of 2bs,
a liar's included: a liar's vote counts towards a quorum, which is how it breaks
agreement when quorums of a majority meet in one replica only. MP-PROMISE and
MP-ALL-EXECUTED speak of the correct replicas alone: a liar keeps no promise and
executes nothing. MP-AGREEMENT's explanation then names the quorums, the replicas
they share and which of those lied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...checker.model import Property
from ..common.ids import replica_name
from ..common.properties import PropertySpec, bind, last_state, none_of
from .messages import NOOP, P1B, P2A, P2B, ballot_name, value_name
from .state import DOWN, MPState

Chosen = dict[int, dict[int, int]]  # slot -> value -> lowest ballot it was chosen in


@dataclass(frozen=True, slots=True)
class Consts:
    """What the properties read besides the state."""

    n: int  # replicas
    liars: frozenset[int]  # Byzantine replicas (faults=byzantine), else empty
    valid: frozenset[int]  # the client commands and the no-op
    # With fewer slots than commands not every command fits in the log; the goal is
    # then a full log of distinct commands, so that every configuration can pass.
    goal: int
    chosen: Callable[[MPState], Chosen]  # the state's chosen values, once per state


def chosen(s: MPState, quorum_size: int) -> Chosen:
    accs: dict[tuple[int, int, int], int] = {}
    for m in s.msgs:
        if m[0] == P2B:
            key = (m[3], m[2], m[4])  # slot, ballot, value
            accs[key] = accs.get(key, 0) + 1
    out: Chosen = {}
    for (slot, b, v), count in sorted(accs.items()):
        if count >= quorum_size:
            out.setdefault(slot, {}).setdefault(v, b)
    return out


# -- MP-AGREEMENT: at most one value chosen per slot ----------------------------------


def split_slots(c: Consts, s: MPState) -> list[int]:
    return [slot for slot, vs in sorted(c.chosen(s).items()) if len(vs) > 1]


def explain_agreement(c: Consts, s: MPState) -> str:
    slot = split_slots(c, s)[0]
    here = sorted(c.chosen(s)[slot].items())
    if not c.liars:
        parts = [f"{value_name(v)} in ballot {ballot_name(b, s.owner)}" for v, b in here]
        return f"two values chosen in slot {slot}: " + "; ".join(parts)
    quorums = [(v, b, frozenset(m[1] for m in s.msgs if m[0] == P2B and m[2:] == (b, slot, v)))
               for v, b in here[:2]]
    parts = [f"{value_name(v)} in ballot {ballot_name(b, s.owner)} by {_names(q)}"
             for v, b, q in quorums]
    (v1, b1, q1), (v2, b2, q2) = sorted(quorums, key=lambda x: x[1])
    return (f"two values chosen in slot {slot}: " + "; ".join(parts) + ". "
            + _overlap(c.liars, q1 & q2, value_name(v1), value_name(v2),
                       ballot_name(b1, s.owner), ballot_name(b2, s.owner)))


def _names(rs) -> str:
    return "{" + ", ".join(replica_name(r) for r in sorted(rs)) + "}"


def _overlap(liars: frozenset[int], both: frozenset[int], v1: str, v2: str,
             b1: str, b2: str) -> str:
    """Why two quorums chose two values: the replicas they share, and the lie."""
    lying = sorted(both & liars)
    honest = sorted(both - liars)
    who = ", ".join(replica_name(r) for r in lying)
    if not honest:
        return (f"The quorums meet only in Byzantine {who}: it accepted {v1} in ballot "
                f"{b1} and {v2} in ballot {b2}, and its 1b to ballot {b2}'s leader did "
                f"not report its vote for {v1} (a correct {who} would have reported it, and the "
                f"leader could then only re-propose {v1}).")
    return (f"The quorums meet in {_names(both)}; {who or 'no replica'} is Byzantine: "
            f"its 1b to ballot {b2}'s leader reported a vote for {v2} at a ballot at or "
            f"above {b1}, a vote it may have cast only as a lie, so the leader "
            f"re-proposed {v2} over the correct replicas' {v1}.")


# -- MP-VALIDITY: only a proposed value is chosen ------------------------------------


def invalid(c: Consts, s: MPState) -> list[tuple[int, int]]:
    return [(slot, v) for slot, vs in sorted(c.chosen(s).items())
            for v in vs if v not in c.valid]


def explain_validity(c: Consts, s: MPState) -> str:
    slot, v = invalid(c, s)[0]
    return f"slot {slot} chose {value_name(v)}, which is neither a command nor a no-op"


# -- MP-LOG-PREFIX: executed logs are prefixes of one another --------------------------


def diverging(c: Consts, s: MPState) -> list[tuple[int, int]]:
    logs, n = s.log, c.n
    return [(p, q) for p in range(n) for q in range(p + 1, n)
            if logs[p][: len(logs[q])] != logs[q][: len(logs[p])]]


def explain_prefix(c: Consts, s: MPState) -> str:
    p, q = diverging(c, s)[0]
    show = lambda r: "[" + ", ".join(value_name(v) for v in s.log[r]) + "]"  # noqa: E731
    return (f"{replica_name(p)} executed {show(p)} and {replica_name(q)} executed "
            f"{show(q)}: neither log is a prefix of the other")


# -- MP-AT-MOST-ONCE: no replica executes a command twice ------------------------------


def twice(c: Consts, s: MPState) -> list[tuple[int, int]]:
    out = []
    for r, log in enumerate(s.log):
        cmds = [v for v in log if v >= 0]
        if len(set(cmds)) < len(cmds):
            out.extend((r, v) for v in sorted(set(cmds)) if cmds.count(v) > 1)
    return out


def explain_twice(c: Consts, s: MPState) -> str:
    r, v = twice(c, s)[0]
    return f"{replica_name(r)} executed {value_name(v)} twice"


# -- MP-PROMISE: no acceptor accepts below its promise (§2.2 P1a) ----------------------


def broken_promises(c: Consts, s: MPState) -> list[tuple[int, int]]:
    out = []
    for m in s.msgs:
        kind = m[0]
        # A crash-stopped acceptor accepts nothing more; its state is cleared.
        if (kind == P1B or kind == P2B) and s.up[m[1]] != DOWN and m[1] not in c.liars:
            if m[2] > s.max_bal[m[1]]:
                out.append((m[1], m[2]))
    return sorted(out)


def explain_promise(c: Consts, s: MPState) -> str:
    a, b = broken_promises(c, s)[0]
    return (f"{replica_name(a)} promised or accepted ballot {ballot_name(b, s.owner)} but "
            f"its promise is now {ballot_name(s.max_bal[a], s.owner)}: it accepted below "
            "its promise or forgot it")


# -- MP-CHOSEN-STABLE: a higher-ballot Accept carries the chosen value (§2.2 P2b) ------


def unstable(c: Consts, s: MPState) -> list[tuple[int, int, int, int, int]]:
    ch = c.chosen(s)
    out = []
    for m in s.msgs:
        if m[0] == P2A:
            _, b2, slot, v2 = m
            for v, b in ch.get(slot, {}).items():
                if b2 > b and v2 != v:
                    out.append((slot, b, v, b2, v2))
    return sorted(out)


def explain_stable(c: Consts, s: MPState) -> str:
    slot, b, v, b2, v2 = unstable(c, s)[0]
    return (f"{value_name(v)} is chosen in slot {slot} at ballot {ballot_name(b, s.owner)}, "
            f"but an Accept at higher ballot {ballot_name(b2, s.owner)} carries "
            f"{value_name(v2)}")


# -- MP-EXECUTED-CHOSEN: learners learn only chosen values (§2.1) ----------------------


def unchosen_entries(c: Consts, s: MPState) -> list[tuple[int, int, int]]:
    ch = c.chosen(s)
    out = []
    for r, log in enumerate(s.log):
        for slot, v in enumerate(log):
            here = ch.get(slot, {})
            if not here or (v != NOOP and v not in here):
                out.append((r, slot, v))
    return out


def explain_unchosen(c: Consts, s: MPState) -> str:
    r, slot, v = unchosen_entries(c, s)[0]
    here = c.chosen(s).get(slot, {})
    what = ", ".join(value_name(w) for w in sorted(here)) or "nothing"
    return (f"{replica_name(r)} executed {value_name(v)} in slot {slot}, where "
            f"{what} is chosen: its learner learned a value no quorum accepted in "
            "one ballot")


# -- MP-ALL-EXECUTED (sometimes): the checks are not vacuous ---------------------------


def all_executed(c: Consts, s: MPState) -> bool:
    return all(len({v for v in s.log[r] if v >= 0}) >= c.goal
               for r in range(c.n) if s.up[r] != DOWN and r not in c.liars)


PROPERTIES: tuple[PropertySpec[MPState], ...] = (
    PropertySpec("MP-AGREEMENT", "always", "at most one value is chosen per slot",
                 none_of(split_slots), explain_agreement),
    PropertySpec("MP-VALIDITY", "always", "every chosen value is a client command or no-op",
                 none_of(invalid), explain_validity),
    PropertySpec("MP-LOG-PREFIX", "always",
                 "any two replicas' executed logs are prefixes of one another",
                 none_of(diverging), explain_prefix),
    PropertySpec("MP-AT-MOST-ONCE", "always", "no replica executes a command twice",
                 none_of(twice), explain_twice),
    PropertySpec("MP-PROMISE", "always", "no acceptor accepts in a ballot below its promise",
                 none_of(broken_promises), explain_promise),
    PropertySpec("MP-CHOSEN-STABLE", "always",
                 "once a value is chosen in a slot, every Accept for that slot at a "
                 "higher ballot carries that value", none_of(unstable), explain_stable),
    PropertySpec("MP-EXECUTED-CHOSEN", "always",
                 "replicas execute only chosen values: each log entry is a value chosen "
                 "in its slot (a no-op may stand for a duplicate)",
                 none_of(unchosen_entries), explain_unchosen),
    PropertySpec("MP-ALL-EXECUTED", "sometimes",
                 "every command is executed by every live replica (every command that "
                 "fits, with fewer slots than commands)", all_executed),
)


def make_properties(n: int, slots: int, commands: int, quorum_size: int,
                    liars: frozenset[int] = frozenset()) -> list[Property]:
    consts = Consts(n, liars, frozenset(range(commands)) | {NOOP}, min(commands, slots),
                    last_state(lambda s: chosen(s, quorum_size)))
    return bind(PROPERTIES, consts)
