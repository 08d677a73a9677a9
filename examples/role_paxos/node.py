"""One process of role_paxos: a proposer, an acceptor, a learner or the client.

role_paxos is a deliberately *foreign* Paxos, written the way a user's service might be
and not the way smrcheck's own replicas (impl/) are: every role is its own OS process
(Paxos Made Simple §2: proposers, acceptors, learners), and every log slot is a full,
independent single-decree Paxos instance (its own phase 1, its own ballots, no stable
leader). Two proposers compete for the same slot and retry with higher ballots after a
NACK or a timeout. Processes talk JSON over UDP on 127.0.0.1 and write their OWN text
log, one line per event, e.g.

    t=1733220000.123456 proc=a1 RECV PREPARE id=p2-17 slot=3 ballot=7.p2 from=p2

That log knows nothing of smrcheck; adapter.py turns it into smrtrace (format 2). The
log vocabulary is listed in adapter.py, where it is translated.

The wire and the log carry a command as `client.req.op` (op has no dots or spaces) and a
ballot as `round.proposer`; ballots compare by round, then by the proposer's rank in
the cluster file (p1 < p2), which is the order the adapter writes into `nodes`.

Faults are injected at the sender, AFTER the SEND line is logged: the process did send
the message, the network lost or delayed it. That is what a real lossy network does,
and why a trace may hold a send that is never received.

An acceptor keeps its promises and votes in a state file, written before the message
that reports them is sent; `run.py --crash a1@T+D` kills it (SIGKILL) and starts a new
incarnation on that state, which logs to `a1.2.log` and numbers its messages `a1.2-0`,
`a1.2-1`, ... so that no id repeats.

Bounded by construction: every process exits at --max-seconds even if nobody tells it
to stop, every retry loop has a cap, and sockets are bound to 127.0.0.1 only (the
launcher binds them and hands them down).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import os
import random
import socket
import time

# Injected bugs, and the role whose code each one changes.
BUGS = {"adopt-first-promise": "proposer", "amnesiac-acceptor": "acceptor"}
MAX_ATTEMPTS = 40  # per command: a proposer gives up rather than duel forever


# ---------------------------------------------------------------------------------------
# Cluster file (written by run.py): "role name host port", one node per line.

def read_cluster(path: str) -> list[tuple[str, str, str, int]]:
    nodes = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.split("#", 1)[0].strip()
            if line:
                role, name, host, port = line.split()
                nodes.append((role, name, host, int(port)))
    return nodes


# ---------------------------------------------------------------------------------------
# Values as the wire and the log spell them.

def ballot_str(b: tuple[int, str] | None) -> str:
    return "-" if b is None else f"{b[0]}.{b[1]}"


def cmd_str(c: dict) -> str:
    return f"{c['client']}.{c['req']}.{c['op']}"


# ---------------------------------------------------------------------------------------
# Faults.

def scenario_fault(scenario: str | None, me: str, msg: dict, to: str) -> str | float | None:
    """The scripted faults of a scenario: 'drop', a delay in seconds, or None.

    first-promise (3 acceptors, proposers p1 and p2, learners l1 and l2), slot 0:
      1. p1 (ballot 1.p1) gets every promise, but its ACCEPT reaches a1 only: a1 has
         accepted p1's value X, which is not chosen.
      2. p2 (ballot 1.p2, a moment later) is cut off from a1; a2 and a3 promise and
         accept p2's value Y: Y is chosen. Only l1 hears of it, and p1 never does.
      3. p1 times out and retries with 2.p1. a1's promise (reporting X at 1.p1) arrives
         before a2's and a3's (reporting Y at 1.p2). A correct proposer proposes Y (the
         highest ballot); one with --bug adopt-first-promise proposes X, which a2 and a3
         now accept: X is chosen too, at l2 (and l1). Two values chosen in slot 0.
    """
    if scenario != "first-promise" or msg.get("slot") != 0:
        return None
    t, b = msg["type"], tuple(msg.get("ballot") or ())
    if me == "p1" and t == "ACCEPT" and b == (1, "p1") and to != "a1":
        return "drop"
    if me == "p2" and to == "a1" and b == (1, "p2"):
        return "drop"
    if me in ("a2", "a3") and t == "ACCEPTED" and b == (1, "p2") and to == "l2":
        return "drop"
    if me == "l1" and t == "LEARN" and to == "p1" and msg["cmd"]["req"] == 1:
        return "drop"  # Y is request 1
    if me in ("a2", "a3") and t == "PROMISE" and b == (2, "p1"):
        return 0.3
    return None


# ---------------------------------------------------------------------------------------
# The process: one UDP socket, a timer heap, the native log.

class Process:
    """The event loop shared by every role: receive a datagram, run due timers."""

    def __init__(self, args, cluster):
        self.name = args.name
        self.addr = {name: (host, port) for _, name, host, port in cluster}
        self.role_of = {name: role for role, name, _, _ in cluster}
        self.sock = socket.socket(fileno=args.fd)
        self.launcher = (args.launcher_host, args.launcher_port)
        self.log_file = open(args.log, "w", encoding="utf-8", buffering=1)  # line-buffered
        self.rng = random.Random(f"{args.seed}/{self.name}")
        self.loss, self.delay = args.loss, args.delay_ms / 1000.0
        self.scenario, self.bug = args.scenario, args.bug
        self.deadline = time.monotonic() + args.max_seconds
        self.timers: list = []
        self.tick = itertools.count()
        self.ids = itertools.count()
        # After a restart (run.py --crash), message ids carry the incarnation so they
        # never repeat the first life's: a1-7, then a1.2-0, a1.2-1, ...
        self.incarnation = args.incarnation
        self.id_prefix = self.name if args.incarnation == 1 else f"{self.name}.{args.incarnation}"
        self.state_file = args.state
        # A restarted process is past "go": it serves at once.
        self.started = args.incarnation > 1
        self.stopped = False

    def names(self, role: str) -> list[str]:
        return [n for n, r in self.role_of.items() if r == role]

    def log(self, event: str, **fields) -> None:
        parts = [f"t={time.time():.6f}", f"proc={self.name}", event]
        parts += [f"{k}={v}" for k, v in fields.items()]
        self.log_file.write(" ".join(parts) + "\n")

    def send(self, to: list[str], msg: dict) -> None:
        """Log one SEND (one id for every addressee), then hand it to the network."""
        msg = dict(msg, id=f"{self.id_prefix}-{next(self.ids)}", src=self.name)
        self.log("SEND " + msg["type"], **self.describe(msg), to=",".join(to))
        for dest in to:
            fault = scenario_fault(self.scenario, self.name, msg, dest)
            if fault is None and self.loss and self.rng.random() < self.loss:
                fault = "drop"
            if fault is None and self.delay:
                fault = self.rng.uniform(0, self.delay)
            if fault == "drop":
                continue
            data = json.dumps(msg).encode()
            if fault:
                self.after(fault, lambda d=data, a=self.addr[dest]: self.transmit(d, a))
            else:
                self.transmit(data, self.addr[dest])

    def transmit(self, data: bytes, addr) -> None:
        try:
            self.sock.sendto(data, addr)
        except OSError:
            pass  # the addressee has exited: for UDP, the same as a lost message

    @staticmethod
    def describe(msg: dict) -> dict:
        """A message's fields as log tokens, in a fixed order (its type is logged apart)."""
        out = {"id": msg["id"]}
        for key in ("slot", "ballot", "promised", "accepted", "cmd", "req", "result"):
            if key not in msg:
                continue
            v = msg[key]
            if key in ("ballot", "promised"):
                v = ballot_str(tuple(v))
            elif key == "accepted":  # [vballot, cmd] or None
                v = "-" if v is None else f"{ballot_str(tuple(v[0]))}:{cmd_str(v[1])}"
            elif key == "cmd":
                v = cmd_str(v)
            out[key] = v
        return out

    def after(self, seconds: float, fn) -> None:
        heapq.heappush(self.timers, (time.monotonic() + seconds, next(self.tick), fn))

    def run(self, role) -> None:
        if self.incarnation > 1:
            self.log("RESTART", incarnation=self.incarnation)
        else:
            self.sock.sendto(b'"ready"', self.launcher)
        try:
            while not self.stopped and time.monotonic() < self.deadline:
                now = time.monotonic()
                while self.timers and self.timers[0][0] <= now:
                    heapq.heappop(self.timers)[2]()
                wait = min(0.05, self.deadline - now)
                if self.timers:
                    wait = min(wait, self.timers[0][0] - now)
                self.sock.settimeout(max(wait, 0.001))
                try:
                    data, _ = self.sock.recvfrom(65536)
                except (socket.timeout, ConnectionRefusedError):
                    continue
                msg = json.loads(data)
                if msg == "go" or (not self.started and isinstance(msg, dict)):
                    if not self.started:
                        self.started = True
                        role.start()
                if msg == "stop":
                    self.stopped = True
                elif isinstance(msg, dict):
                    self.log("RECV " + msg["type"], **self.describe(msg), **{"from": msg["src"]})
                    role.handle(msg)
        finally:
            self.log_file.close()
            self.sock.close()


