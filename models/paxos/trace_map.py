"""A format-2 MultiPaxos run, slot by slot, as runs of single-decree Paxos (Paxos.tla).

Paxos Made Simple §3: MultiPaxos is one instance of the Paxos consensus algorithm per
log slot, with phase 1 run for many instances at once. So conformance of a format-2
run (separate proposers, acceptors and learners; phase 1 for one slot or for every slot
from k; several proposers competing and retrying) is checked per slot against the Paxos
model of `models/paxos` (Lamport's Paxos.tla): each live slot holds a `PaxosState`, and
every protocol event is that slot's Paxos.tla action, computed by `paxos/actions.py`
(`phase1a` .. `phase2b`, `safe_values`), whose enabling condition the map checks for
the one witness the event names. Names become ints at the edge: acceptor = its index
among the header's acceptors (`membership`), quorums = the header's quorum system
(the `QuorumSystem` `-p quorums=` builds), a value = the slot's own numbering of the
commands seen in it (0 = no-op), and a ballot [round, node] = round * len(nodes) +
index(node). That number is already in ballot order, so unlike renumbering ballots in
each slot, a ballot that first appears between two known ones renames nothing.

Event by event (Paxos Made Simple §2.2 and §3; Paxos.tla's names):

- `send` prepare b (slot s, or from slot k, or from 0): Phase1a(b) in each slot it
  covers; a slot first mentioned later inherits it (every range 1a and 1b is kept
  as a record, and a new slot starts from the state those records make).
- `send` promise b by acceptor a: Phase1b(a, b) in each covered slot: a received a
  prepare of b covering the slot (or b is a's own ballot, a replica's), b above a's
  promise there, and the promise's `accepted` entry for the slot equal to a's vote
  in the model (<<maxVBal[a], maxVal[a]>>), or no entry if a has not voted there
  or knows the slot decided (it has decided or executed it, or has received what
  makes a value chosen: replicas report only what they have not executed; the
  model's 1b carries a's vote all the same). An entry above a's vote that is a 2a
  a received is the vote a stored and never sent a 2b for (a crash between the
  two): its Phase2b is taken first, as the event monitor's MP-PROMISE-REPORT allows.
  A promise for b where a is already at b (a resend, or a prepare that arrived after
  a's vote in b) is a stutter; one below a's promise in that slot (an acceptor that
  keeps per-slot promises) is a stutter too, which no proposer may count (it would
  be outside the model).
- `recv`: no step; what the receiver received is remembered (a prepare at an
  acceptor, a promise at a proposer, a 2a at an acceptor, a 2b or a decide message
  at a learner), because its next steps are judged by it, never by what others sent:
  the verdict does not depend on the order of the file's lines.
- `send` accept (2a) b, slot, v by p: Phase2a(b, v, Q) for a phase-1 quorum Q of the
  acceptors whose promises for b covering the slot p has *received*, v one of the
  values `safe_values` allows on their 1b reports; one 2a per ballot (the same 2a
  again is a stutter). A proposer that is an acceptor too counts its own promise
  without a message, and may make it as late as this step (format 1's replicas
  promise their own ballot without a message): its Phase1b is then taken here.
- `send` accepted (2b) b, slot, v by a: Phase2b(a, b, v): the 2a was sent and a
  received it (or sent it itself), and b is at least a's promise. The same 2b again
  is a stutter (Paxos.tla's `msgs` is a set).
- `decide`, `execute`, `send` decide by node x: a check, no step: x received 2bs for
  v from a phase-2 quorum in one ballot (its own vote counts) or a decide message for
  v, so v is chosen in the model; and x never decides the slot again otherwise.
  Execution order and at-most-once are the monitors'.
- everything else (requests, replies, heartbeats, nacks, notes, crashes: acceptors
  keep their promises and votes on disk) stutters.

Each event determines its step (Paxos.tla's 2a message does not name its quorum), so
the conformance frontier always holds exactly one state: `Instances`, every slot's
Paxos state plus what each node received. The map advances that state itself, in
place, and answers the validator STUTTER (nothing left to do) or `fails(reason)`: a
step costs O(1), not a copy of every live slot and a frontier set per event. A
failing event changes nothing (each step checks before it writes), so the failure
shows the state just before it; conformance ends there, as for any map. What the
window forgets, and why, is in `window.py`; what it can no longer check yields
`OutsideModel`, never a verdict.

Size: one mapping per Paxos.tla action plus the per-slot bookkeeping (slot retirement,
value numbering) they share; split apart, each would need the run's tables passed around.
"""

