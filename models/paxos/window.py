"""The per-slot Paxos instances of a MultiPaxos run, and what may be forgotten of them.

`Instances` is the one state the per-slot conformance check keeps (trace_map.py):
every live slot's Paxos.tla state (`Slot.st`, a `PaxosState` of `paxos/state.py`), what
each proposer and acceptor received that the next steps are judged by, and the range
phase-1 records from which a slot first mentioned later starts. A run is unbounded;
memory follows the slots in flight, not the run, because each rule below forgets only
what no later step of Paxos Made Simple §2-3 can read (or, where something could
still read it, makes that step `OutsideModel`, a warning, never a verdict):

- A slot first mentioned after a range prepare/promise starts from the state those
  made: every range 1a and 1b covering it, in ballot order (`fresh`). The order of
  Phase1b steps does not matter there: a slot nobody mentioned has no votes, so every
  1b reports none, and maxBal is the highest ballot promised however they interleave.
  Most new slots lie above every range's start and share one such state (`template`),
  so starting a slot costs nothing.
- A range record of a ballot whose proposer has since prepared a higher ballot is
  dropped once it no longer decides anything (`_forget_passed`): a 1b record of
  acceptor a when a has a higher one starting no later (a's promise, maxBal, is the
  same in every slot either covers), then the ballot's 1a record, once none of its
  1b records is left, with what its proposer and acceptors received for it (`pruned`
  remembers the ballot). "Starting no later" counts only slots that can still be
  named for the first time, those from `low_fresh` on. Only Phase1b and Phase2a of
  that ballot read those messages in a slot named later. A late promise there keeps
  only its effect on the promise, maxBal (its 1b would be read only by the 2a of a
  proposer that has moved on); such a 2a is outside the model (it needs what was
  dropped), never a failure.
  A proposer still in its ballot keeps it (one that lost a duel still sends its 2a).
  Without this, every leader change would grow every later slot; with it, the
  records hold about one ballot per proposer and one promise per acceptor.
- A chosen slot that every learner has decided (or executed), LAG or more slots below
  the highest slot mentioned, retires: it keeps maxBal, maxVBal, maxVal and its 2a
  and 2b messages, and drops its 1a and 1b messages. 1a messages are read by Phase1b
  alone, which in a retired slot only raises maxBal (the 1b it would add is read by
  nobody, see next). 1b messages are read by Phase2a alone: a late 2a in a ballot
  above the chosen one may propose only the chosen value (Paxos Made Simple §2.2,
  P2c: each acceptor of the choosing quorum voted before promising any higher
  ballot, so a phase-1 quorum of 1bs of a higher ballot reports a vote at least as
  high as the chosen ballot, and every 2a at or above it carries the chosen value),
  so the check there becomes "promises received from a phase-1 quorum, and the
  chosen value"; a 2a below the chosen ballot would need the dropped 1bs and is
  outside the model. What remains keeps Phase2b exact (an acceptor still may not
  vote below its promise, late or not) and keeps promises' reports checked.
  Slots are chosen and decided in log order, so those LAG slots leave room for the
  late messages of proposers that competed for a slot. A run whose learners never
  log a decision cannot wait for them: past LIVE_CAP live slots, chosen slots retire
  anyway (every check above holds in a retired slot, so this costs only speed).
- RETIRED slots later, the oldest retired slots are forgotten (`floor` rises past
  them): an event in a forgotten slot is outside the model, except a decision or an
  execution there, a stutter whose agreement the monitors check.
A slot that is never chosen (its proposers gave up) stays live: some late step can
always still choose a value in it.
"""

from __future__ import annotations

from ..common.ids import NONE
from .actions import phase1a, phase1b
from .mutants import Rules
from .state import T1A, T2A, T2B, PaxosState, initial

LAG = 64  # a retired slot is at least this far below the highest slot mentioned
LIVE_CAP = 4096  # past this many live slots, chosen ones retire without their learners
RETIRED = 8192  # retired slots kept before the oldest are forgotten
_FAR = 1 << 62


