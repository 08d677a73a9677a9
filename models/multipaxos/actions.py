"""The steps of MultiPaxos (Paxos Made Simple §3), one function each.

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

The network is a parameter (`network`): each step receives at most one message
(Promise a 1a, Accept a 2a; Lead the 1bs of its quorum) and sends some, and the
network decides what is receivable and what sending and receiving do to the messages
in flight; with bag and fifo its own Drop and Duplicate steps interleave with these.

`enabled_actions` lists every enabled step with its witnesses, each function computes
the effect. Mutants flip one `Rules` switch; the code path is the same.
"""

from __future__ import annotations

from ..common.ids import NONE
from .messages import NOOP, P1A, P1B, P2A, P2B
from .mutants import Rules
from .network import Network
from .state import CATCHING_UP, DOWN, UP, Accepted, MPState, set_at


class Config:
    """The constants of one model instance, fixed at build time."""

    def __init__(self, n: int, slots: int, max_round: int, commands: int, crashes: int,
                 durable: bool, quorums: tuple[tuple[int, ...], ...], rules: Rules,
                 quorum_size: int | None = None, net: Network | None = None) -> None:
        self.n, self.slots, self.max_round, self.commands = n, slots, max_round, commands
        self.crashes, self.durable, self.rules = crashes, durable, rules
        # Flexible Paxos: a leader leads on the promises of a phase-1 quorum (`quorums`),
        # a value is chosen by `quorum_size` acceptances (phase 2). Equal in Paxos.
        self.quorums = quorums
        self.quorum_size = len(quorums[0]) if quorum_size is None else quorum_size
        self.empty: Accepted = ((NONE, NONE),) * slots
        self.net = Network("sent-set", n) if net is None else net


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


def seen(s: MPState, r: int) -> int:
    """The highest ballot r knows of: its promise, or the ballot it led."""
    return max(s.max_bal[r], s.lead[r])


def collecting(s: MPState, b: int) -> bool:
    """Whether the owner of ballot b still waits for promises (is in its phase 1).

    A promise that no leader will read has one effect, blocking lower ballots at
    its acceptor, and an acceptor that never receives those lower messages behaves
    the same; so the model lets acceptors promise only to a live phase 1."""
    o = s.owner[b]
    return s.up[o] != DOWN and s.lead[o] == b and s.next_slot[o] == NONE


def report(accepted: Accepted, b: int, rules: Rules) -> Accepted:
    if rules.report_vote_ballot:
        return accepted
    return tuple((b, vv) for _, vv in accepted)


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


def promise(s: MPState, a: int, b: int, cfg: Config) -> MPState:
    s = received(s, a, (P1A, b), cfg)
    one_b = (P1B, a, b, report(s.accepted[a], b, cfg.rules))
    return s._replace(
        max_bal=set_at(s.max_bal, a, b),
        msgs=s.msgs | {one_b},
        net=sent(s, a, (s.owner[b],), [one_b], cfg),
    )


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


def propose(s: MPState, r: int, c: int, cfg: Config) -> MPState:
    slot = s.next_slot[r]
    two_a = (P2A, s.lead[r], slot, c)
    return s._replace(
        next_slot=set_at(s.next_slot, r, slot + 1),
        msgs=s.msgs | {two_a},
        net=sent(s, r, range(cfg.n), [two_a], cfg),
    )


def accept(s: MPState, a: int, b: int, slot: int, v: int, cfg: Config) -> MPState:
    # As Paxos.tla's Phase2b, accepting raises the promise to the ballot accepted.
    # The 2b goes to the learners, which read it from msgs (see `network`).
    s = received(s, a, (P2A, b, slot, v), cfg)
    return s._replace(
        max_bal=set_at(s.max_bal, a, b),
        accepted=set_at(s.accepted, a, set_at(s.accepted[a], slot, (b, v))),
        msgs=s.msgs | {(P2B, a, b, slot, v)},
    )


def execute(s: MPState, r: int, v: int, cfg: Config) -> MPState:
    log = s.log[r]
    duplicate = v in log and cfg.rules.skip_executed
    return s._replace(log=set_at(s.log, r, log + (NOOP if duplicate else v,)))


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


def restart(s: MPState, r: int, cfg: Config) -> MPState:
    """Back up with acceptor state (and log) intact, to catch up at its own pace."""
    s = s._replace(up=set_at(s.up, r, CATCHING_UP))
    if not cfg.rules.durable_acceptor:
        s = s._replace(max_bal=set_at(s.max_bal, r, NONE),
                       accepted=set_at(s.accepted, r, cfg.empty))
    return caught_up(s, r, cfg, accepted_by(s))


def learned(s: MPState, r: int, cfg: Config,
            acceptances: dict[tuple[int, int, int], set[int]]) -> list[int]:
    """The values r's learner knows are chosen in r's next slot, in value order."""
    slot = len(s.log[r])
    if slot >= cfg.slots:
        return []
    if cfg.rules.learn_one_ballot:
        return sorted({v for (sl, _, v), accs in acceptances.items()
                       if sl == slot and len(accs) >= cfg.quorum_size})
    # Mutant: one counter per (slot, value), bumped by every accept in any ballot, so
    # an acceptor that accepted v in two ballots counts twice.
    counts: dict[int, int] = {}
    for (sl, _, v), accs in acceptances.items():
        if sl == slot:
            counts[v] = counts.get(v, 0) + len(accs)
    return sorted(v for v, c in counts.items() if c >= cfg.quorum_size)


