"""The steps of MultiPaxos (Paxos Made Simple §3), each a guard beside its effect.

§3 builds a replicated state machine from a sequence of Paxos instances, one per log
slot, run by a distinguished leader. Each step below is a step of §2's algorithm
applied to every slot at once, or to one slot:

- Prepare(r, b): replica r, wanting to lead, picks a ballot b = (round, r) above any
  it has seen and sends one prepare request (1a) for *all* slots. §3: a new leader
  executes phase 1 for infinitely many instances at once, with one proposal number
  and one reasonably short message. Its own acceptor promises at once (a message to
  itself). As `messages` explains, the model's ballots are rounds, each claimed by
  one replica.
- Promise(a, b): on a 1a with b above its promise, acceptor a promises b and reports,
  for every slot, the value it accepted with the highest ballot (§2.2 phase 1(b));
  §3: acceptors answer for all instances at once, reporting the few where they have
  accepted something. Only while b's leader still collects promises (`collecting`).
- Lead(r, Q): once a quorum Q has promised r's ballot, r has finished phase 1. In
  every slot where Q reports a value it re-proposes the one with the highest ballot
  (phase 2(a), §2.2 P2c); every lower slot with no report it fills with a no-op,
  which leaves the state unchanged, so that no gap stalls execution. §3's example:
  a leader that knows commands 1-134, 138 and 139 runs phase 1 for 135-137 and all
  slots above 139, re-proposes the values phase 1 shows determined (say in 135 and
  140) and fills the gaps (136, 137) with no-ops. Slots above the highest reported
  one are left for new commands.
- Propose(r, c): the stable leader proposes client command c in its next free slot
  with phase 2 alone; §3: once phase 1 is done for all instances, each further
  command costs only phase 2, the point of MultiPaxos. A leader proposes each
  command once per ballot; it does not check the values phase 1 made it re-propose
  (nothing says they were chosen), so one command can be chosen in two slots and
  replicas must execute it only once.
- Accept(a, b, slot, v): on a 2a whose ballot is at least its promise, acceptor a
  accepts it and tells the learners (phase 2(b), with a 2b message).
- Execute(r, v): r's learner has learned that v is chosen in r's next slot, because a
  quorum accepted v in one ballot, and r executes it, in slot order, a command already
  executed at most once (a duplicate, like a no-op, changes nothing).

  Learners are where the model trades interleavings for size. A live replica learns
  and executes *promptly*: within the step (Accept) that makes a value learnable.
  Only a replica that restarts (recovery=durable) catches up at its own pace, with
  explicit Execute steps, until nothing is left to learn. The protocol never reads
  the logs, so this changes no protocol state; with every learner lagging at will
  the logs of 3 replicas would multiply the space by up to (slots+1)^3. A learner
  that lags without crashing is, for safety, one that crashed and restarted with
  its state intact, so a lagging learner needs a crash in the budget; with
  crash-stop, live learners never diverge by lagging (the properties on logs then
  check at-most-once execution and that prompt learners agree).
- Crash(r) / Restart(r): crash-stop within the crash budget; with recovery=durable a
  crashed replica restarts with its acceptor state (promise, accepted values) intact
  and its leadership forgotten.

Omission and Byzantine faults (`-p faults=omission|byzantine -p faulty=K`) add
PromiseLost(a, b), a promise whose 1b is lost, and liars whose messages are sent
from the start; `faults.py` explains both.

The network is a parameter (`network`): each step receives at most one message
(Promise a 1a, Accept a 2a; Lead the 1bs of its quorum) and sends some, and the
network decides what is receivable and what sending and receiving do to the messages
in flight; with bag and fifo its own Drop and Duplicate steps interleave with these.

Each step is a guard (`*_enabled`, which appends the step's enabled witnesses to
`out`) beside its effect, enabling condition first as in Paxos.tla; `step` refuses
an action it does not know. Mutants flip one `Rules` switch; the code path is the same.

Size: the whole step relation of one protocol, ten steps (eight of the paper's, the
crash and restart, and PromiseLost) each a guard beside its effect so that each reads
against the paper; splitting them across modules would part guards from effects.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from itertools import product

from ..common.ids import NONE
from .faults import lies
from .messages import NOOP, P1A, P1B, P2A, P2B
from .mutants import Rules
from .network import Network
from .state import CATCHING_UP, DOWN, UP, Accepted, MPState, set_at

Acceptances = dict[tuple[int, int, int], set[int]]  # (slot, ballot, value) -> acceptors
Promises = dict[int, dict[int, Accepted]]  # ballot -> acceptor -> its 1b's report


class Config:
    """The constants of one model instance, fixed at build time."""

    def __init__(self, n: int, slots: int, max_round: int, commands: int, crashes: int,
                 durable: bool, quorums: tuple[tuple[int, ...], ...], rules: Rules,
                 quorum_size: int | None = None, net: Network | None = None,
                 omitting: frozenset[int] = frozenset(),
                 liars: frozenset[int] = frozenset()) -> None:
        self.n, self.slots, self.max_round, self.commands = n, slots, max_round, commands
        self.crashes, self.durable, self.rules = crashes, durable, rules
        # Flexible Paxos: a leader leads on the promises of a phase-1 quorum (`quorums`),
        # a value is chosen by `quorum_size` acceptances (phase 2). Equal in Paxos.
        self.quorums = quorums
        self.quorum_size = len(quorums[0]) if quorum_size is None else quorum_size
        self.empty: Accepted = ((NONE, NONE),) * slots
        self.net = Network("sent-set", n) if net is None else net
        # Faulty replicas (module docstring): those that may lose their 1bs and 2bs,
        # and the Byzantine ones, whose messages are `lies` and who take no step.
        self.omitting, self.liars = omitting, liars
        self.faulty = omitting | liars  # never renamed into a correct replica
        self.acting = tuple(r for r in range(n) if r not in liars)
        self.lies = frozenset(m for a in sorted(liars)
                              for m in lies(a, max_round, slots, commands))
        # ballot -> liar -> every report its 1bs for the ballot make.
        self.lie_reports = {b: {a: tuple(sorted(m[3] for m in self.lies
                                                if m[0] == P1B and m[1] == a and m[2] == b))
                                for a in sorted(liars)}
                            for b in range(max_round)}

    def chooses(self, acceptors: Collection[int]) -> bool:
        """Whether `acceptors`, having accepted one value in one ballot, chose it: a
        phase-2 quorum (§2.3), by size, as `spec._size_quorums` makes every quorum."""
        return len(acceptors) >= self.quorum_size


# -- what the steps share ---------------------------------------------------------------


def sent(s: MPState, src: int, dsts, msgs: list[tuple], cfg: Config) -> tuple:
    """s.net with each of msgs sent from src to each of dsts."""
    if cfg.net.sent_set:
        return s.net
    return cfg.net.send(s.net, [(src, d, m) for m in msgs for d in dsts])


def received(s: MPState, dst: int, m: tuple, cfg: Config) -> MPState:
    """s with one copy of m, addressed to dst, taken off the network."""
    if cfg.net.sent_set:
        return s
    return s._replace(net=cfg.net.receive(s.net, dst, m, s.owner))


def classify(msgs, acceptances: Acceptances | None = None) -> tuple:
    """The 1a ballots, the 1b reports and the (ballot, slot, value) of the 2a messages
    among `msgs`; 2b messages go into `acceptances` when it is given."""
    one_a: set[int] = set()
    promises: Promises = {}
    two_a: list[tuple[int, int, int]] = []
    for m in msgs:
        kind = m[0]
        if kind == P1A:
            one_a.add(m[1])
        elif kind == P1B:
            promises.setdefault(m[2], {})[m[1]] = m[3]
        elif kind == P2A:
            two_a.append(m[1:])
        elif acceptances is not None:
            acceptances.setdefault((m[3], m[2], m[4]), set()).add(m[1])
    return one_a, promises, two_a


def collecting(s: MPState, b: int) -> bool:
    """Whether the owner of ballot b still waits for promises (is in its phase 1).

    A promise that no leader will read has one effect, blocking lower ballots at
    its acceptor, and an acceptor that never receives those lower messages behaves
    the same; so the model lets acceptors promise only to a live phase 1."""
    o = s.owner[b]
    return s.up[o] != DOWN and s.lead[o] == b and s.next_slot[o] == NONE


# -- Prepare(r, b) ----------------------------------------------------------------------


def prepare_enabled(s: MPState, r: int, cfg: Config, out: list[tuple]) -> None:
    """Any ballot no replica has claimed, above every ballot r has seen (its promise,
    and the ballot it led)."""
    owner = s.owner
    for b in range(max(s.max_bal[r], s.lead[r]) + 1, cfg.max_round):
        if owner[b] == NONE:
            out.append(("Prepare", r, b))


def prepare(s: MPState, r: int, b: int, cfg: Config) -> MPState:
    owner = set_at(s.owner, b, r)
    if not cfg.rules.run_phase1:
        return s._replace(
            lead=set_at(s.lead, r, b), next_slot=set_at(s.next_slot, r, 0),
            fresh=set_at(s.fresh, r, 0), owner=owner,
        )
    one_b = (P1B, r, b, report(s.accepted[r], b, cfg.rules))
    s = s._replace(owner=owner)
    net = sent(s, r, [d for d in range(cfg.n) if d != r], [(P1A, b)], cfg)
    net = cfg.net.send(net, [(r, r, one_b)]) if not cfg.net.sent_set else net
    return s._replace(
        max_bal=set_at(s.max_bal, r, b),
        lead=set_at(s.lead, r, b),
        next_slot=set_at(s.next_slot, r, NONE),
        fresh=set_at(s.fresh, r, NONE),
        msgs=s.msgs | {(P1A, b), one_b},
        net=net,
    )


# -- Promise(a, b) ----------------------------------------------------------------------


def promise_enabled(s: MPState, a: int, one_a: set[int], out: list[tuple]) -> None:
    """A 1a that a can receive, above its promise, from a leader still in phase 1."""
    mb = s.max_bal[a]
    for b in sorted(one_a):
        if b > mb and collecting(s, b):
            out.append(("Promise", a, b))


def report(accepted: Accepted, b: int, rules: Rules) -> Accepted:
    if rules.report_vote_ballot:
        return accepted
    return tuple((b, vv) for _, vv in accepted)


def promise(s: MPState, a: int, b: int, cfg: Config) -> MPState:
    s = received(s, a, (P1A, b), cfg)
    one_b = (P1B, a, b, report(s.accepted[a], b, cfg.rules))
    return s._replace(
        max_bal=set_at(s.max_bal, a, b),
        msgs=s.msgs | {one_b},
        net=sent(s, a, (s.owner[b],), [one_b], cfg),
    )


# -- Lead(r, Q) -------------------------------------------------------------------------


def lead_enabled(s: MPState, r: int, promises: Promises, cfg: Config, out: list) -> None:
    """r is in phase 1 of its ballot and can receive the promises of a phase-1 quorum
    Q; the values it will re-propose are part of the action, for the reader."""
    mine = s.lead[r]
    if mine == NONE or s.next_slot[r] != NONE:
        return
    reports = promises.get(mine, {})
    for q in cfg.quorums:
        if not all(a in reports for a in q):
            continue
        if not cfg.liars or not cfg.liars.intersection(q):
            out.append(("Lead", r, q, recovered_values([reports[a] for a in q], cfg)))
            continue
        # A liar has many 1bs for the ballot: the leader may read any one of them.
        lied = cfg.lie_reports[mine]
        options = [lied[a] if a in lied else (reports[a],) for a in q]
        for values in sorted({recovered_values(list(pick), cfg) for pick in product(*options)}):
            out.append(("Lead", r, q, values))


def recovered_values(reports: list[Accepted], cfg: Config) -> tuple[int, ...]:
    """What a new leader proposes in slots 0..k from its quorum's reports (phase 2(a)).

    Per slot, the value accepted with the highest ballot among the reports; NOOP in a
    slot with no report below the highest reported slot; nothing above it."""
    rules = cfg.rules
    out: list[int] = []
    for slot in range(cfg.slots):
        voted = [rep[slot] for rep in reports if rep[slot][0] != NONE]
        if not voted or not rules.respect_promised_values:
            out.append(NOOP)
        elif rules.highest_ballot_value:
            out.append(max(voted)[1])
        else:
            out.append(min(voted)[1])
    while out and out[-1] == NOOP:
        out.pop()
    if not rules.respect_promised_values:
        return ()
    return tuple(out)


def lead(s: MPState, r: int, values: tuple[int, ...], cfg: Config,
         reports: tuple[tuple, ...] = ()) -> MPState:
    """`reports`: the quorum's 1b messages, received here (bag and fifo)."""
    b = s.lead[r]
    for m in reports:
        s = received(s, r, m, cfg)
    two_a = [(P2A, b, slot, v) for slot, v in enumerate(values)]
    return s._replace(
        next_slot=set_at(s.next_slot, r, len(values)),
        fresh=set_at(s.fresh, r, len(values)),
        msgs=s.msgs | set(two_a),
        net=sent(s, r, range(cfg.n), two_a, cfg),
    )