class Slot:
    """One Paxos instance: its Paxos.tla state, its values' names (0 = no-op), and what
    its proposers and acceptors received (promises of one slot, 2as)."""

    __slots__ = ("st", "names", "values", "heard", "got1a", "got2a", "sender", "skipped",
                 "votes", "told", "chosen", "done", "retired")

    def __init__(self, st: PaxosState) -> None:
        self.st = st
        self.names: list[tuple | None] = [None]
        self.values: dict[tuple | None, int] = {None: 0}
        self.heard: dict[tuple[str, int], set[int]] = {}  # (proposer, ballot) -> acceptors
        self.got1a: set[tuple[int, int]] = set()  # (acceptor, ballot): prepares of this slot
        self.got2a: set[tuple[int, int, int]] = set()  # (acceptor, ballot, value) received
        # node -> {(ballot, value): acceptors whose 2b it received}, until it decides
        self.votes: dict[str, dict[tuple[int, int], int]] = {}
        self.told: set[tuple[str, int]] = set()  # (node, value): decide messages received
        self.sender: dict[int, str] = {}  # ballot -> the node that sent its 2a
        self.skipped: set[tuple[int, int]] = set()  # promises below the acceptor's promise
        self.chosen: tuple[int, int] | None = None  # (ballot, value) a phase-2 quorum voted
        self.done: dict[str, int] = {}  # node -> the value it decided (or executed)
        self.retired = False

    def value(self, key: tuple | None) -> int:
        v = self.values.get(key)
        if v is None:
            v = self.values[key] = len(self.names)
            self.names.append(key)
        return v

    def retire(self) -> None:
        st = self.st
        self.st = st._replace(msgs=frozenset(m for m in st.msgs if m[0] == T2A or m[0] == T2B))
        self.retired = True


