"""Two-phase commit, transcribed from Lamport's TwoPhase.tla (tlaplus/Examples,
specifications/transaction_commit), the spec of Gray and Lamport, "Consensus on
Transaction Commit" (ACM TODS 31(1), 2006), section 3.

A transaction spans several resource managers (RMs). Each RM, while working on its part,
may decide on its own to abort; or it prepares, which is a promise that it can commit
and a vote to do so, sent to the transaction manager (TM) as a Prepared message. The TM
commits only once it has received Prepared from every RM, and otherwise may abort at
any time before committing; it broadcasts its decision, and each RM does what it is
told. Safety is the property of TCommit.tla that the protocol implements: no RM commits
while another aborts (TCConsistent). The protocol is safe but blocking: a prepared RM
may neither commit nor abort until the TM speaks, which is what Paxos Commit
(paxoscommit.py, beside this file) removes.

As in TwoPhase.tla, `msgs` is the set of every message ever sent, so loss, duplication
and reordering need no actions (an RM that never receives a message is one that never
acts on it), an RM aborting sends no message (the TM aborting on its own stands for
it), and the TM's Prepare requests are left out (RMs prepare spontaneously). Each
variable of the spec is a field of `TPState`; the strings become small ints, since a
state must hash the same in every process.

    smrcheck check examples/twophase.py:SPEC -p rms=3               # TLC: 288 states
    smrcheck check examples/twophase.py:SPEC -p rms=3 --symmetry    # up to renaming

With `-p rms=3` the reachable state space is TLC's on TwoPhase.cfg, as published in
the folder's manifest.json: 288 distinct states, 1146 generated, depth 11; with
`-p rms=6` it has the 50816 states the spec's closing comment reports
(tests/examples/test_twophase.py pins both). The RMs are interchangeable and
`canonical` says so, but TwoPhase.cfg declares no symmetry set, so TLC's figures are
those of the unreduced space: the spec reduces only when `--symmetry` asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from smrcheck import FnMap, ModelSpec, Mutants, Param, Record, TlaSet, always, sometimes

# rmState values. tmState takes three of them, its "init" written as WORKING.
WORKING, PREPARED, COMMITTED, ABORTED = 0, 1, 2, 3
RM_STATES = ("working", "prepared", "committed", "aborted")
TM_STATES = {WORKING: "init", COMMITTED: "committed", ABORTED: "aborted"}

# Message types: [type |-> "Prepared", rm |-> r] is (MSG_PREPARED, r); the TM's
# broadcasts carry no field, (MSG_COMMIT,) and (MSG_ABORT,).
MSG_PREPARED, MSG_COMMIT, MSG_ABORT = 0, 1, 2
COMMIT_MSG, ABORT_MSG = (MSG_COMMIT,), (MSG_ABORT,)


@dataclass(frozen=True, slots=True)
class TPState:
    rm_state: tuple[int, ...]  # rmState[rm], indexed by RM number
    tm_state: int  # WORKING ("init"), COMMITTED or ABORTED
    tm_prepared: frozenset[int]  # the RMs whose Prepared the TM has received
    msgs: frozenset[tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class Rules:
    # TMCommit: tmPrepared = RM. The whole point of the first phase: one RM that has
    # not voted may still abort on its own.
    commit_needs_all_prepared: bool = True
    # RMChooseToAbort: rmState[rm] = "working". Prepared is a promise to commit if told
    # to; an RM that takes its vote back aborts under a TM that counted it.
    abort_only_while_working: bool = True
    # TMCommit and TMAbort: tmState = "init". The TM decides once; a second decision
    # broadcasts the opposite outcome to RMs that have not yet heard the first.
    tm_decides_once: bool = True


MUTANTS = Mutants(Rules())
MUTANTS.add(
    "commit-without-votes",
    "TMCommit does not wait for a Prepared message from every RM, so it may commit while "
    "an RM that never voted aborts on its own",
    commit_needs_all_prepared=False,
)
MUTANTS.add(
    "abort-after-prepare",
    "RMChooseToAbort is enabled in a prepared RM too: an RM takes back its vote after "
    "the TM may have counted it",
    abort_only_while_working=False,
)
MUTANTS.add(
    "tm-changes-its-mind",
    "TMAbort is enabled after TMCommit: the TM broadcasts both decisions",
    tm_decides_once=False,
)


def rm_name(r: int) -> str:
    return f"r{r + 1}"


def tc_consistent(s: TPState) -> bool:
    # TCommit's TCConsistent: no rm1 aborted while an rm2 committed.
    return not (ABORTED in s.rm_state and COMMITTED in s.rm_state)


def explain_inconsistent(s: TPState) -> str:
    committed = [rm_name(r) for r, x in enumerate(s.rm_state) if x == COMMITTED]
    aborted = [rm_name(r) for r, x in enumerate(s.rm_state) if x == ABORTED]
    return (f"{', '.join(committed)} committed while {', '.join(aborted)} aborted "
            f"(the TM's decision: {TM_STATES[s.tm_state]})")


class TwoPhase:
    """TwoPhase.tla as a model: TPInit, TPNext's actions, TCConsistent and two goals."""

    def __init__(self, rms: int = 3, mutant: str | None = None) -> None:
        self.rms = range(rms)
        self.all_rms = frozenset(self.rms)
        self.rules = MUTANTS.rules_for(mutant)
        self._step = {
            "TMCommit": self._tm_commit,
            "TMAbort": self._tm_abort,
            "TMRcvPrepared": self._tm_rcv_prepared,
            "RMPrepare": self._rm_prepare,
            "RMChooseToAbort": self._rm_choose_to_abort,
            "RMRcvCommitMsg": self._rm_rcv_commit,
            "RMRcvAbortMsg": self._rm_rcv_abort,
        }

    def init_states(self) -> list[TPState]:
        return [TPState((WORKING,) * len(self.rms), WORKING, frozenset(), frozenset())]

    def actions(self, s: TPState) -> list[tuple]:
        # TPNext's disjuncts in the spec's order, one action per rm that enables one.
        # Receiving a message twice (TMRcvPrepared, RMRcvCommitMsg) is a stutter that
        # TLC still counts as a generated state, so it is listed like any other step.
        out: list[tuple] = []
        r = self.rules
        undecided = s.tm_state == WORKING
        if undecided and (s.tm_prepared == self.all_rms or not r.commit_needs_all_prepared):
            out.append(("TMCommit",))
        if undecided or (not r.tm_decides_once and s.tm_state == COMMITTED):
            out.append(("TMAbort",))
        commit_sent = COMMIT_MSG in s.msgs
        abort_sent = ABORT_MSG in s.msgs
        for rm in self.rms:
            state = s.rm_state[rm]
            if undecided and (MSG_PREPARED, rm) in s.msgs:
                out.append(("TMRcvPrepared", rm))
            if state == WORKING:
                out.append(("RMPrepare", rm))
            if state == WORKING or (state == PREPARED and not r.abort_only_while_working):
                out.append(("RMChooseToAbort", rm))
            if commit_sent:
                out.append(("RMRcvCommitMsg", rm))
            if abort_sent:
                out.append(("RMRcvAbortMsg", rm))
        return out

    def next_state(self, s: TPState, a: tuple) -> TPState:
        return self._step[a[0]](s, *a[1:])

    # -- TPNext's actions; their enabling conditions are in `actions` ---------------

    def _tm_rcv_prepared(self, s: TPState, rm: int) -> TPState:
        return replace(s, tm_prepared=s.tm_prepared | {rm})

    def _tm_commit(self, s: TPState) -> TPState:
        return replace(s, tm_state=COMMITTED, msgs=s.msgs | {COMMIT_MSG})

    def _tm_abort(self, s: TPState) -> TPState:
        return replace(s, tm_state=ABORTED, msgs=s.msgs | {ABORT_MSG})

    def _rm_prepare(self, s: TPState, rm: int) -> TPState:
        return replace(s, rm_state=_set(s.rm_state, rm, PREPARED),
                       msgs=s.msgs | {(MSG_PREPARED, rm)})

    def _rm_choose_to_abort(self, s: TPState, rm: int) -> TPState:
        return replace(s, rm_state=_set(s.rm_state, rm, ABORTED))

    def _rm_rcv_commit(self, s: TPState, rm: int) -> TPState:
        return replace(s, rm_state=_set(s.rm_state, rm, COMMITTED))

    def _rm_rcv_abort(self, s: TPState, rm: int) -> TPState:
        return replace(s, rm_state=_set(s.rm_state, rm, ABORTED))

    # -- properties -----------------------------------------------------------------

    def properties(self):
        # TPTypeOK holds by construction: every field only ever takes its type's values.
        return [
            always("TC-CONSISTENT", tc_consistent,
                   "TCommit's TCConsistent: no RM has committed while another aborted",
                   explain_inconsistent),
            sometimes("TP-COMMITTED", lambda s: all(x == COMMITTED for x in s.rm_state),
                      "every RM commits the transaction"),
            sometimes("TP-ABORTED", lambda s: all(x == ABORTED for x in s.rm_state),
                      "every RM aborts the transaction"),
        ]

    def canonical(self, s: TPState) -> tuple:
        # The RMs are interchangeable (TwoPhase.tla treats RM as a symmetry set): a
        # state is its multiset of per-RM views, with the TM's decision and whether it
        # has been broadcast, which are the same under any renaming of the RMs.
        views = sorted((s.rm_state[rm], rm in s.tm_prepared, (MSG_PREPARED, rm) in s.msgs)
                       for rm in self.rms)
        return (s.tm_state, COMMIT_MSG in s.msgs, ABORT_MSG in s.msgs, tuple(views))

    # -- presentation ---------------------------------------------------------------

    def describe(self, s: TPState) -> dict[str, Any]:
        def message(m: tuple[int, ...]) -> Record:
            if m[0] == MSG_PREPARED:
                return Record(type="Prepared", rm=rm_name(m[1]))
            return Record(type="Commit" if m[0] == MSG_COMMIT else "Abort")

        return {
            "rmState": FnMap((rm_name(r), RM_STATES[x]) for r, x in enumerate(s.rm_state)),
            "tmState": TM_STATES[s.tm_state],
            "tmPrepared": TlaSet(rm_name(r) for r in sorted(s.tm_prepared)),
            "msgs": TlaSet(message(m) for m in sorted(s.msgs)),
        }

    def format_action(self, a: tuple) -> str:
        return f"{a[0]}({rm_name(a[1])})" if len(a) > 1 else a[0]


def _set(t: tuple[int, ...], i: int, x: int) -> tuple[int, ...]:
    return t[:i] + (x,) + t[i + 1:]


def build(params: Mapping[str, Any], mutant: str | None) -> TwoPhase:
    return TwoPhase(params["rms"], mutant)


SPEC = ModelSpec(
    name="twophase",
    summary="two-phase commit, transcribed from Lamport's TwoPhase.tla",
    params=(Param("rms", 3, "number of resource managers r1..rN", minimum=1, maximum=8),),
    mutants=MUTANTS.infos(),
    build=build,
    property_ids=("TC-CONSISTENT", "TP-COMMITTED", "TP-ABORTED"),
    # TwoPhase.cfg declares no symmetry set, so neither does a plain check: its
    # counts are TLC's. `--symmetry` reduces by `canonical` (section 5).
    symmetry=False,
)