def lead_step(s: MPState, r: int, quorum: tuple[int, ...], values: tuple[int, ...],
              cfg: Config) -> MPState:
    """Lead as `step` applies it: with bag and fifo the quorum's 1bs are received."""
    if cfg.net.sent_set:
        return lead(s, r, values, cfg)
    b = s.lead[r]
    reports = {m[1]: m for m in cfg.net.inbox(s.net, r) if m[0] == P1B and m[2] == b}
    return lead(s, r, values, cfg, tuple(reports[a] for a in quorum))


# -- Propose(r, c) ----------------------------------------------------------------------


def propose_enabled(s: MPState, r: int, proposed: list[tuple[int, int, int]],
                    cfg: Config, out: list[tuple]) -> None:
    """r is a stable leader with a free slot, and c a command it has not proposed in
    its ballot; `proposed`: every 2a sent, as (ballot, slot, value)."""
    mine, slot = s.lead[r], s.next_slot[r]
    if mine == NONE or slot == NONE or slot >= cfg.slots:
        return
    # What it re-proposed from its phase 1 (below `fresh`) it does not check: nothing
    # says that was chosen (so a command may be chosen twice, and run once).
    first = s.fresh[r]
    taken = {v for bb, sl, v in proposed if bb == mine and sl >= first}
    for c in range(cfg.commands):
        if c not in taken:
            out.append(("Propose", r, c))