def accepted_by(s: MPState) -> dict[tuple[int, int, int], set[int]]:
    """(slot, ballot, value) -> the acceptors whose 2b for it is in msgs."""
    out: dict[tuple[int, int, int], set[int]] = {}
    for m in s.msgs:
        if m[0] == P2B:
            out.setdefault((m[3], m[2], m[4]), set()).add(m[1])
    return out


def caught_up(s: MPState, r: int, cfg: Config,
              acceptances: dict[tuple[int, int, int], set[int]]) -> MPState:
    """A catching-up replica with nothing left to learn is prompt again."""
    if s.up[r] == CATCHING_UP and not learned(s, r, cfg, acceptances):
        return s._replace(up=set_at(s.up, r, UP))
    return s


def learn_promptly(s: MPState, cfg: Config) -> MPState:
    """Every prompt replica executes all it can learn, in slot order.

    Where a mutant makes several values learnable in one slot it takes the least; a
    catching-up replica can take any (see the module docstring)."""
    acceptances = None
    for r in range(cfg.n):
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


def _classify(msgs, acceptances: dict | None = None
              ) -> tuple[set[int], dict[int, dict[int, Accepted]], list[tuple[int, int, int]]]:
    """The 1a ballots, the 1b reports by ballot and acceptor, and the 2a messages among
    `msgs`; 2b messages go into `acceptances` when it is given."""
    one_a: set[int] = set()
    promises: dict[int, dict[int, Accepted]] = {}
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


def enabled_actions(s: MPState, cfg: Config) -> list[tuple]:
    """Every enabled (step, witnesses...) tuple of s, in a fixed order."""
    acceptances: dict[tuple[int, int, int], set[int]] = {}
    one_a, promises, two_a = _classify(s.msgs, acceptances)
    two_a.sort()
    rules = cfg.rules
    net = cfg.net
    out: list[tuple] = []
    mine_two_a = two_a  # what leaders proposed, from msgs: their own memory
    for r in range(cfg.n):
        if not net.sent_set:
            # What r can receive: the network's choice, not everything ever sent.
            one_a, promises, two_a = _classify(net.inbox(s.net, r))
        if s.up[r] == DOWN:
            if cfg.durable:
                out.append(("Restart", r))
            continue
        for b in range(seen(s, r) + 1, cfg.max_round):
            if s.owner[b] == NONE:
                out.append(("Prepare", r, b))
        mb = s.max_bal[r]
        for bb in sorted(one_a):
            if bb > mb and collecting(s, bb):
                out.append(("Promise", r, bb))
        mine = s.lead[r]
        if mine != NONE and s.next_slot[r] == NONE:
            reports = promises.get(mine, {})
            for q in cfg.quorums:
                if all(a in reports for a in q):
                    out.append(("Lead", r, q, recovered_values([reports[a] for a in q], cfg)))
        elif mine != NONE and s.next_slot[r] < cfg.slots:
            # A leader proposes each client command once per ballot; what it
            # re-proposed from its phase 1 it does not check, since nothing says
            # that was chosen (so a command can be chosen in two slots, and
            # replicas must execute it once).
            first = s.fresh[r]
            taken = {v for bb, slot, v in mine_two_a if bb == mine and slot >= first}
            for c in range(cfg.commands):
                if c not in taken:
                    out.append(("Propose", r, c))
        acc = s.accepted[r]
        for bb, slot, v in two_a:
            if (bb >= mb or not rules.respect_promise) and acc[slot] != (bb, v):
                out.append(("Accept", r, bb, slot, v))
        if s.up[r] == CATCHING_UP:
            for v in learned(s, r, cfg, acceptances):
                out.append(("Execute", r, v))
        if s.crashes < cfg.crashes:
            out.append(("Crash", r))
    if not net.sent_set:
        out += net.actions(s.net)
    return out


def step(s: MPState, a: tuple, cfg: Config) -> MPState:
    name = a[0]
    if name == "Accept":
        t = accept(s, a[1], a[2], a[3], a[4], cfg)
        # Prompt replicas have learned all they could before this step, so only one
        # waiting on this very slot can learn more now.
        slot, up, log = a[3], t.up, t.log
        if not any(up[r] == UP and len(log[r]) == slot for r in range(cfg.n)):
            return t
        if cfg.rules.learn_one_ballot:
            # And only if this accept completed a quorum for its own ballot and value.
            b, v = a[2], a[4]
            count = sum(1 for m in t.msgs
                        if m[0] == P2B and m[2] == b and m[3] == slot and m[4] == v)
            if count < cfg.quorum_size:
                return t
        return learn_promptly(t, cfg)
    if name == "Promise":
        return promise(s, a[1], a[2], cfg)
    if name == "Execute":
        t = execute(s, a[1], a[2], cfg)
        return caught_up(t, a[1], cfg, accepted_by(t))
    if name == "Propose":
        return propose(s, a[1], a[2], cfg)
    if name == "Lead":
        if cfg.net.sent_set:
            return lead(s, a[1], a[3], cfg)
        b = s.lead[a[1]]
        reports = {m[1]: m for m in cfg.net.inbox(s.net, a[1])
                   if m[0] == P1B and m[2] == b}
        return lead(s, a[1], a[3], cfg, tuple(reports[q] for q in a[2]))
    if name in ("Drop", "Duplicate"):
        return s._replace(net=cfg.net.apply(s.net, a, s.owner))
    if name == "Prepare":
        return prepare(s, a[1], a[2], cfg)
    if name == "Crash":
        return crash(s, a[1], cfg)
    return restart(s, a[1], cfg)
