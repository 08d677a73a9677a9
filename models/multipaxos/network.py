"""The network of MultiPaxos, a parameter handled here and nowhere else.

Every protocol step is "receive message m, then send messages M" (a step that only
starts something, such as Prepare or Propose, receives nothing). The step functions
in `actions` record what they send in `msgs`, the grow-only set of every message ever
sent that the properties read, and hand the addressed copies to the network, which
decides what is receivable and how sending and receiving change what is in flight
(`MPState.net`):

- `sent-set` (default): nothing is in flight apart from `msgs`; every message ever
  sent stays receivable by everyone, as in Lamport's Paxos.tla. For safety this covers
  loss, duplication and reordering at once, with the smallest state space. `net` is
  always `()`.
- `bag`: the copies in flight form a multiset, `net = (dups, ((dst, msg), count)...)`
  sorted. Receiving consumes one copy; the network actions Drop (one copy is lost)
  and Duplicate (one more copy) interleave with the protocol, Duplicate at most `dup`
  times in all (`dups` counts them), so the space stays finite.
- `fifo`: one ordered queue per (sender, receiver) channel, `net = (queue...)` with
  channel src * n + dst. Only a queue's head can be received or dropped (loss at the
  head); nothing is reordered or duplicated.

The copies go where the paper sends them: a 1a to every other acceptor (the leader
promises itself within Prepare, a 1b on its loopback channel), a 1b to the ballot's
owner, a 2a to every acceptor, the leader's own included. 2b messages go to the
learners, which `actions` keeps prompt by reading them from `msgs` (a learner learns
only values that are chosen, so this is sound for safety; what the network can do to
2b messages only delays learning, which a crashed-and-restarted learner models).

A message's sender follows from the message and `owner` (1a and 2a: the ballot's
owner; 1b and 2b: the acceptor), so a bag entry names only the receiver.
"""

from __future__ import annotations

from .messages import P1A, P2A

NETWORKS = ("sent-set", "bag", "fifo")
SENT_SET, BAG, FIFO = NETWORKS
DUP_DEFAULT = 1  # bag: extra copies the network may make, in all


def sender(m: tuple, owner: tuple[int, ...]) -> int:
    return owner[m[1]] if m[0] in (P1A, P2A) else m[1]


class Network:
    """The in-flight part of the state for one network kind; stateless itself."""

    def __init__(self, kind: str, n: int, dup: int = DUP_DEFAULT) -> None:
        if kind not in NETWORKS:
            raise ValueError(f"network {kind!r} is not one of {', '.join(NETWORKS)}")
        self.kind, self.n, self.dup = kind, n, dup
        self.sent_set = kind == SENT_SET

    def initial(self) -> tuple:
        if self.kind == BAG:
            return (0, ())
        if self.kind == FIFO:
            return ((),) * (self.n * self.n)
        return ()

    # -- protocol side ------------------------------------------------------------

    def inbox(self, net: tuple, dst: int) -> list[tuple]:
        """The distinct messages dst can receive now, sorted (bag and fifo only)."""
        if self.kind == BAG:
            return [m for (d, m), _ in net[1] if d == dst]
        n = self.n
        return sorted({q[0] for q in net[dst::n] if q})

    def send(self, net: tuple, out: list[tuple[int, int, tuple]]) -> tuple:
        """net with copies (src, dst, msg) put in flight, in order."""
        if self.sent_set or not out:
            return net
        if self.kind == BAG:
            bag = dict(net[1])
            for _, dst, m in out:
                key = (dst, m)
                bag[key] = bag.get(key, 0) + 1
            return (net[0], tuple(sorted(bag.items())))
        queues = list(net)
        for src, dst, m in out:
            queues[src * self.n + dst] += (m,)
        return tuple(queues)

    def receive(self, net: tuple, dst: int, m: tuple, owner: tuple[int, ...]) -> tuple:
        """net with one copy of m, receivable by dst, consumed."""
        if self.sent_set:
            return net
        if self.kind == BAG:
            return (net[0], _bag_minus(net[1], (dst, m)))
        c = sender(m, owner) * self.n + dst
        assert net[c][0] == m
        return net[:c] + (net[c][1:],) + net[c + 1 :]

    # -- adversary side -----------------------------------------------------------

    def actions(self, net: tuple) -> list[tuple]:
        """The network's own steps: ("Drop", dst, m) and ("Duplicate", dst, m)."""
        if self.kind == BAG:
            out = [("Drop", d, m) for (d, m), _ in net[1]]
            if net[0] < self.dup:
                out += [("Duplicate", d, m) for (d, m), _ in net[1]]
            return out
        if self.kind == FIFO:
            n = self.n
            return [("Drop", c % n, q[0]) for c, q in enumerate(net) if q]
        return []

    def apply(self, net: tuple, a: tuple, owner: tuple[int, ...]) -> tuple:
        if a[0] == "Drop":
            return self.receive(net, a[1], a[2], owner)
        bag = dict(net[1])
        bag[(a[1], a[2])] += 1
        return (net[0] + 1, tuple(sorted(bag.items())))


def _bag_minus(items: tuple, key: tuple) -> tuple:
    out = []
    for k, c in items:
        if k == key:
            if c > 1:
                out.append((k, c - 1))
        else:
            out.append((k, c))
    return tuple(out)