def propose(s: MPState, r: int, c: int, cfg: Config) -> MPState:
    slot = s.next_slot[r]
    two_a = (P2A, s.lead[r], slot, c)
    return s._replace(
        next_slot=set_at(s.next_slot, r, slot + 1),
        msgs=s.msgs | {two_a},
        net=sent(s, r, range(cfg.n), [two_a], cfg),
    )


# -- Accept(a, b, slot, v) --------------------------------------------------------------


def accept_enabled(s: MPState, a: int, two_a: list[tuple[int, int, int]], cfg: Config,
                   out: list[tuple]) -> None:
    """A 2a that a can receive, at or above its promise, that it has not accepted."""
    mb, acc = s.max_bal[a], s.accepted[a]
    keep_promise = cfg.rules.respect_promise
    for b, slot, v in two_a:
        if (b >= mb or not keep_promise) and acc[slot] != (b, v):
            out.append(("Accept", a, b, slot, v))


def accept(s: MPState, a: int, b: int, slot: int, v: int, cfg: Config) -> MPState:
    # As Paxos.tla's Phase2b, accepting raises the promise to the ballot accepted.
    # The 2b goes to the learners, which read it from msgs (see `network`).
    s = received(s, a, (P2A, b, slot, v), cfg)
    return s._replace(
        max_bal=set_at(s.max_bal, a, b),
        accepted=set_at(s.accepted, a, set_at(s.accepted[a], slot, (b, v))),
        msgs=s.msgs | {(P2B, a, b, slot, v)},
    )