class Instances:
    """The conformance state of a per-slot run (see the module docstring)."""

    __slots__ = ("n", "width", "latest", "low_fresh", "live", "retired", "floor", "top", "rec_1a", "rec_1b", "got1a",
                 "heard", "pruned", "template", "template_from", "ready", "ready_at", "sweep_at", "focus")

    def __init__(self, n: int, width: int) -> None:
        self.n = n
        self.width = width  # ballot = round * width + the index of its proposer's node
        self.latest: dict[int, int] = {}  # node index -> the highest ballot it prepared
        self.live: dict[int, Slot] = {}
        self.retired: dict[int, Slot] = {}
        self.floor = 0  # slots below it that are neither live nor retired are forgotten
        self.top = -1  # the highest slot mentioned
        self.low_fresh = 0  # the lowest slot never mentioned (at or above floor)
        self.rec_1a: dict[int, int] = {}  # ballot -> first slot a range prepare covers
        self.rec_1b: dict[tuple[int, int], int] = {}  # (acceptor, ballot) -> first slot
        self.got1a: dict[tuple[int, int], int] = {}  # (acceptor, b) -> from: range prepares
        self.heard: dict[tuple[str, int], dict[int, int]] = {}  # (proposer, b) -> {a: from}
        self.pruned: set[int] = set()  # ballots whose 1a/1b a starting state dropped
        self.template: PaxosState | None = None
        self.template_from = 0
        self.ready: list[int] = []  # chosen slots every learner has decided
        self.ready_at = LAG  # sweep when this many are ready
        self.sweep_at = LIVE_CAP
        self.focus = -1  # the slot the last event was about (a failure's context)

    # -- slots -----------------------------------------------------------------------

    def slot(self, i: int) -> Slot | None:
        """Slot i, started if first mentioned; None if the window forgot it."""
        got = self.live.get(i)
        if got is not None:
            return got
        got = self.retired.get(i)
        if got is not None:
            return got
        if i < self.floor:
            return None
        got = self.live[i] = Slot(self.fresh(i))
        if i > self.top:
            self.top = i
        if i == self.low_fresh:
            j = max(i, self.floor)
            while j in self.live or j in self.retired:
                j += 1
            self.low_fresh = j
        if len(self.live) > self.sweep_at:
            self.sweep(force=True)
        return got

    def fresh(self, i: int) -> PaxosState:
        """The state of a slot first mentioned now: every range 1a and 1b covering it."""
        if i >= self.template_from and self.template is not None:
            return self.template
        self._forget_passed()
        st = self._replay(i)
        if i >= self.template_from:
            self.template = st
        return st

    def _replay(self, i: int) -> PaxosState:
        st = initial(self.n)
        rules = _RULES
        for b, k in sorted(self.rec_1a.items()):
            if k <= i:
                st = phase1a(st, b)
        for (a, b), k in sorted(self.rec_1b.items(), key=lambda x: (x[0][1], x[0][0])):
            if k <= i and b > st.max_bal[a]:
                if (T1A, b) in st.msgs:
                    st = phase1b(st, a, b, rules)
                else:  # a late promise of a dropped ballot: only its promise is kept
                    st = st._replace(max_bal=st.max_bal[:a] + (b,) + st.max_bal[a + 1:])
        return st

    def _forget_passed(self) -> None:
        """Drop the range records of ballots whose proposers have moved on, where they
        no longer decide an acceptor's promise (see the module docstring)."""
        moved = self.moved_on
        mine: dict[int, list[tuple[int, int]]] = {}
        for (a, b), k in self.rec_1b.items():
            mine.setdefault(a, []).append((b, k))
        low = self.low_fresh  # no slot below it can be named for the first time
        for a, recs in mine.items():
            for b, k in recs:
                if moved(b) and any(b2 > b and k2 <= max(k, low) for b2, k2 in recs):
                    del self.rec_1b[(a, b)]
        alive = {b for _, b in self.rec_1b}
        gone = {b for b in self.rec_1a if moved(b) and b not in alive}
        if gone:
            for b in gone:
                del self.rec_1a[b]
            self.pruned |= gone
            self.heard = {x: v for x, v in self.heard.items() if x[1] not in gone}
            self.got1a = {x: v for x, v in self.got1a.items() if x[1] not in gone}

    def moved_on(self, b: int) -> bool:
        """Whether ballot b's proposer has since prepared a higher ballot."""
        return self.latest.get(b % self.width, b) > b

    def prepared(self, b: int) -> None:
        """Ballot b's proposer prepares it (b % width is the proposer's node index)."""
        if self.latest.get(b % self.width, NONE) < b:
            self.latest[b % self.width] = b
            if self.rec_1a:
                self.template = None  # it may now drop the proposer's lower ballots

    def record_1a(self, b: int, k: int) -> None:
        if self.rec_1a.get(b, _FAR) > k:
            self.rec_1a[b] = k
            self._new_record(k)

    def record_1b(self, a: int, b: int, k: int) -> None:
        if self.rec_1b.get((a, b), _FAR) > k:
            self.rec_1b[(a, b)] = k
            self._new_record(k)

    def _new_record(self, k: int) -> None:
        self.template = None
        self.template_from = max(self.template_from, k)

    # -- retiring and forgetting -----------------------------------------------------------

    def settle(self, i: int, slot: Slot, learners: frozenset[str]) -> None:
        """Called when slot i is chosen or a learner decided it: queue it to retire once
        every learner has decided it."""
        if slot.retired or slot.chosen is None or not learners <= slot.done.keys():
            return
        self.ready.append(i)
        if len(self.ready) >= self.ready_at:
            self.sweep()

    def sweep(self, force: bool = False) -> None:
        """Retire the ready slots LAG below the top; with `force` (too many live slots,
        learners that never decide), every chosen slot LAG below the top."""
        below = self.top - LAG
        if force:
            ready = [i for i, s in self.live.items() if s.chosen is not None and i < below]
        else:
            ready = [i for i in self.ready if i < below]
        self.ready = [i for i in self.ready if i >= below and i in self.live]
        self.ready_at = max(LAG, 2 * len(self.ready))
        for i in sorted(ready):
            slot = self.live.pop(i, None)
            if slot is not None:
                slot.retire()
                self.retired[i] = slot
        if len(self.retired) > RETIRED:
            out = sorted(self.retired)[: len(self.retired) - RETIRED // 2]
            for i in out:
                del self.retired[i]
            self.floor = max(self.floor, out[-1] + 1)
            if self.low_fresh < self.floor:  # no slot below the floor is named anew
                j = self.floor
                while j in self.live or j in self.retired:
                    j += 1
                self.low_fresh = j
        if force:
            self.sweep_at = max(LIVE_CAP, 2 * len(self.live))


_RULES = Rules()