# ---------------------------------------------------------------------------------------
# Roles. Each keeps its state in plain dicts keyed by slot: every slot is its own Paxos.

class Acceptor:
    """Per slot: `promised` (highest ballot promised) and `accepted` (ballot, cmd).

    Both are durable (Paxos Made Simple §3: an acceptor must remember what it promised
    and accepted across a failure): written to the state file BEFORE the PROMISE or
    ACCEPTED that reports them is sent, and read back on a restart.
    """

    def __init__(self, p: Process):
        self.p = p
        self.promised: dict[int, tuple] = {}
        self.accepted: dict[int, tuple] = {}
        # THE BUG amnesiac-acceptor: a restarted acceptor ignores what it wrote to disk,
        # so its promises no longer report what it accepted before the crash.
        remembers = p.bug != "amnesiac-acceptor"
        if remembers and p.state_file and os.path.exists(p.state_file):
            with open(p.state_file, encoding="utf-8") as fh:
                saved = json.load(fh)
            self.promised = {int(k): tuple(v) for k, v in saved["promised"].items()}
            self.accepted = {int(k): (tuple(v[0]), v[1]) for k, v in saved["accepted"].items()}

    def persist(self) -> None:
        if not self.p.state_file:
            return
        tmp = self.p.state_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"promised": self.promised, "accepted": self.accepted}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.p.state_file)  # atomic: a kill leaves the old or the new

    def start(self) -> None:
        pass

    def rank(self, b) -> tuple:
        return (b[0], self.p.names("proposer").index(b[1]))

    def handle(self, m: dict) -> None:
        slot, b = m["slot"], tuple(m["ballot"])
        held = self.promised.get(slot)
        if m["type"] == "PREPARE":
            if held is None or self.rank(b) > self.rank(held):
                self.promised[slot] = b
                self.persist()
                acc = self.accepted.get(slot)
                self.p.send([m["src"]], {"type": "PROMISE", "slot": slot, "ballot": b,
                                         "accepted": acc and [acc[0], acc[1]]})
            elif self.rank(b) == self.rank(held):
                pass  # a PREPARE delayed past this ballot's own ACCEPT: nothing to say
            else:
                self.nack(m, held)
        elif m["type"] == "ACCEPT":
            if held is None or self.rank(b) >= self.rank(held):
                self.promised[slot] = b
                self.accepted[slot] = (b, m["cmd"])
                self.persist()
                self.p.send(self.p.names("learner"),
                            {"type": "ACCEPTED", "slot": slot, "ballot": b, "cmd": m["cmd"]})
            else:
                self.nack(m, held)

    def nack(self, m: dict, held: tuple) -> None:
        self.p.send([m["src"]], {"type": "NACK", "slot": m["slot"], "ballot": m["ballot"],
                                 "promised": held})