def promise_lost(s: MPState, a: int, b: int, cfg: Config) -> MPState:
    """Promise by an omission-faulty acceptor whose 1b is lost."""
    s = received(s, a, (P1A, b), cfg)
    return s._replace(max_bal=set_at(s.max_bal, a, b))


def accept_and_learn(s: MPState, a: int, b: int, slot: int, v: int, cfg: Config) -> MPState:
    """Accept, then the prompt learners learn what it made learnable (module docstring)."""
    t = accept(s, a, b, slot, v, cfg)
    # Prompt replicas learned all they could before this step: only one waiting on
    # this very slot can learn now, and (learning from one ballot) only if this accept
    # completed a phase-2 quorum for its own ballot and value.
    up, log = t.up, t.log
    if not any(up[r] == UP and len(log[r]) == slot for r in cfg.acting):
        return t
    if cfg.rules.learn_one_ballot:
        ours = {m[1] for m in t.msgs if m[0] == P2B and m[2] == b and m[3] == slot and m[4] == v}
        if not cfg.chooses(ours):
            return t
    return learn_promptly(t, cfg)


# -- learning, and Execute(r, v) ----------------------------------------------------------


def accepted_by(s: MPState) -> Acceptances:
    """(slot, ballot, value) -> the acceptors whose 2b for it is in msgs."""
    out: Acceptances = {}
    for m in s.msgs:
        if m[0] == P2B:
            out.setdefault((m[3], m[2], m[4]), set()).add(m[1])
    return out


