"""Faulty acceptors around Paxos.tla's Next: crash, omission, Byzantine.

`-p faults=crash|omission|byzantine -p faulty=K` (see `models/common/faults.py`).
Paxos.tla has no faults at all: in its sent-set `msgs` an acceptor that stops, or a
message that is lost, is one that takes no further step or that no one receives,
which every behaviour may already do. Each failure model here adds what that
leaves out, and no more:

- crash: Crash(a), within a budget of K crashes, stops acceptor a for good. A
  crashed acceptor's maxBal becomes `TOP`, a ballot above every ballot, so that no
  Phase1b or Phase2b is enabled for it again; its votes and messages stay. For the
  invariants this is what a crash means: an acceptor that will never vote again is
  one that promised every ballot (Voting.tla's SafeAt counts it as having moved
  past every ballot without voting there).
- omission: the last K acceptors follow the protocol but may fail to send or
  receive. A receive omission is a step not taken, which every behaviour may
  already do. A lost 2b is one no learner hears of; but in Paxos.tla the 2bs in
  `msgs` are the record of the votes (the refinement mapping to Voting, on which
  `chosen` is defined), not a message that some step receives, so the vote stays
  and only learning is delayed, which safety does not see. What is new is a lost
  1b, Phase1bLost(a, b): the promise is made and maxBal[a] raised, but no leader
  hears of it. Such a state is a fault-free state with one 1b fewer in `msgs`, and
  the guards of the correct steps only ever need messages to be present (Phase2a
  the 1bs of a whole quorum), so omission adds states but cannot break agreement:
  with 3 acceptors the state space grows (the tests pin by how much) and every
  invariant holds, as under crash.
- byzantine: the last K acceptors lie. A liar has no state of its own: it has sent,
  from the start, every message of the bounded universe under its own name
  (`lies`): a 1b for every ballot reporting every <<mbal, mval>> with mbal below it
  (or <<-1, None>>), and a 2b for every ballot and value, whether or not a 2a
  proposed it. In the sent-set network nothing forces a receiver to read a
  message, and every guard only needs messages to be present, so a liar that sent
  more is never weaker: this is the strongest adversary of the universe, as pbft's
  faulty replicas are, and it costs no state. It can lie about its votes, vote for
  two values in a ballot, promise a ballot and then vote below it. Its maxBal is
  `TOP` as for a crashed acceptor: it takes no step, and to the invariants it is an
  acceptor that promised everything and cast every vote its 2bs show.

With K = 1 of 3 acceptors, the quorums of two meet in one acceptor, which can be
the liar: PAXOS-AGREEMENT fails, where crash and omission keep it (n = 2f + 1 is
enough for crashes; Byzantine faults need n >= 3f + 1, as PBFT has).
"""

from __future__ import annotations

from ...checker.errors import UsageError
from ..common.faults import BYZANTINE, CRASH, FAULTS, OMISSION, faulty_nodes
from ..common.ids import NONE, acceptor_name
from .state import T1B, T2B, PaxosState, initial

TOP = 1 << 20  # a ballot above every ballot: the maxBal of a stopped acceptor

# The steps whose message an omission-faulty acceptor may lose (see above).
LOST = {"Phase1b": "Phase1bLost"}
UNLOST = {v: k for k, v in LOST.items()}


def lies(liars: frozenset[int], ballots: range, n_values: int) -> frozenset[tuple[int, ...]]:
    """Every well-formed 1b and 2b the liars can send, each under its own name."""
    out = set()
    for a in liars:
        for b in ballots:
            out.add((T1B, a, b, -1, NONE))
            out |= {(T1B, a, b, mb, v) for mb in range(b) for v in range(n_values)}
            out |= {(T2B, a, b, v) for v in range(n_values)}
    return frozenset(out)


class Faults:
    """One model's faulty acceptors: who, how, and the steps they add."""

    def __init__(self, kind: str, k: int, n: int, ballots: range, n_values: int) -> None:
        if kind not in (CRASH, OMISSION, BYZANTINE):
            raise UsageError(f"parameter faults must be one of {', '.join(FAULTS)}; "
                             f"got {kind!r}")
        self.kind = kind
        self.crashes = k if kind == CRASH else 0
        fixed = faulty_nodes(n, k, "acceptors")  # also the usage error for k > n
        self.omitting = fixed if kind == OMISSION else frozenset()
        self.liars = fixed if kind == BYZANTINE else frozenset()
        self.lies = lies(self.liars, ballots, n_values)
        self.any = bool(self.crashes or self.omitting or self.liars)

    def initial(self, n: int) -> PaxosState:
        s = initial(n)
        if not self.liars:
            return s
        return s._replace(
            max_bal=tuple(TOP if a in self.liars else NONE for a in range(n)),
            msgs=self.lies)

    def actions(self, s: PaxosState, out: list[tuple]) -> list[tuple]:
        """Next's actions less those of stopped acceptors, with the faults' own."""
        max_bal = s.max_bal
        out = [a for a in out if a[0] in ("Phase1a", "Phase2a") or max_bal[a[1]] != TOP]
        if self.omitting:
            out += [(LOST[a[0]],) + a[1:] for a in out
                    if a[0] in LOST and a[1] in self.omitting]
        if self.crashes and sum(b == TOP for b in max_bal) < self.crashes:
            out += [("Crash", a) for a in range(len(max_bal)) if max_bal[a] != TOP]
        return out

    def step(self, s: PaxosState, a: tuple, next_state) -> PaxosState:
        """The effect of Crash(a) or of a step whose message is lost."""
        name = a[0]
        if name == "Crash":
            i = a[1]
            return s._replace(max_bal=s.max_bal[:i] + (TOP,) + s.max_bal[i + 1 :])
        if name in UNLOST:
            return next_state(s, (UNLOST[name],) + a[1:])._replace(msgs=s.msgs)
        raise ValueError(f"not a Paxos action: {a!r}")

    def format_action(self, a: tuple, plain) -> str:
        if a[0] == "Crash":
            return f"Crash(a={acceptor_name(a[1])})"
        return plain((UNLOST[a[0]],) + a[1:]) + ", its 1b lost"

    def describe(self, out: dict, s: PaxosState) -> dict:
        """maxBal of a stopped acceptor by what stopped it."""
        if not self.any:
            return out
        out["maxBal"] = type(out["maxBal"])(
            (name, ("byzantine" if a in self.liars else "crashed") if s.max_bal[a] == TOP
             else b) for a, (name, b) in enumerate(out["maxBal"].items()))
        return out