class Learner:
    """Counts ACCEPTED per (slot, ballot); a majority of acceptors means chosen."""

    def __init__(self, p: Process):
        self.p = p
        self.votes: dict[tuple, set] = {}
        self.learned: dict[int, dict] = {}
        self.quorum = len(p.names("acceptor")) // 2 + 1

    def start(self) -> None:
        pass

    def handle(self, m: dict) -> None:
        if m["type"] != "ACCEPTED":
            return
        slot, b, cmd = m["slot"], tuple(m["ballot"]), m["cmd"]
        key = (slot, b)
        voters = self.votes.setdefault(key, set())
        if m["src"] in voters or len(voters) >= self.quorum:
            voters.add(m["src"])
            return
        voters.add(m["src"])
        if len(voters) < self.quorum:
            return
        # Chosen in this ballot. Logged for every ballot that reaches a quorum: a learner
        # that sees a second value chosen in one slot says so, rather than hiding it.
        self.p.log("CHOSEN", slot=slot, ballot=ballot_str(b), cmd=cmd_str(cmd))
        first = slot not in self.learned
        self.learned.setdefault(slot, cmd)
        self.p.send(self.p.names("proposer"), {"type": "LEARN", "slot": slot, "cmd": cmd})
        if first:
            self.p.send([cmd["client"]], {"type": "REPLY", "req": cmd["req"],
                                          "result": f"slot-{slot}", "cmd": cmd})