def learned(s: MPState, r: int, cfg: Config, acceptances: Acceptances) -> list[int]:
    """The values r's learner knows are chosen in r's next slot, in value order."""
    slot = len(s.log[r])
    if slot >= cfg.slots:
        return []
    if cfg.rules.learn_one_ballot:
        return sorted({v for (sl, _, v), accs in acceptances.items()
                       if sl == slot and cfg.chooses(accs)})
    # Mutant: one counter per (slot, value), bumped by every accept in any ballot, so
    # an acceptor that accepted v in two ballots counts twice.
    counts: dict[int, int] = {}
    for (sl, _, v), accs in acceptances.items():
        if sl == slot:
            counts[v] = counts.get(v, 0) + len(accs)
    return sorted(v for v, c in counts.items() if c >= cfg.quorum_size)


def execute_enabled(s: MPState, r: int, acceptances: Acceptances, cfg: Config,
                    out: list[tuple]) -> None:
    """Only a catching-up replica: a prompt one learns within Accept (module docstring)."""
    if s.up[r] == CATCHING_UP:
        for v in learned(s, r, cfg, acceptances):
            out.append(("Execute", r, v))


def execute(s: MPState, r: int, v: int, cfg: Config) -> MPState:
    log = s.log[r]
    duplicate = v in log and cfg.rules.skip_executed
    return s._replace(log=set_at(s.log, r, log + (NOOP if duplicate else v,)))


def execute_step(s: MPState, r: int, v: int, cfg: Config) -> MPState:
    """Execute as `step` applies it: a replica with nothing left to learn is prompt."""
    t = execute(s, r, v, cfg)
    return caught_up(t, r, cfg, accepted_by(t))


def caught_up(s: MPState, r: int, cfg: Config, acceptances: Acceptances) -> MPState:
    """A catching-up replica with nothing left to learn is prompt again."""
    if s.up[r] == CATCHING_UP and not learned(s, r, cfg, acceptances):
        return s._replace(up=set_at(s.up, r, UP))
    return s


def learn_promptly(s: MPState, cfg: Config) -> MPState:
    """Every prompt replica executes all it can learn, in slot order.

    Where a mutant makes several values learnable in one slot it takes the least; a
    catching-up replica can take any (see the module docstring)."""
    acceptances = None
    for r in cfg.acting:
        if s.up[r] != UP or len(s.log[r]) >= cfg.slots:
            continue
        if acceptances is None:
            acceptances = accepted_by(s)
        while True:
            values = learned(s, r, cfg, acceptances)
            if not values:
                break
            s = execute(s, r, values[0], cfg)
    return s


# -- Crash(r) and Restart(r) --------------------------------------------------------------


def crash_enabled(s: MPState, r: int, cfg: Config, out: list[tuple]) -> None:
    """A live replica, while the crash budget lasts."""
    if s.crashes < cfg.crashes:
        out.append(("Crash", r))