from __future__ import annotations

from typing import Any

from ...checker.conformance import STUTTER, OutsideModel, fails
from ..common.ids import NONE
from ..common.membership import membership
from .actions import enabled_actions, phase1a, phase1b, phase2a, phase2b, safe_values
from .mutants import Rules
from .state import T1A, T1B, T2A, T2B, PaxosState
from .window import Instances, Slot

RULES = Rules()  # the correct protocol: a trace is held to Paxos.tla itself
NOOP = 0  # every slot's value 0 is the no-op (a `null` command)


def cmd_key(cmd: dict | None) -> tuple | None:
    return None if cmd is None else (cmd["client"], cmd["req"], cmd["op"])


def cmd_text(key: tuple | None) -> str:
    return "no-op" if key is None else f"{key[0]}#{key[1]}"


class PerSlotPaxos:
    """The model the validator sees: one `Instances` state, which the map advances;
    `describe` and `actions` show the slot the last event was about (a failure's
    context)."""

    def __init__(self, trace_map: PaxosTraceMap) -> None:
        self.map = trace_map

    def init_states(self) -> list[Instances]:
        return [self.map.state]

    def next_state(self, s: Instances, a: tuple) -> Instances:
        raise NotImplementedError("the per-slot map takes its steps itself")

    def properties(self) -> tuple:
        return ()

    def actions(self, s: Instances) -> list[tuple]:
        slot = s.live.get(s.focus) or s.retired.get(s.focus)
        if slot is None:
            return []
        ballots = sorted({m[1] if m[0] != T1B else m[2] for m in slot.st.msgs if m[0] != T2B})
        acts = enabled_actions(slot.st, ballots, len(slot.names), self.map.quorums1, RULES)
        return acts[:40]

    def format_action(self, a: tuple) -> str:
        m = self.map
        name = a[0]
        if name == "Phase1a":
            return f"Phase1a(b={m.ballot_text(a[1])})"
        if name == "Phase1b":
            return f"Phase1b({m.acceptors[a[1]]}, on 1a b={m.ballot_text(a[2])})"
        slot = m.state.live.get(m.state.focus) or m.state.retired.get(m.state.focus)

        def val(v: int) -> str:
            return str(v) if slot is None or v >= len(slot.names) else cmd_text(slot.names[v])

        if name == "Phase2a":
            q = "{" + ", ".join(m.acceptors[i] for i in a[3]) + "}"
            return f"Phase2a(b={m.ballot_text(a[1])}, v={val(a[2])}, Q={q})"
        return f"Phase2b({m.acceptors[a[1]]}, b={m.ballot_text(a[2])}, v={val(a[3])})"

    def describe(self, s: Instances) -> dict[str, Any]:
        return self.map.describe_slot(s)


