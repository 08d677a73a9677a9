"""PBFT's steps, one function each, named as in Castro and Liskov (OSDI 1999 §4).

Normal case (§4.2). The primary of view v (replica v mod n) assigns the next
sequence number n to a client request and multicasts PRE-PREPARE(v, n, d). A backup
in view v accepts it if it has not accepted a pre-prepare for (v, n) with another
digest, and multicasts PREPARE(v, n, d, i). Replica i is *prepared* when it has the
pre-prepare and 2f (= q - 1) matching prepares from distinct backups (its own
included); it then multicasts COMMIT(v, n, d, i). It is *committed-local* when also
2f + 1 (= q) matching commits from distinct replicas are in its log, and it executes
sequence numbers in order, replying to the client after each.

View change (§4.4). A backup that suspects the primary (a timeout, here a step that
is always enabled below `max_view`) moves to view v + 1 and multicasts
VIEW-CHANGE(v + 1, i, P), P its prepared certificates, the highest-view one per
sequence number (read off the COMMITs it sent: see `prepared_at`). The new primary,
with 2f + 1 view changes V (its own among them), multicasts NEW-VIEW(v + 1, V, O):
for each sequence number up to max-s, the highest sequence number of a certificate
in V, O holds a pre-prepare in view v + 1 for the digest of the highest-view
certificate, or for the null request if V has none. A backup checks that O is what
V yields, sends a PREPARE for each pre-prepare in O and enters the view.

Faulty replicas (§2: signed messages, so never forged in another's name) have
"sent" every well-formed message of their own at the start: the enabling conditions
count them in every quorum and let them pre-prepare any digest, including different
digests to different backups, and lie in VIEW-CHANGE (any subset of the
certificates that are valid, i.e. whose signatures exist) and NEW-VIEW (any O that
some V of valid view changes yields). `Setup` holds these constants; `Index` is one
pass over a state's messages that the enabling conditions and invariants read.

Without checkpoints (§4.3, not modelled) the low water mark is 0: max_seq bounds
the sequence numbers instead of the high water mark, and min-s is 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations, product

from ..common.ids import NONE
from .mutants import Rules
from .messages import CM, NV, PP, PR, VC
from .state import PbftState, result_of

ABSENT = NONE  # no certificate for a sequence number in V


@dataclass(frozen=True)
class Setup:
    """The constants of one model instance, and the quorum sizes they imply."""

    n: int
    f: int
    faulty: frozenset[int]
    requests: int
    max_view: int
    max_seq: int
    rules: Rules = field(default_factory=Rules)
    # Derived in __post_init__, read on the hot path.
    q: int = field(init=False)  # n - f: 2f + 1 when n = 3f + 1
    correct: tuple[int, ...] = field(init=False)
    nf: int = field(init=False)  # faulty replicas, counted in every quorum
    nf_backups: tuple[int, ...] = field(init=False)  # per view, faulty non-primaries
    prepare_need: int = field(init=False)  # matching PREPAREs from backups
    commit_need: int = field(init=False)  # matching COMMITs
    reply_need: int = field(init=False)  # matching replies a client waits for
    null: int = field(init=False)  # the null request's digest
    forged: int = field(init=False)  # the digest of a request no client signed
    digests: tuple[int, ...] = field(init=False)  # every digest a faulty replica signs
    acceptable: frozenset[int] = field(init=False)  # digests a correct backup accepts

    def __post_init__(self) -> None:
        r = self.rules
        q = self.n - self.f
        derived = {
            "q": q,
            "correct": tuple(i for i in range(self.n) if i not in self.faulty),
            "nf": len(self.faulty),
            "nf_backups": tuple(
                sum(1 for j in self.faulty if j != self.primary(v))
                for v in range(self.max_view + 1)
            ),
            "prepare_need": q - 1 + r.prepare_quorum_offset,
            "commit_need": q + r.commit_quorum_offset,
            "reply_need": self.f + 1 if r.client_needs_f_plus_1 else 1,
            "null": self.requests,
            "forged": self.requests + 1,
            "digests": tuple(range(self.requests + 2)),
            # A request carrying its client's signature, or the null request; the
            # forged one only when signatures go unchecked.
            "acceptable": frozenset(
                range(self.requests + (1 if r.check_client_signature else 2))
            ),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def primary(self, v: int) -> int:
        return v % self.n


class Index:
    """One pass over `msgs`: who sent what, keyed as the enabling conditions ask."""

    __slots__ = ("pp", "prep", "acc", "commits", "committer", "vcs", "nvs")

    def __init__(self, msgs: frozenset[tuple]) -> None:
        self.pp: set[tuple[int, int, int]] = set()  # (v, n, d) from correct primaries
        self.prep: dict[tuple[int, int, int], set[int]] = {}  # (v, n, d) -> senders
        self.acc: dict[int, dict[tuple[int, int], set[int]]] = {}  # i -> (v, n) -> digests
        self.commits: dict[tuple[int, int, int], set[int]] = {}  # (v, n, d) -> senders
        self.committer: dict[int, list[tuple[int, int, int]]] = {}  # i -> its (v, n, d)
        self.vcs: dict[int, dict[int, tuple]] = {}  # v -> sender -> P
        self.nvs: dict[int, list[tuple[int, ...]]] = {}  # v -> O's sent
        for m in msgs:
            kind = m[0]
            if kind == PR:
                key = m[1:4]
                self.prep.setdefault(key, set()).add(m[4])
                self.acc.setdefault(m[4], {}).setdefault(m[1:3], set()).add(m[3])
            elif kind == CM:
                key = m[1:4]
                self.commits.setdefault(key, set()).add(m[4])
                self.committer.setdefault(m[4], []).append(key)
            elif kind == PP:
                self.pp.add(m[1:4])
            elif kind == VC:
                self.vcs.setdefault(m[1], {})[m[2]] = m[3]
            else:
                self.nvs.setdefault(m[1], []).append(m[2])


# -- the predicates of §4.2, over an Index ------------------------------------------


def pp_available(c: Setup, ix: Index, v: int, n: int, d: int) -> bool:
    """PRE-PREPARE(v, n, d) has been signed by the primary of v."""
    return c.primary(v) in c.faulty or (v, n, d) in ix.pp


def prepare_count(c: Setup, ix: Index, v: int, n: int, d: int) -> int:
    """Distinct backups of view v that signed PREPARE(v, n, d), faulty ones included."""
    return len(ix.prep.get((v, n, d), ())) + c.nf_backups[v]


def accepted_by(c: Setup, ix: Index, i: int) -> list[tuple[int, int, int]]:
    """The pre-prepares (v, n, d) correct replica i has in its log, sorted."""
    out = [(v, n, d) for (v, n), ds in ix.acc.get(i, {}).items() for d in ds]
    out.extend(t for t in ix.pp if c.primary(t[0]) == i)
    out.sort()
    return out


def prepared(c: Setup, ix: Index, v: int, n: int, d: int) -> bool:
    """Given that the replica accepted PRE-PREPARE(v, n, d): the prepare quorum."""
    return prepare_count(c, ix, v, n, d) >= c.prepare_need


def committed(c: Setup, ix: Index, v: int, n: int, d: int) -> bool:
    """2f + 1 matching commits from distinct replicas, faulty ones included."""
    return len(ix.commits.get((v, n, d), ())) + c.nf >= c.commit_need


def prepared_at(ix: Index, i: int) -> list[tuple[int, int, int]]:
    """The (v, n, d) correct replica i is prepared for, sorted. A replica multicasts
    COMMIT the moment it becomes prepared (§4.2), so its COMMITs are exactly its
    prepared certificates; reading them off its COMMITs, not off every PREPARE sent
    so far, leaves out prepares it may not have received, and prepares of an old
    view sent after it left that view."""
    return sorted(ix.committer.get(i, ()))


def committed_local(c: Setup, ix: Index, i: int) -> list[tuple[int, int, int]]:
    """The (v, n, d) correct replica i is committed-local for, sorted: prepared and
    2f + 1 matching commits from distinct replicas (its own among them)."""
    return [t for t in prepared_at(ix, i) if committed(c, ix, *t)]


def cert_valid(c: Setup, ix: Index, v: int, n: int, d: int) -> bool:
    """A prepared certificate for (v, n, d) exists: its signatures have been sent."""
    return pp_available(c, ix, v, n, d) and prepared(c, ix, v, n, d)


def certificates(ix: Index, i: int, below: int) -> tuple[tuple[int, int, int], ...]:
    """VIEW-CHANGE's P for replica i: per sequence number, its prepared certificates
    of the highest view below `below`, as sorted (n, v, d)."""
    best: dict[int, tuple[int, set[int]]] = {}
    for v, n, d in prepared_at(ix, i):
        if v >= below:
            continue
        bv, ds = best.get(n, (-1, set()))
        if v > bv:
            best[n] = (v, {d})
        elif v == bv:
            ds.add(d)
    return tuple(sorted((n, v, d) for n, (v, ds) in best.items() for d in ds))


# -- NEW-VIEW: the set O ------------------------------------------------------------


def _slot_choices(
    c: Setup, ix: Index, v: int, certs: list[tuple], faulty_in_v: bool
) -> list[tuple[int, ...]]:
    """Per sequence number 1..max_seq, the digests O may give it (ABSENT: no
    certificate in V), on the certificates `certs` of V's correct members; a faulty
    member of V may add any valid certificate of a view below v, or none."""
    out = []
    for n in range(1, c.max_seq + 1):
        best_v, best = -1, set()
        for m, pv, d in certs:
            if m != n:
                continue
            if pv > best_v:
                best_v, best = pv, {d}
            elif pv == best_v:
                best.add(d)
        opts = set(best) if best else {ABSENT}
        if faulty_in_v:
            for pv in range(max(best_v, 0), v):
                opts.update(d for d in c.digests if cert_valid(c, ix, pv, n, d))
        out.append(tuple(sorted(opts)))
    return out


def _o_from(choice: tuple[int, ...], null: int) -> tuple[int, ...]:
    """O for a choice of digest per sequence number: up to max-s, gaps null."""
    top = max((k + 1 for k, d in enumerate(choice) if d != ABSENT), default=0)
    return tuple(null if d == ABSENT else d for d in choice[:top])


def new_view_options(c: Setup, ix: Index, v: int) -> list[tuple[int, ...]]:
    """Every O that a NEW-VIEW for view v may carry and that backups accept: the
    paper's computation over some V of q view changes for v from distinct replicas
    (the primary's own included when it is correct); faulty members may lie."""
    p = c.primary(v)
    sent = ix.vcs.get(v, {})
    fixed = (p,) if p not in c.faulty else ()
    if fixed and p not in sent:
        return []
    others = sorted(j for j in sent if j != p)
    out: set[tuple[int, ...]] = set()
    for size in range(len(others) + 1):
        n_faulty = c.q - len(fixed) - size
        if n_faulty < 0 or n_faulty > c.nf:
            continue
        for extra in combinations(others, size):
            members = fixed + extra
            if not c.rules.new_view_uses_certificates:
                out.add(())
                continue
            if not c.rules.new_view_uses_all_of_v:
                # Only the new primary's own certificates (its own lies if faulty).
                members, faulty_in_v = fixed, not fixed
            else:
                faulty_in_v = n_faulty > 0
            certs = [cert for j in members for cert in sent[j]]
            for choice in product(*_slot_choices(c, ix, v, certs, faulty_in_v)):
                out.add(_o_from(choice, c.null))
    return sorted(out)


# -- effects ------------------------------------------------------------------------


def _set(t: tuple, i: int, x) -> tuple:
    return t[:i] + (x,) + t[i + 1 :]


def pre_prepare(s: PbftState, v: int, n: int, d: int) -> PbftState:
    return s._replace(msgs=s.msgs | {(PP, v, n, d)})


def prepare(s: PbftState, v: int, n: int, d: int, i: int) -> PbftState:
    return s._replace(msgs=s.msgs | {(PR, v, n, d, i)})


def commit(s: PbftState, v: int, n: int, d: int, i: int) -> PbftState:
    return s._replace(msgs=s.msgs | {(CM, v, n, d, i)})


def execute(s: PbftState, i: int, d: int) -> PbftState:
    return s._replace(executed=_set(s.executed, i, s.executed[i] + (d,)))


def accept_reply(s: PbftState, client: int, result: int) -> PbftState:
    return s._replace(accepted=_set(s.accepted, client, result))


def view_change(s: PbftState, v: int, i: int, certs: tuple) -> PbftState:
    return PbftState(
        _set(s.view, i, v), _set(s.changing, i, 1), s.executed, s.accepted,
        s.msgs | {(VC, v, i, certs)},
    )


def new_view(s: PbftState, v: int, p: int, o: tuple[int, ...]) -> PbftState:
    """The new primary sends NEW-VIEW and the pre-prepares of O, and enters view v."""
    sent = {(NV, v, o)} | {(PP, v, n, d) for n, d in enumerate(o, 1)}
    return s._replace(changing=_set(s.changing, p, 0), msgs=s.msgs | sent)


def enter_view(s: PbftState, v: int, i: int, o: tuple[int, ...]) -> PbftState:
    """A backup accepts NEW-VIEW: it prepares every pre-prepare of O and enters v."""
    sent = {(PR, v, n, d, i) for n, d in enumerate(o, 1)}
    return s._replace(changing=_set(s.changing, i, 0), msgs=s.msgs | sent)


# -- enabling conditions ------------------------------------------------------------


def enabled_actions(c: Setup, s: PbftState) -> list[tuple]:
    """Every action enabled in s: per correct replica in id order, the steps in the
    order of the protocol; then the clients."""
    ix = Index(s.msgs)
    out: list[tuple] = []
    for i in c.correct:
        replica_actions(c, ix, s, i, out)
    _accepts(c, s, out)
    return out


def replica_actions(c: Setup, ix: Index, s: PbftState, i: int, out: list[tuple]) -> None:
    """The steps correct replica i can take in s, in the order of the protocol."""
    v, busy = s.view[i], s.changing[i]
    if not busy:
        if c.primary(v) == i:
            _pre_prepares(c, ix, v, i, out)
        else:
            _prepares(c, ix, v, i, out)
        # Prepared in its current view: it multicasts COMMIT (once).
        for pv, n, d in accepted_by(c, ix, i):
            if pv == v and prepared(c, ix, v, n, d) and i not in ix.commits.get((v, n, d), ()):
                out.append(("COMMIT", v, n, d, i))
    _executes(c, ix, s, i, out)
    if v < c.max_view:
        out.append(("VIEW-CHANGE", v + 1, i, certificates(ix, i, v + 1)))
    if busy:
        if c.primary(v) == i:
            out.extend(("NEW-VIEW", v, i, o) for o in new_view_options(c, ix, v))
        else:
            _enter_views(c, ix, v, i, out)


def _pre_prepares(c: Setup, ix: Index, v: int, p: int, out: list[tuple]) -> None:
    """A correct primary orders each request once per view, at the next number."""
    mine = [(n, d) for pv, n, d in ix.pp if pv == v]
    n = 1 + max((m for m, _ in mine), default=0)
    if n > c.max_seq:
        return
    ordered = {d for _, d in mine}
    for r in range(c.requests):
        if r not in ordered:
            out.append(("PRE-PREPARE", v, n, r, p))


def _prepares(c: Setup, ix: Index, v: int, i: int, out: list[tuple]) -> None:
    """Backup i accepts a pre-prepare of its view for a signed request (or null),
    unless it accepted another digest for (v, n). A faulty primary has signed every
    (n, d): different backups may take different digests (equivocation)."""
    if c.primary(v) in c.faulty:
        offers = [(n, d) for n in range(1, c.max_seq + 1) for d in c.digests]
    else:
        offers = sorted((n, d) for pv, n, d in ix.pp if pv == v)
    for n, d in offers:
        if d not in c.acceptable:
            continue
        have = ix.acc.get(i, {}).get((v, n))
        if have and (d in have or c.rules.one_digest_per_slot):
            continue
        out.append(("PREPARE", v, n, d, i))


def _executes(c: Setup, ix: Index, s: PbftState, i: int, out: list[tuple]) -> None:
    """Execute the next sequence number once committed-local in some view so far."""
    n = len(s.executed[i]) + 1
    ready = sorted({d for _, m, d in committed_local(c, ix, i) if m == n})
    out.extend(("EXECUTE", i, n, d) for d in ready)


def _enter_views(c: Setup, ix: Index, v: int, i: int, out: list[tuple]) -> None:
    if c.primary(v) in c.faulty and not c.rules.check_new_view:
        # Every O a faulty primary can sign, whatever V holds.
        options = [o for k in range(c.max_seq + 1) for o in product(c.digests, repeat=k)]
    elif c.primary(v) in c.faulty:
        options = new_view_options(c, ix, v)
    else:
        options = sorted(set(ix.nvs.get(v, ())))
    out.extend(("ENTER-VIEW", v, i, o) for o in options)


def _accepts(c: Setup, s: PbftState, out: list[tuple]) -> None:
    """A client accepts a result once `reply_need` distinct replicas reported it;
    faulty replicas report whatever result is wanted."""
    for client in range(len(s.accepted)):
        client_accepts(c, s, client, out)


def client_accepts(c: Setup, s: PbftState, client: int, out: list[tuple]) -> None:
    """The results `client` can accept in s (none once it has accepted one)."""
    if s.accepted[client] == NONE:
        votes: dict[int, int] = {}
        for i in c.correct:
            res = result_of(s.executed[i], client, c.null)
            if res != NONE:
                votes[res] = votes.get(res, 0) + 1
        for res in sorted(set(votes) | set(range(1, c.requests + 1))):
            if votes.get(res, 0) + c.nf >= c.reply_need:
                out.append(("ACCEPT", client, res))