class Proposer:
    """Takes commands from the client and gets each chosen in some slot.

    For its current command it picks the lowest slot it does not know decided and runs
    single-decree Paxos there: PREPARE, a majority of PROMISEs, ACCEPT with the value of
    the highest-ballot promise (or its own command). A NACK or a timeout means another
    proposer is active: back off a random while and retry with a higher round. When the
    slot is decided (a LEARN from a learner), it is done if the value was its command,
    and moves to the next slot otherwise.
    """

    def __init__(self, p: Process):
        self.p = p
        self.queue: list[dict] = []
        self.decided: dict[int, dict] = {}
        self.round_seen: dict[int, int] = {}
        self.attempt = None  # dict: slot, ballot, phase, promises (in arrival order), value
        self.attempts = 0
        self.quorum = len(p.names("acceptor")) // 2 + 1

    def start(self) -> None:
        pass

    def handle(self, m: dict) -> None:
        getattr(self, "on_" + m["type"].lower())(m)

    def on_request(self, m: dict) -> None:
        cmd = m["cmd"]
        if cmd in self.queue or cmd in self.decided.values():
            return  # a client retry of a command already in hand
        self.queue.append(cmd)
        if self.attempt is None:
            self.next_attempt()

    def next_attempt(self) -> None:
        self.attempt = None
        while self.queue and self.queue[0] in self.decided.values():
            self.queue.pop(0)
        if not self.queue or self.attempts >= MAX_ATTEMPTS:
            return
        self.attempts += 1
        slot = 0
        while slot in self.decided:
            slot += 1
        rnd = self.round_seen.get(slot, 0) + 1
        self.round_seen[slot] = rnd
        b = (rnd, self.p.name)
        self.attempt = {"slot": slot, "ballot": b, "phase": 1, "promises": [], "value": None}
        self.p.send(self.p.names("acceptor"), {"type": "PREPARE", "slot": slot, "ballot": b})
        self.arm_timer()

    def arm_timer(self) -> None:
        a, phase = self.attempt, self.attempt["phase"]
        # The first-promise scenario needs p1 to give up on its first accept only after
        # p2 has got Y chosen; elsewhere a short timeout keeps runs short.
        wait = 1.2 if self.p.scenario else 0.25
        self.p.after(wait, lambda: self.timeout(a, phase))

    def timeout(self, a: dict, phase: int) -> None:
        if self.attempt is a and a["phase"] == phase:
            self.p.log("TIMEOUT", slot=a["slot"], ballot=ballot_str(a["ballot"]), phase=a["phase"])
            self.retry_later()

    def retry_later(self) -> None:
        self.attempt = "backoff"  # not None: a request arriving now must not start another
        self.p.after(self.p.rng.uniform(0.01, 0.08), self.next_attempt)

    def current(self, m: dict, phase: int) -> bool:
        a = self.attempt
        return (isinstance(a, dict) and a["phase"] == phase and a["slot"] == m["slot"]
                and tuple(m["ballot"]) == a["ballot"])

    def on_promise(self, m: dict) -> None:
        if not self.current(m, 1):
            return
        a = self.attempt
        a["promises"].append(m)
        if len(a["promises"]) < self.quorum:
            return
        a["value"] = self.pick_value(a["promises"]) or self.queue[0]
        a["phase"] = 2
        self.p.send(self.p.names("acceptor"),
                    {"type": "ACCEPT", "slot": a["slot"], "ballot": a["ballot"], "cmd": a["value"]})
        self.arm_timer()

    def pick_value(self, promises: list[dict]) -> dict | None:
        """Paxos Made Simple §2.2: the value of the highest-numbered proposal reported."""
        reported = [m["accepted"] for m in promises if m["accepted"]]
        if not reported:
            return None
        if self.p.bug == "adopt-first-promise":
            return reported[0][1]  # THE BUG: first in arrival order, not highest ballot
        ranks = self.p.names("proposer")
        return max(reported, key=lambda v: (v[0][0], ranks.index(v[0][1])))[1]

    def on_nack(self, m: dict) -> None:
        slot = m["slot"]
        self.round_seen[slot] = max(self.round_seen.get(slot, 0), m["promised"][0])
        if self.current(m, 1) or self.current(m, 2):
            self.retry_later()

    def on_learn(self, m: dict) -> None:
        self.decided.setdefault(m["slot"], m["cmd"])
        a = self.attempt
        if isinstance(a, dict) and a["slot"] == m["slot"]:
            self.next_attempt()


