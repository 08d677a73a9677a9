"""Paxos Commit, transcribed from Lamport's PaxosCommit.tla (tlaplus/Examples,
specifications/transaction_commit), the algorithm of Gray and Lamport, "Consensus on
Transaction Commit" (ACM TODS 31(1), 2006), section 4.

Two-phase commit blocks when its transaction manager fails: a prepared resource
manager (RM) may neither commit nor abort until the TM is back. Paxos Commit replaces
the TM's decision with one instance of Paxos consensus per RM, run by a set of
acceptors, deciding whether that RM is "prepared" or "aborted". An RM starts its own
instance by sending a phase 2a message for ballot 0 with its vote: ballot 0 belongs to
the RM, so it skips phase 1. The transaction commits when every instance has chosen
"prepared" and aborts when any instance has chosen "aborted". If an RM goes silent, a
leader runs a higher ballot of its instance: phase 1 learns from a majority of
acceptors whether a value may have been chosen, and if none was voted for, the leader
proposes "aborted". Any two majorities intersect, so a leader can never choose a value
other than one already chosen, and with 2F+1 acceptors the protocol decides despite F
failures.

As in the spec, `msgs` is the set of every message ever sent (loss, duplication and
reordering need no actions), leader election is not modelled (any process may act as a
ballot's leader), RMs prepare spontaneously, and a message to several recipients is
one element of `msgs`. TLC's conventions are kept where they change the counts: an
action is listed once per witness of its existential quantifiers, as TLC enumerates
them (`\\E m \\in msgs`, `\\E MS \\in Majority`, and the `\\E b, MS` inside Decide's
`Decided`), so our generated-state count is TLC's.

    smrcheck check examples/paxoscommit.py:SPEC    # TLC: 1,321,761 states, depth 28

The defaults are PaxosCommit.cfg's constants: RM = {r1, r2}, Acceptor = {a1, a2, a3},
Majority = the three two-acceptor sets, Ballot = {0, 1}. TLC's published result for
that cfg (manifest.json) is 1,321,761 distinct states, 16,959,159 generated, depth 28,
and tests/examples/test_paxoscommit.py pins them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations, product
from typing import Any, NamedTuple

from smrcheck import FnMap, ModelSpec, Mutants, Param, Record, TlaSet, always, sometimes

# rmState values.
WORKING, PREPARED, COMMITTED, ABORTED = 0, 1, 2, 3
RM_STATES = ("working", "prepared", "committed", "aborted")
# The values of an instance, and an acceptor's val before it has voted ("none").
NONE, V_PREPARED, V_ABORTED = 0, 1, 2
VALUES = ("none", "prepared", "aborted")

# Messages are int tuples, the type first, then the spec's fields:
#   phase1a (P1A, ins, bal)                    phase1b (P1B, ins, mbal, bal, val, acc)
#   phase2a (P2A, ins, bal, val)               phase2b (P2B, ins, bal, val, acc)
#   Commit  (COMMIT,)                          Abort   (ABORT,)
P1A, P1B, P2A, P2B, COMMIT, ABORT = range(6)
COMMIT_MSG, ABORT_MSG = (COMMIT,), (ABORT,)


class PCState(NamedTuple):
    # A named tuple, not a dataclass: a million states are built and hashed a dozen
    # times each, and a tuple is the cheapest immutable record CPython has.
    rm_state: tuple[int, ...]  # rmState[rm]
    # aState[ins][ac] = (mbal, bal, val): acceptor ac's promise, last vote's ballot
    # (-1 if none) and value (NONE if none) in instance ins, the instance of RM ins.
    a_state: tuple[tuple[tuple[int, int, int], ...], ...]
    msgs: frozenset[tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class Rules:
    # Phase2a: propose the value of the highest-ballot vote that the majority's phase
    # 1b messages report, "aborted" only if none reports a vote. A leader that ignores
    # them may abort an instance whose RM already had "prepared" chosen.
    respect_1b_values: bool = True
    # Decided: a value is chosen by phase 2b messages from a majority. Counting one
    # acceptor's vote lets two disjoint sets choose differently.
    decide_on_majority: bool = True
    # Phase2b: vote only if aState[ins][acc].mbal =< m.bal, keeping the promise that
    # Phase1b made to a higher ballot's leader.
    keep_promise: bool = True


MUTANTS = Mutants(Rules())
MUTANTS.add(
    "ignore-1b-values",
    "Phase2a proposes \"aborted\" whenever it runs, ignoring a \"prepared\" vote that the "
    "phase 1b messages report",
    exposed_by={"max_ballot": 1},
    respect_1b_values=False,
)
MUTANTS.add(
    "decide-on-one-vote",
    "Decide takes an instance's value as chosen on a single acceptor's phase 2b "
    "message, not a majority's",
    exposed_by={"acceptors": 3, "max_ballot": 1},
    decide_on_majority=False,
)
MUTANTS.add(
    "break-promise",
    "Phase2b votes in a ballot lower than the one the acceptor promised in Phase1b",
    exposed_by={"max_ballot": 1},
    keep_promise=False,
)


def rm_name(r: int) -> str:
    return f"r{r + 1}"


def acc_name(a: int) -> str:
    return f"a{a + 1}"


def _set(t: tuple, i: int, x: Any) -> tuple:
    return t[:i] + (x,) + t[i + 1:]


class PaxosCommit:
    """PaxosCommit.tla as a model: PCInit, PCNext's actions, and TCommit's properties."""

    def __init__(self, rms: int = 2, acceptors: int = 3, max_ballot: int = 1,
                 mutant: str | None = None) -> None:
        self.rms = range(rms)
        self.acceptors = range(acceptors)
        self.ballots = range(max_ballot + 1)
        self.rules = MUTANTS.rules_for(mutant)
        # Majority: the minimal majorities, as PaxosCommit.cfg lists them for three
        # acceptors. Only their intersection matters to safety (the ASSUME).
        self.majorities = tuple(combinations(self.acceptors, acceptors // 2 + 1))
        # Who counts as "a majority" in Decided; the mutant shrinks it to one acceptor.
        self.deciders = tuple(frozenset(ms) for ms in (
            self.majorities if self.rules.decide_on_majority
            else tuple((a,) for a in self.acceptors)))
        self._last_votes: tuple[Any, Any] = (None, None)
        self._step = {
            "RMPrepare": self._rm_prepare,
            "RMChooseToAbort": self._rm_choose_to_abort,
            "RMRcvCommitMsg": self._rm_rcv_commit,
            "RMRcvAbortMsg": self._rm_rcv_abort,
            "Phase1a": self._phase1a,
            "Phase2a": self._phase2a,
            "DecideCommit": self._decide_commit,
            "DecideAbort": self._decide_abort,
            "Phase1b": self._phase1b,
            "Phase2b": self._phase2b,
        }

    def init_states(self) -> list[PCState]:
        fresh = ((0, -1, NONE),) * len(self.acceptors)
        return [PCState((WORKING,) * len(self.rms), (fresh,) * len(self.rms), frozenset())]

    # -- which actions are enabled ---------------------------------------------------

    def decided_witnesses(self, votes: dict[tuple[int, int, int], set[int]], rm: int,
                          v: int) -> list[tuple[int, int]]:
        """Decided(rm, v)'s witnesses <<b, MS>>: a ballot in which every member of
        the majority MS sent a phase 2b message for v in instance rm. `votes` maps
        (ins, bal, val) to the acceptors whose phase 2b message for it was sent."""
        out = []
        for b in self.ballots:
            voters = votes.get((rm, b, v))
            if voters is not None:
                out.extend((b, i) for i, ms in enumerate(self.deciders) if voters >= ms)
        return out

    @staticmethod
    def votes(msgs: frozenset[tuple[int, ...]]) -> dict[tuple[int, int, int], set[int]]:
        out: dict[tuple[int, int, int], set[int]] = {}
        for m in msgs:
            if m[0] == P2B:
                out.setdefault(m[1:4], set()).add(m[4])
        return out

    def actions(self, s: PCState) -> list[tuple]:
        out: list[tuple] = []
        msgs = s.msgs
        p1a, p2a, p1b, votes = [], [], {}, {}
        for m in msgs:
            kind = m[0]
            if kind == P2B:
                votes.setdefault(m[1:4], set()).add(m[4])
            elif kind == P1A:
                p1a.append(m)
            elif kind == P2A:
                p2a.append(m)
            elif kind == P1B:
                p1b[m[1], m[2], m[5]] = m  # one per (ins, mbal, acc): mbal only grows
        p1a.sort()
        p2a.sort()

        commit_sent, abort_sent = COMMIT_MSG in msgs, ABORT_MSG in msgs
        for rm in self.rms:
            if s.rm_state[rm] == WORKING:
                out.append(("RMPrepare", rm))
                out.append(("RMChooseToAbort", rm))
            if commit_sent:
                out.append(("RMRcvCommitMsg", rm))
            if abort_sent:
                out.append(("RMRcvAbortMsg", rm))

        sent_2a = {(m[1], m[2]) for m in p2a}
        for bal in self.ballots[1:]:
            for rm in self.rms:
                out.append(("Phase1a", bal, rm))  # always enabled: resending is harmless
                if (rm, bal) in sent_2a:
                    continue
                for i, ms in enumerate(self.majorities):
                    mset = [p1b.get((rm, bal, ac)) for ac in ms]
                    if None in mset:
                        continue
                    out.append(("Phase2a", bal, rm, i, self._phase2a_value(mset)))

        # Decide. TLC enumerates the \E b, MS inside each Decided(rm, v): the Commit
        # disjunct (\A rm : Decided(rm, "prepared")) yields one successor per choice of
        # a witness for every rm, the Abort disjunct one per rm and witness.
        prepared = [self.decided_witnesses(votes, rm, V_PREPARED) for rm in self.rms]
        if all(prepared):
            for witness in product(*prepared):
                out.append(("DecideCommit", witness))
        for rm in self.rms:
            for b, i in self.decided_witnesses(votes, rm, V_ABORTED):
                out.append(("DecideAbort", rm, b, i))

        keep = self.rules.keep_promise
        for acc in self.acceptors:
            for m in p1a:
                if s.a_state[m[1]][acc][0] < m[2]:
                    out.append(("Phase1b", acc, m[1], m[2]))
            for m in p2a:
                if not keep or s.a_state[m[1]][acc][0] <= m[2]:
                    out.append(("Phase2b", acc, m[1], m[2], m[3]))
        return out

    def _phase2a_value(self, mset: list[tuple[int, ...]]) -> int:
        maxbal = max(m[3] for m in mset)
        if maxbal == -1 or not self.rules.respect_1b_values:
            return V_ABORTED
        # CHOOSE m \in mset : m.bal = maxbal. Votes in one ballot agree, so any will do;
        # the smallest keeps the choice deterministic, as TLC's CHOOSE is.
        return min(m[4] for m in mset if m[3] == maxbal)

    def next_state(self, s: PCState, a: tuple) -> PCState:
        return self._step[a[0]](s, a)

    # -- PCNext's actions; their enabling conditions are in `actions` ----------------

    def _rm_prepare(self, s: PCState, a: tuple) -> PCState:
        rm = a[1]
        return PCState(_set(s.rm_state, rm, PREPARED), s.a_state,
                       s.msgs | {(P2A, rm, 0, V_PREPARED)})

    def _rm_choose_to_abort(self, s: PCState, a: tuple) -> PCState:
        rm = a[1]
        return PCState(_set(s.rm_state, rm, ABORTED), s.a_state,
                       s.msgs | {(P2A, rm, 0, V_ABORTED)})

    def _rm_rcv_commit(self, s: PCState, a: tuple) -> PCState:
        return PCState(_set(s.rm_state, a[1], COMMITTED), s.a_state, s.msgs)

    def _rm_rcv_abort(self, s: PCState, a: tuple) -> PCState:
        return PCState(_set(s.rm_state, a[1], ABORTED), s.a_state, s.msgs)

    def _phase1a(self, s: PCState, a: tuple) -> PCState:
        _, bal, rm = a
        return PCState(s.rm_state, s.a_state, s.msgs | {(P1A, rm, bal)})

    def _phase2a(self, s: PCState, a: tuple) -> PCState:
        _, bal, rm, _, val = a
        return PCState(s.rm_state, s.a_state, s.msgs | {(P2A, rm, bal, val)})

    def _decide_commit(self, s: PCState, a: tuple) -> PCState:
        return PCState(s.rm_state, s.a_state, s.msgs | {COMMIT_MSG})

    def _decide_abort(self, s: PCState, a: tuple) -> PCState:
        return PCState(s.rm_state, s.a_state, s.msgs | {ABORT_MSG})

    def _phase1b(self, s: PCState, a: tuple) -> PCState:
        _, acc, ins, bal = a
        _, vbal, val = s.a_state[ins][acc]
        row = _set(s.a_state[ins], acc, (bal, vbal, val))
        return PCState(s.rm_state, _set(s.a_state, ins, row),
                       s.msgs | {(P1B, ins, bal, vbal, val, acc)})

    def _phase2b(self, s: PCState, a: tuple) -> PCState:
        _, acc, ins, bal, val = a
        row = _set(s.a_state[ins], acc, (bal, bal, val))
        return PCState(s.rm_state, _set(s.a_state, ins, row),
                       s.msgs | {(P2B, ins, bal, val, acc)})

    # -- properties ------------------------------------------------------------------

    def _votes_of(self, s: PCState) -> dict[tuple[int, int, int], set[int]]:
        # Two properties read the votes of each new state, one after the other.
        if self._last_votes[0] is not s.msgs:
            self._last_votes = (s.msgs, self.votes(s.msgs))
        return self._last_votes[1]

    def chosen(self, s: PCState) -> dict[int, set[int]]:
        """Instance -> the values a majority of acceptors voted for in one ballot."""
        out: dict[int, set[int]] = {}
        for (rm, _, v), voters in self._votes_of(s).items():
            if any(voters.issuperset(ms) for ms in self.majorities):
                out.setdefault(rm, set()).add(v)
        return out

    def properties(self):
        # PCTypeOK holds by construction: each field only ever takes its type's values.
        def consistent(s: PCState) -> bool:
            return not (ABORTED in s.rm_state and COMMITTED in s.rm_state)

        def explain_consistent(s: PCState) -> str:
            c = [rm_name(r) for r, x in enumerate(s.rm_state) if x == COMMITTED]
            a = [rm_name(r) for r, x in enumerate(s.rm_state) if x == ABORTED]
            return f"{', '.join(c)} committed while {', '.join(a)} aborted"

        def tcommit_state(s: PCState) -> bool:
            return COMMITTED not in s.rm_state or all(
                x in (PREPARED, COMMITTED) for x in s.rm_state)

        def explain_tcommit_state(s: PCState) -> str:
            c = [rm_name(r) for r, x in enumerate(s.rm_state) if x == COMMITTED]
            other = [f"{rm_name(r)} is {RM_STATES[x]}" for r, x in enumerate(s.rm_state)
                     if x in (WORKING, ABORTED)]
            return (f"{', '.join(c)} committed while {', '.join(other)}: TCommit commits "
                    "only when every RM is prepared")

        def one_decision(s: PCState) -> bool:
            return not (COMMIT_MSG in s.msgs and ABORT_MSG in s.msgs)

        def agreement(s: PCState) -> bool:
            return all(len(vs) <= 1 for vs in self.chosen(s).values())

        def explain_agreement(s: PCState) -> str:
            both = [rm_name(r) for r, vs in self.chosen(s).items() if len(vs) > 1]
            return (f"the instance of {', '.join(both)} chose both prepared and aborted "
                    "(each by a majority of phase 2b messages)")

        props = [
            always("TC-CONSISTENT", consistent,
                   "TCommit's TCConsistent: no RM has committed while another aborted",
                   explain_consistent),
            always("PC-TCOMMIT-STATE", tcommit_state,
                   "PCSpec => TC!TCSpec, the part a state shows: rmState is one TCommit "
                   "reaches, so an RM has committed only if every RM is prepared or "
                   "committed", explain_tcommit_state),
            always("PC-ONE-DECISION", one_decision,
                   "Commit and Abort are never both announced"),
            always("PC-INSTANCE-AGREEMENT", agreement,
                   "each RM's Paxos instance chooses at most one of prepared, aborted",
                   explain_agreement),
            sometimes("PC-COMMITTED", lambda s: all(x == COMMITTED for x in s.rm_state),
                      "every RM commits the transaction"),
        ]
        if len(self.ballots) == 1:
            # Ballot 0 alone: no leader ever runs, and a goal no run can reach would
            # fail every check of these constants as vacuous.
            return props
        return props + [
            sometimes("PC-ABORTED-BY-LEADER",
                      lambda s: ABORT_MSG in s.msgs and any(
                          b > 0 and v == V_ABORTED and any(voters.issuperset(ms)
                                                           for ms in self.majorities)
                          for (_, b, v), voters in self._votes_of(s).items()),
                      "Abort is announced with an instance chosen \"aborted\" in a "
                      "ballot above 0: a leader decided for an RM without its vote"),
        ]

    # -- presentation ----------------------------------------------------------------

    def describe(self, s: PCState) -> dict[str, Any]:
        def message(m: tuple[int, ...]) -> Record:
            kind = m[0]
            if kind == P1A:
                return Record(type="phase1a", ins=rm_name(m[1]), bal=m[2])
            if kind == P1B:
                return Record(type="phase1b", ins=rm_name(m[1]), mbal=m[2], bal=m[3],
                              val=VALUES[m[4]], acc=acc_name(m[5]))
            if kind == P2A:
                return Record(type="phase2a", ins=rm_name(m[1]), bal=m[2], val=VALUES[m[3]])
            if kind == P2B:
                return Record(type="phase2b", acc=acc_name(m[4]), ins=rm_name(m[1]),
                              bal=m[2], val=VALUES[m[3]])
            return Record(type="Commit" if kind == COMMIT else "Abort")

        return {
            "rmState": FnMap((rm_name(r), RM_STATES[x]) for r, x in enumerate(s.rm_state)),
            "aState": FnMap(
                (rm_name(ins), FnMap(
                    (acc_name(ac), Record(mbal=mbal, bal=bal, val=VALUES[val]))
                    for ac, (mbal, bal, val) in enumerate(row)))
                for ins, row in enumerate(s.a_state)),
            "msgs": TlaSet(message(m) for m in sorted(s.msgs)),
        }

    def format_action(self, a: tuple) -> str:
        name = a[0]
        if name in ("RMPrepare", "RMChooseToAbort", "RMRcvCommitMsg", "RMRcvAbortMsg"):
            return f"{name}({rm_name(a[1])})"
        if name == "Phase1a":
            return f"Phase1a(bal={a[1]}, ins={rm_name(a[2])})"
        if name == "Phase2a":
            ms = "{" + ", ".join(acc_name(x) for x in self.majorities[a[3]]) + "}"
            return f"Phase2a(bal={a[1]}, ins={rm_name(a[2])}, MS={ms}, val={VALUES[a[4]]})"
        if name == "DecideCommit":
            return "Decide(Commit)"
        if name == "DecideAbort":
            return f"Decide(Abort: {rm_name(a[1])} aborted in ballot {a[2]})"
        if name == "Phase1b":
            return f"Phase1b({acc_name(a[1])}, on 1a ins={rm_name(a[2])} bal={a[3]})"
        return (f"Phase2b({acc_name(a[1])}, on 2a ins={rm_name(a[2])} bal={a[3]} "
                f"val={VALUES[a[4]]})")


def build(params: Mapping[str, Any], mutant: str | None) -> PaxosCommit:
    return PaxosCommit(params["rms"], params["acceptors"], params["max_ballot"], mutant)


SPEC = ModelSpec(
    name="paxoscommit",
    summary="Paxos Commit, transcribed from Lamport's PaxosCommit.tla",
    params=(
        Param("rms", 2, "number of resource managers r1..rN", minimum=1, maximum=5),
        Param("acceptors", 3, "number of acceptors a1..an; Majority is every set of "
              "n // 2 + 1 of them", minimum=1, maximum=7),
        Param("max_ballot", 1, "Ballot is 0..max_ballot", minimum=0, maximum=5),
    ),
    mutants=MUTANTS.infos(),
    build=build,
    property_ids=("TC-CONSISTENT", "PC-TCOMMIT-STATE", "PC-ONE-DECISION",
                  "PC-INSTANCE-AGREEMENT", "PC-COMMITTED", "PC-ABORTED-BY-LEADER"),
)