class PaxosTraceMap:
    def __init__(self, header: Any) -> None:
        ms = membership(header)
        self.members = ms
        self.nodes = tuple(header.nodes)
        self.node_index = {x: i for i, x in enumerate(self.nodes)}
        self.acceptors = ms.acceptors
        self.acc = ms.index  # acceptor name -> index
        self.n = len(ms.acceptors)
        logged = getattr(header, "logged", None)
        # The learners a slot waits for before it retires: those whose decisions the
        # trace can show.
        self.byzantine = frozenset(getattr(header, "byzantine", None) or ())
        self.learners = frozenset(x for x in ms.learners
                                  if (logged is None or x in logged) and x not in self.byzantine)
        self.quorums1 = ms.quorums.minimal_quorums(1)
        self.masks1 = [(sum(1 << i for i in q), q) for q in self.quorums1]
        self.phase1 = ms.quorums.phase1
        self.phase2 = ms.quorums.phase2
        self.state = Instances(self.n, len(self.nodes))
        self._quorum_memo: dict[tuple[int, int], bool] = {}
        self.text = ""  # what the last event was mapped to (describe_match)

    # -- names to ints -----------------------------------------------------------------

    def ballot(self, b: list) -> int:
        i = self.node_index.get(b[1])
        if i is None:
            raise OutsideModel(f"ballot [{b[0]}, {b[1]!r}] names no node of the header")
        return b[0] * len(self.nodes) + i

    def ballot_text(self, key: int) -> str:
        if key == NONE:
            return "none"
        r, i = divmod(key, len(self.nodes))
        return f"({r},{self.nodes[i]})"

    def is_quorum(self, mask: int, phase: int) -> bool:
        """Whether the acceptors in `mask` (bit a = acceptor a) hold a quorum of phase 1
        or 2 (memoized: a run asks about few distinct sets)."""
        memo = self._quorum_memo
        got = memo.get((mask, phase))
        if got is None:
            m = self.phase1 if phase == 1 else self.phase2
            got = memo[(mask, phase)] = m.contains_quorum(
                frozenset(a for a in range(self.n) if mask >> a & 1))
        return got

    # -- events ------------------------------------------------------------------------

    def match(self, ev: dict):
        """Take ev's step on the one state: STUTTER when it is done (or is no step),
        `fails(reason)` when Paxos has no such step; OutsideModel when the window
        cannot tell."""
        kind = ev["kind"]
        if kind == "recv":
            send = ev.get("_send")
            if send is not None and "_fault" not in ev:  # else it counts for nothing
                self._recv(ev["node"], send["node"], send["msg"])
            return STUTTER
        if kind == "send":
            msg = ev["msg"]
            t = msg.get("type")
            if t == "accepted":
                why = self._accepted(ev["node"], msg)
            elif t == "accept":
                why = self._accept(ev["node"], msg)
            elif t == "prepare":
                why = self._prepare(msg)
            elif t == "promise":
                why = self._promise(ev["node"], msg)
            elif t == "decide":
                why = self._learn(ev["node"], msg["slot"], msg["cmd"], "sends decide for",
                                  decides=False)
            else:
                return STUTTER
        elif kind == "decide" or kind == "execute":
            why = self._learn(ev["node"], ev["slot"], ev["cmd"], kind + "s")
        else:
            return STUTTER
        if why is None:
            return STUTTER
        self.text = why
        return fails(why)

    def describe_match(self, ev: dict) -> str:
        return self.text or "a stutter"

    @staticmethod
    def _scope(msg: dict) -> tuple[int | None, int]:
        """(slot, 0) for one instance, or (None, k) for every slot from k."""
        if msg.get("slot") is not None:
            return msg["slot"], 0
        return None, msg.get("from_slot") or 0

    # phase 1a ------------------------------------------------------------------------

    def _prepare(self, msg: dict) -> None:
        """Phase1a(b) in every slot the prepare covers (a later slot inherits it)."""
        s = self.state
        b = self.ballot(msg["ballot"])
        s.prepared(b)
        one, k = self._scope(msg)
        if one is not None:
            slot = s.slot(one)
            if slot is not None and not slot.retired and (T1A, b) not in slot.st.msgs:
                slot.st = phase1a(slot.st, b)
            return None
        s.record_1a(b, k)
        for i, slot in s.live.items():
            if i >= k and (T1A, b) not in slot.st.msgs:
                slot.st = phase1a(slot.st, b)
        return None

    # phase 1b ------------------------------------------------------------------------

    def _promise(self, node: str, msg: dict) -> str | None:
        """Phase1b(a, b) in every slot the promise covers, each checked before any is
        taken."""
        s = self.state
        a = self.acc.get(node)
        b = self.ballot(msg["ballot"])
        name = f"Phase1b({node}, b={self.ballot_text(b)})"
        if a is None:
            return f"{name}: {node} is not an acceptor"
        one, k = self._scope(msg)
        reported = {e[0]: (self.ballot(e[1]), cmd_key(e[2])) for e in msg.get("accepted") or ()}
        own = self.nodes[b % len(self.nodes)] == node  # a replica answering its own prepare
        far = 1 << 62
        if one is not None:
            targets = [one]
        else:
            if s.got1a.get((a, b), far) > k and not own and b not in s.pruned:
                return (f"{name} from slot {k}: {node} has received no prepare of ballot "
                        f"{self.ballot_text(b)} for every slot from {k}")
            targets = sorted({i for i in s.live if i >= k} | {i for i in s.retired if i >= k}
                             | {i for i in reported if i >= k})
        steps = []
        for i in targets:
            slot = s.slot(i)
            if slot is None:
                continue  # forgotten: nothing can read its phase 1 any more (window.py)
            if (one is not None and not own and (a, b) not in slot.got1a
                    and s.got1a.get((a, b), far) > i and b not in s.pruned):
                why = f"{node} has received no prepare of ballot {self.ballot_text(b)} for it"
            else:
                why = self._phase1b(i, slot, a, b, reported.get(i), steps, b in s.pruned)
            if why is not None:
                s.focus = i
                return f"{name} in slot {i}: {why}"
        for i, slot, st, skipped, vote in steps:
            if skipped:
                slot.skipped.add((a, b))  # below its promise there: nobody may count it
            else:
                slot.st = st
                if vote is not None:
                    self._count_votes(s, slot, vote[0], vote[1], i)
        if one is None:
            s.record_1b(a, b, k)
        return None

    def _phase1b(self, i: int, slot: Slot, a: int, b: int, entry: tuple | None, steps: list,
                 dropped: bool) -> str | None:
        """Phase1b(a, b) in one slot, added to `steps`, or why Paxos.tla has no such step.
        In a retired slot, or for a ballot whose 1a the window dropped, only maxBal
        rises: the 1b would be read by nobody (window.py)."""
        st = slot.st
        has = None
        if st.max_vbal[a] != NONE:
            has = (st.max_vbal[a], slot.names[st.max_val[a]])
        vote = None
        if entry is not None and entry != has and (has is None or entry[0] > has[0]):
            # The acceptor received the 2a it reports, stored the vote, and never sent
            # its 2b: a crash between the two (an acceptor writes its vote to disk
            # before it sends it, Paxos Made Simple §3), or a 2b that went nowhere. The
            # model's Phase2b took place then, its 2b lost; it is taken here, where the
            # promise shows it, if Phase2b could still be taken (b at least the promise).
            vb, v = entry[0], slot.value(entry[1])
            if ((a, vb, v) in slot.got2a and (T2A, vb, v) in st.msgs
                    and vb >= st.max_bal[a]):
                st = phase2b(st, a, vb, v, RULES)
                has, vote = entry, (vb, v)
        if entry != has and not (entry is None and self._knows_decided(slot, self.acceptors[a])):
            def shown(x):
                return "no vote" if x is None else \
                    f"a vote for {cmd_text(x[1])} in ballot {self.ballot_text(x[0])}"
            return (f"the promise reports {shown(entry)}, but {self.acceptors[a]}'s last vote "
                    f"there is {shown(has)} (a promise reports the acceptor's own votes)")
        mb = st.max_bal[a]
        if b > mb:
            if slot.retired or (dropped and (T1A, b) not in st.msgs):
                steps.append((i, slot, st._replace(
                    max_bal=st.max_bal[:a] + (b,) + st.max_bal[a + 1:]), False, vote))
            elif (T1A, b) not in st.msgs:
                return f"no prepare of ballot {self.ballot_text(b)} reached this slot"
            else:
                steps.append((i, slot, phase1b(st, a, b, RULES), False, vote))
        elif b < mb and not any(m[0] == T1B and m[1] == a and m[2] == b for m in st.msgs):
            steps.append((i, slot, slot.st, True, None))
        elif vote is not None:
            steps.append((i, slot, st, False, vote))
        return None  # at b already: a promise sent again, or after voting in b: a stutter

    # what proposers, acceptors and learners received -----------------------------------

    def _recv(self, node: str, sender: str, msg: dict) -> None:
        """Remember a received message: the receiver's later steps are judged by it."""
        t = msg.get("type")
        s = self.state
        if t == "accepted":
            a = self.acc.get(sender)
            slot = s.slot(msg["slot"])
            if a is not None and slot is not None and node not in slot.done:
                heard = slot.votes.get(node)
                if heard is None:
                    heard = slot.votes[node] = {}
                key = (self.ballot(msg["ballot"]), slot.value(cmd_key(msg["cmd"])))
                heard[key] = heard.get(key, 0) | 1 << a
        elif t == "accept":
            a = self.acc.get(node)
            slot = s.slot(msg["slot"])
            if a is not None and slot is not None:
                slot.got2a.add((a, self.ballot(msg["ballot"]), slot.value(cmd_key(msg["cmd"]))))
        elif t == "promise":
            a = self.acc.get(sender)
            if a is None:
                return
            b = self.ballot(msg["ballot"])
            one, k = self._scope(msg)
            if one is None:
                got = s.heard.setdefault((node, b), {})
                if got.get(a, 1 << 62) > k:
                    got[a] = k
            else:
                slot = s.slot(one)
                if slot is not None:
                    slot.heard.setdefault((node, b), set()).add(a)
        elif t == "prepare":
            a = self.acc.get(node)
            if a is None:
                return
            b = self.ballot(msg["ballot"])
            one, k = self._scope(msg)
            if one is None:
                if s.got1a.get((a, b), 1 << 62) > k:
                    s.got1a[(a, b)] = k
            else:
                slot = s.slot(one)
                if slot is not None:
                    slot.got1a.add((a, b))
        elif t == "decide":
            slot = s.slot(msg["slot"])
            if slot is not None:
                slot.told.add((node, slot.value(cmd_key(msg["cmd"]))))

    # phase 2a ------------------------------------------------------------------------

    def _accept(self, node: str, msg: dict) -> str | None:
        s = self.state
        b, i, c = self.ballot(msg["ballot"]), msg["slot"], cmd_key(msg["cmd"])
        slot = s.slot(i)
        if slot is None:
            raise OutsideModel(f"a 2a in slot {i}, which the window has forgotten")
        s.focus = i
        v = slot.value(c)
        name = f"Phase2a(b={self.ballot_text(b)}, slot {i}, {cmd_text(c)}) by {node}"
        for m in slot.st.msgs:
            if m[0] == T2A and m[1] == b:
                if m[2] == v:
                    return None  # the same 2a again
                return (f"{name}: ballot {self.ballot_text(b)} already proposed "
                        f"{cmd_text(slot.names[m[2]])} in this slot (one 2a per ballot)")
        why = self._phase2a(s, slot, node, b, v, i)
        if why is not None:
            return f"{name}: {why}"
        slot.sender[b] = node
        return None

    def _received(self, s: Instances, slot: Slot, node: str, b: int, i: int) -> int:
        """Acceptors whose promise of b covering slot i `node` has received, as a mask."""
        mask = 0
        for a in slot.heard.get((node, b), ()):
            mask |= 1 << a
        for a, k in s.heard.get((node, b), {}).items():
            if k <= i:
                mask |= 1 << a
        return mask

    def _phase2a(self, s: Instances, slot: Slot, node: str, b: int, v: int, i: int) -> str | None:
        heard = self._received(s, slot, node, b, i)
        st = slot.st
        me = self.acc.get(node)  # a proposer that is an acceptor knows its own promise
        if slot.retired:
            if me is not None and st.max_bal[me] <= b:
                heard |= 1 << me
            return self._phase2a_retired(slot, heard, b, v)
        mine = 0 if me is None else 1 << me
        reports: dict[int, list[tuple[int, int]]] = {}
        for m in st.msgs:
            if m[0] == T1B and m[2] == b and (heard | mine) >> m[1] & 1:
                reports.setdefault(m[1], []).append((m[3], m[4]))
        have = sum(1 << a for a in reports)
        if self._safe(reports, have, v, len(slot.names)):
            slot.st = phase2a(st, b, v)
            return None
        # ... and may promise its own ballot as late as this step, without a message.
        if me is not None and not have >> me & 1 and b > st.max_bal[me] and (T1A, b) in st.msgs:
            t = phase1b(st, me, b, RULES)
            mine = dict(reports)
            mine[me] = [(t.max_vbal[me], t.max_val[me])]
            if self._safe(mine, have | 1 << me, v, len(slot.names)):
                slot.st = phase2a(t, b, v)
                return None
        lacking = [a for a in range(self.n) if (heard & ~have) >> a & 1]
        if b in s.pruned or any((a, b) in slot.skipped for a in lacking):
            raise OutsideModel(f"a 2a in ballot {self.ballot_text(b)}, whose promises the "
                               "window has dropped (its proposer had moved on), or counting "
                               f"promises below their acceptor's promise in slot {i}")
        if not self.is_quorum(have, 1):
            names = ", ".join(self.acceptors[a] for a in range(self.n) if have >> a & 1)
            return (f"{node} has received promises for this ballot and slot from "
                    f"{{{names}}} only, not {self.members.describe(1)}")
        return (f"{cmd_text(slot.names[v])} is not what Phase2a allows on the promises "
                f"{node} received ({self._reports_text(slot, reports)}): in every phase-1 "
                "quorum among them, the highest-ballot vote reported is for another value, "
                "which must be proposed (Paxos Made Simple §2.2, P2c)")

    def _safe(self, reports: dict, have: int, v: int, n_values: int) -> bool:
        for mask, q in self.masks1:
            if mask & ~have == 0 and v in safe_values(reports, q, n_values, RULES):
                return True
        return False

    def _reports_text(self, slot: Slot, reports: dict) -> str:
        out = []
        for a in sorted(reports):
            vb, vv = reports[a][0]
            out.append(f"{self.acceptors[a]}: " + ("no vote" if vb == NONE else
                       f"{cmd_text(slot.names[vv])} in {self.ballot_text(vb)}"))
        return "; ".join(out)

    def _phase2a_retired(self, slot: Slot, heard: int, b: int, v: int) -> str | None:
        """A late 2a in a chosen slot whose 1b messages the window dropped: in a ballot
        above the chosen one, Paxos allows only the chosen value (P2c), and still only
        after promises from a phase-1 quorum (window.py says why that is the whole
        rule); below it the dropped 1bs would be needed."""
        bc, vc = slot.chosen
        if b < bc:
            raise OutsideModel(f"a 2a in ballot {self.ballot_text(b)}, below the ballot the "
                               "slot was chosen in, after the window dropped its promises")
        if not self.is_quorum(heard, 1):
            return f"the proposer has not received promises from {self.members.describe(1)}"
        if v != vc:
            return (f"the slot is chosen ({cmd_text(slot.names[vc])} in ballot "
                    f"{self.ballot_text(bc)}): a higher ballot may propose only that (P2c)")
        slot.st = phase2a(slot.st, b, v)
        return None

    # phase 2b ------------------------------------------------------------------------

    def _accepted(self, node: str, msg: dict) -> str | None:
        s = self.state
        a = self.acc.get(node)
        b, i, c = self.ballot(msg["ballot"]), msg["slot"], cmd_key(msg["cmd"])
        if a is None:
            return f"a 2b by {node}, which is not an acceptor"
        slot = s.slot(i)
        if slot is None:
            raise OutsideModel(f"a 2b in slot {i}, which the window has forgotten")
        s.focus = i
        v = slot.value(c)
        st = slot.st
        if (T2B, a, b, v) in st.msgs:
            return None  # the same 2b again
        why = None
        if (T2A, b, v) not in st.msgs:
            why = "no 2a with this ballot and value was sent in this slot"
        elif (a, b, v) not in slot.got2a and slot.sender.get(b) != node:
            why = f"{node} has not received the 2a"
        elif b < st.max_bal[a]:
            was = ("accepted in" if any(m[0] == T2B and m[1] == a and m[2] == st.max_bal[a]
                                        for m in st.msgs) else "promised")
            why = (f"{node} has {was} ballot {self.ballot_text(st.max_bal[a])} here: an "
                   "acceptor never accepts a proposal numbered below one it promised "
                   "(Paxos Made Simple, P1a)")
        if why is not None:
            return f"Phase2b({node}, b={self.ballot_text(b)}, slot {i}, {cmd_text(c)}): {why}"
        slot.st = phase2b(st, a, b, v, RULES)
        self._count_votes(s, slot, b, v, i)
        return None

    def _count_votes(self, s: Instances, slot: Slot, b: int, v: int, i: int) -> None:
        """After a vote for v in b: v is chosen once a phase-2 quorum voted for it."""
        if slot.chosen is None:
            voted = 0
            for m in slot.st.msgs:
                if m[0] == T2B and m[2] == b and m[3] == v:
                    voted |= 1 << m[1]
            if self.is_quorum(voted, 2):
                slot.chosen = (b, v)
                s.settle(i, slot, self.learners)

    # learning ------------------------------------------------------------------------

    def _learn(self, node: str, i: int, cmd: dict | None, what: str,
               decides: bool = True) -> str | None:
        if node in self.byzantine:
            return None  # a faulty learner's decisions are not held to the protocol
        s = self.state
        slot = s.slot(i)
        if slot is None:
            return None  # forgotten: agreement there is the monitors' (window.py)
        s.focus = i
        c = cmd_key(cmd)
        v = slot.value(c)
        name = f"{node} {what} {cmd_text(c)} in slot {i}"
        before = slot.done.get(node)
        if before is not None:
            if before == v:
                return None
            return (f"{name}, after deciding {cmd_text(slot.names[before])} there: a value "
                    "once chosen stays chosen")
        if not self._knows_chosen(slot, node, v):
            return (f"{name}, which it does not know chosen: it has received neither 2b "
                    f"votes for it from {self.members.describe(2)} in one ballot, nor a "
                    "decide message for it")
        if decides:
            slot.done[node] = v
            slot.votes.pop(node, None)
            s.settle(i, slot, self.learners)
        return None

    def _knows_decided(self, slot: Slot, node: str) -> bool:
        """Whether `node` knows some value chosen in the slot: then its promise may
        leave the slot out (a replica reports only what it has not executed). The
        model's 1b still carries its vote: a proposer that ignores the slot's value
        proposes there at its peril (P2c)."""
        if node in slot.done:
            return True
        return any(self._knows_chosen(slot, node, v) for v in range(len(slot.names)))

    def _knows_chosen(self, slot: Slot, node: str, v: int) -> bool:
        """`node` received 2bs for v from a phase-2 quorum in one ballot (its own vote
        counts, if it is an acceptor), or a decide message for v. Judged by what the
        node received, so the verdict does not depend on the order of the file."""
        if (node, v) in slot.told:
            return True
        me = self.acc.get(node)
        heard = dict(slot.votes.get(node, {}))
        if me is not None:
            for m in slot.st.msgs:
                if m[0] == T2B and m[1] == me and m[3] == v:
                    heard[(m[2], v)] = heard.get((m[2], v), 0) | 1 << me
        return any(w == v and self.is_quorum(mask, 2) for (b, w), mask in heard.items())

    # a failure's context ---------------------------------------------------------------

    def describe_slot(self, s: Instances) -> dict[str, Any]:
        slot = s.live.get(s.focus) or s.retired.get(s.focus)
        if slot is None:
            return {"slot": s.focus, "state": "not held"}
        st: PaxosState = slot.st
        accs = self.acceptors

        def val(v: int) -> str:
            return "None" if v == NONE else cmd_text(slot.names[v])

        def msg(m: tuple) -> str:
            if m[0] == T1A:
                return f"1a {self.ballot_text(m[1])}"
            if m[0] == T1B:
                vote = "no vote" if m[3] == NONE else f"vote {self.ballot_text(m[3])} {val(m[4])}"
                return f"1b {accs[m[1]]} {self.ballot_text(m[2])} {vote}"
            if m[0] == T2A:
                return f"2a {self.ballot_text(m[1])} {val(m[2])}"
            return f"2b {accs[m[1]]} {self.ballot_text(m[2])} {val(m[3])}"

        return {
            "slot": s.focus,
            "retired": slot.retired,
            "maxBal": {accs[a]: self.ballot_text(x) for a, x in enumerate(st.max_bal)},
            "maxVBal": {accs[a]: self.ballot_text(x) for a, x in enumerate(st.max_vbal)},
            "maxVal": {accs[a]: val(x) for a, x in enumerate(st.max_val)},
            "msgs": sorted(msg(m) for m in st.msgs),
            "chosen": None if slot.chosen is None else val(slot.chosen[1]),
        }


def for_header(header: Any, monitor: Any = None) -> tuple[PerSlotPaxos, PaxosTraceMap]:
    """The per-slot Paxos model of a format-2 MultiPaxos run, and the map into it."""
    ms = membership(header)
    if ms.quorums.byzantine:
        raise OutsideModel("paxos tolerates crashes only; the header's quorum system "
                           f"{ms.quorums.name} is Byzantine")
    logged = getattr(header, "logged", None)
    shown = set(header.nodes) if logged is None else set(logged)
    bad = set(getattr(header, "byzantine", None) or ())
    for x in ms.proposers + ms.acceptors:
        if x in bad:
            raise OutsideModel(f"{x} is Byzantine; the Paxos model has crash faults only")
        if x not in shown:
            raise OutsideModel(f"{x}'s events are not logged; the Paxos model needs every "
                               "proposer's and acceptor's steps")
    m = PaxosTraceMap(header)
    return PerSlotPaxos(m), m