class Client:
    """Issues --commands requests, request i to proposer i mod P, `gap` seconds apart,
    resends a request not answered within a second, and gives it up after three sends
    (its reply may have been lost: the run must end anyway)."""

    def __init__(self, p: Process, commands: int, gap: float):
        self.p, self.commands, self.gap = p, commands, gap
        self.done: dict[int, str] = {}
        self.given_up: set[int] = set()

    def start(self) -> None:
        for i in range(self.commands):
            self.p.after(i * self.gap, lambda i=i: self.issue(i))

    def issue(self, i: int) -> None:
        cmd = {"client": self.p.name, "req": i, "op": f"set-k{i % 3}-{i}"}
        self.p.log("ISSUE", req=i, op=cmd["op"])
        self.request(cmd, tries=3)

    def request(self, cmd: dict, tries: int) -> None:
        if cmd["req"] in self.done:
            return
        if tries == 0:
            self.p.log("GIVEUP", req=cmd["req"])
            self.given_up.add(cmd["req"])
            self.finish_if_done()
            return
        proposers = self.p.names("proposer")
        self.p.send([proposers[cmd["req"] % len(proposers)]], {"type": "REQUEST", "cmd": cmd})
        self.p.after(1.0, lambda: self.request(cmd, tries - 1))

    def handle(self, m: dict) -> None:
        if m["type"] == "REPLY" and m["req"] not in self.done:
            self.done[m["req"]] = m["result"]
            self.p.log("DONE", req=m["req"], result=m["result"])
            self.finish_if_done()

    def finish_if_done(self) -> None:
        if len(self.done.keys() | self.given_up) == self.commands:
            self.p.stopped = True  # the launcher sees the client exit and stops the rest


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True)
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--fd", type=int, required=True, help="the bound UDP socket, from run.py")
    ap.add_argument("--launcher-host", default="127.0.0.1")
    ap.add_argument("--launcher-port", type=int, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--loss", type=float, default=0.0)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--scenario", choices=["first-promise"])
    ap.add_argument("--bug", choices=sorted(BUGS))
    ap.add_argument("--commands", type=int, default=0)
    ap.add_argument("--gap", type=float, default=0.0)
    ap.add_argument("--max-seconds", type=float, default=10.0)
    ap.add_argument("--incarnation", type=int, default=1, help="2, 3, ... after a restart")
    ap.add_argument("--state", help="an acceptor's durable state file")
    args = ap.parse_args(argv)
    cluster = read_cluster(args.cluster)
    p = Process(args, cluster)
    role = p.role_of[args.name]
    node = {"acceptor": Acceptor, "learner": Learner, "proposer": Proposer}.get(role)
    p.run(node(p) if node else Client(p, args.commands, args.gap))


if __name__ == "__main__":
    main()