def crash(s: MPState, r: int, cfg: Config) -> MPState:
    # A crashed replica's leadership is volatile: clearing it now, not at restart,
    # merges states that differ only in what a dead replica would have done. Under
    # crash-stop its acceptor state is never read again either (its messages stay in
    # msgs, its log stays for the properties), so it is cleared too.
    s = s._replace(
        up=set_at(s.up, r, DOWN),
        crashes=s.crashes + 1,
        lead=set_at(s.lead, r, NONE),
        next_slot=set_at(s.next_slot, r, NONE),
        fresh=set_at(s.fresh, r, NONE),
    )
    if cfg.durable:
        return s
    return s._replace(max_bal=set_at(s.max_bal, r, NONE),
                      accepted=set_at(s.accepted, r, cfg.empty))


def restart_enabled(s: MPState, r: int, cfg: Config, out: list[tuple]) -> None:
    """A crashed replica, with recovery=durable."""
    if cfg.durable:
        out.append(("Restart", r))


def restart(s: MPState, r: int, cfg: Config) -> MPState:
    """Back up with acceptor state (and log) intact, to catch up at its own pace."""
    s = s._replace(up=set_at(s.up, r, CATCHING_UP))
    if not cfg.rules.durable_acceptor:
        s = s._replace(max_bal=set_at(s.max_bal, r, NONE),
                       accepted=set_at(s.accepted, r, cfg.empty))
    return caught_up(s, r, cfg, accepted_by(s))


# -- the step relation ----------------------------------------------------------------------


def enabled_actions(s: MPState, cfg: Config) -> list[tuple]:
    """Every enabled (step, witnesses...) tuple of s, in a fixed order: replica by
    replica, its steps in the order above; then the network's own steps."""
    acceptances: Acceptances = {}
    one_a, promises, two_a = classify(s.msgs, acceptances)
    two_a.sort()
    proposed = two_a  # every 2a sent: what leaders proposed is their own memory
    net = cfg.net
    out: list[tuple] = []
    for r in cfg.acting:
        if s.up[r] == DOWN:
            restart_enabled(s, r, cfg, out)
            continue
        start = len(out)
        if not net.sent_set:
            # What r can receive: the network's choice, not everything ever sent.
            one_a, promises, two_a = classify(net.inbox(s.net, r))
        prepare_enabled(s, r, cfg, out)
        promise_enabled(s, r, one_a, out)
        lead_enabled(s, r, promises, cfg, out)
        propose_enabled(s, r, proposed, cfg, out)
        accept_enabled(s, r, two_a, cfg, out)
        execute_enabled(s, r, acceptances, cfg, out)
        crash_enabled(s, r, cfg, out)
        if r in cfg.omitting:
            out += [(LOST[a[0]],) + a[1:] for a in out[start:] if a[0] in LOST]
    if not net.sent_set:
        out += net.actions(s.net)
    return out


# The steps an omission-faulty acceptor may take with its message lost.
LOST = {"Promise": "PromiseLost"}

# An action's effect, by its name: (state, action, constants) -> next state.
STEPS: dict[str, Callable[[MPState, tuple, Config], MPState]] = {
    "Prepare": lambda s, a, cfg: prepare(s, a[1], a[2], cfg),
    "Promise": lambda s, a, cfg: promise(s, a[1], a[2], cfg),
    "Lead": lambda s, a, cfg: lead_step(s, a[1], a[2], a[3], cfg),
    "Propose": lambda s, a, cfg: propose(s, a[1], a[2], cfg),
    "Accept": lambda s, a, cfg: accept_and_learn(s, a[1], a[2], a[3], a[4], cfg),
    "PromiseLost": lambda s, a, cfg: promise_lost(s, a[1], a[2], cfg),
    "Execute": lambda s, a, cfg: execute_step(s, a[1], a[2], cfg),
    "Crash": lambda s, a, cfg: crash(s, a[1], cfg),
    "Restart": lambda s, a, cfg: restart(s, a[1], cfg),
    "Drop": lambda s, a, cfg: s._replace(net=cfg.net.apply(s.net, a, s.owner)),
    "Duplicate": lambda s, a, cfg: s._replace(net=cfg.net.apply(s.net, a, s.owner)),
}


def step(s: MPState, a: tuple, cfg: Config) -> MPState:
    effect = STEPS.get(a[0])
    if effect is None:
        raise ValueError(f"not a MultiPaxos action: {a!r}; the actions are {', '.join(STEPS)}")
    return effect(s, a, cfg)
