"""The four actions of Paxos.tla, Phase1a to Phase2b, one function each.

Each function is the TLA+ action with its existential witnesses as arguments: the
enabling condition is checked by `enabled_actions`, which lists every witness that
satisfies it (as TLC enumerates `\\E m \\in msgs` and `\\E Q \\in Quorum`), and the
function computes the effect. Listing one action per witness, not per distinct
successor, is what makes our generated-state count equal TLC's.

- Phase1a(b): the leader of ballot b sends a 1a message (Paxos Made Simple, §2.2
  phase 1(a)).
- Phase1b(a): on a 1a with bal > maxBal[a], acceptor a promises b and reports its last
  vote (phase 1(b)).
- Phase2a(b, v): with 1b messages of ballot b from a quorum Q, the leader may propose
  v if v is the value of the highest-ballot vote they report, or any value if they
  report none; at most one 2a per ballot (phase 2(a)).
- Phase2b(a): on a 2a with bal >= maxBal[a], acceptor a votes for it (phase 2(b)).
"""

from __future__ import annotations

from ..common.ids import NONE
from .mutants import Rules
from .state import T1A, T1B, T2A, T2B, PaxosState


def _set(t: tuple[int, ...], i: int, x: int) -> tuple[int, ...]:
    return t[:i] + (x,) + t[i + 1 :]


# The constructor, not _replace: next_state runs for every generated state, and
# namedtuple's _replace costs a keyword-dict round trip.
def phase1a(s: PaxosState, b: int) -> PaxosState:
    # Phase1a stays enabled after its 1a is sent (as in the spec), so it is mostly a
    # stutter: returning s itself, not an equal copy, spares building a set whose hash
    # frozenset then has to compute afresh.
    m = (T1A, b)
    if m in s.msgs:
        return s
    return PaxosState(s.max_bal, s.max_vbal, s.max_val, s.msgs | {m})


def phase1b(s: PaxosState, a: int, b: int, rules: Rules) -> PaxosState:
    mbal = s.max_vbal[a] if rules.report_last_vote else s.max_bal[a]
    return PaxosState(
        _set(s.max_bal, a, b),
        s.max_vbal,
        s.max_val,
        s.msgs | {(T1B, a, b, mbal, s.max_val[a])},
    )


def phase2a(s: PaxosState, b: int, v: int) -> PaxosState:
    return PaxosState(s.max_bal, s.max_vbal, s.max_val, s.msgs | {(T2A, b, v)})


def phase2b(s: PaxosState, a: int, b: int, v: int, rules: Rules) -> PaxosState:
    return PaxosState(
        _set(s.max_bal, a, b),
        _set(s.max_vbal, a, b) if rules.record_vote_ballot else s.max_vbal,
        _set(s.max_val, a, v),
        s.msgs | {(T2B, a, b, v)},
    )


def safe_values(
    reports: dict[int, list[tuple[int, int]]],
    quorum: tuple[int, ...],
    n_values: int,
    rules: Rules,
) -> range | tuple[int, ...]:
    """The values Phase2a(b, v) may propose on the 1b `reports` of ballot b from Q.

    `reports[a]` holds the <<mbal, mval>> of a's 1b messages for the ballot. Empty if
    some acceptor of Q has not answered; otherwise the value(s) of the highest-ballot
    vote reported, or every value if no acceptor of Q reports a vote.
    """
    voted: list[tuple[int, int]] = []
    for a in quorum:
        answers = reports.get(a)
        if not answers:
            return ()
        voted.extend(r for r in answers if r[0] >= 0)
    if not voted or not rules.respect_1b_values:
        return range(n_values)
    top = max(r[0] for r in voted)
    return tuple(sorted({r[1] for r in voted if r[0] == top and r[1] != NONE}))


def enabled_actions(
    s: PaxosState,
    ballots: range,
    n_values: int,
    quorums: tuple[tuple[int, ...], ...],
    rules: Rules,
) -> list[tuple]:
    """Every (action, witnesses) tuple enabled in s, in the order of Paxos.tla's Next."""
    one_a: list[int] = []
    one_b: dict[int, dict[int, list[tuple[int, int]]]] = {}
    two_a: list[tuple[int, int]] = []
    # Only one_a and two_a need an order (they order the actions); safe_values reads
    # the 1b reports as a set. Sorting them, not all of msgs, keeps Next's order.
    for m in s.msgs:
        kind = m[0]
        if kind == T1A:
            one_a.append(m[1])
        elif kind == T1B:
            one_b.setdefault(m[2], {}).setdefault(m[1], []).append((m[3], m[4]))
        elif kind == T2A:
            two_a.append((m[1], m[2]))
    one_a.sort()
    two_a.sort()
    proposed = {b for b, _ in two_a}
    out: list[tuple] = []
    for b in ballots:
        out.append(("Phase1a", b))
        reports = one_b.get(b)
        if reports is None or (b in proposed and rules.one_2a_per_ballot):
            continue
        for q in quorums:
            for v in safe_values(reports, q, n_values, rules):
                out.append(("Phase2a", b, v, q))
    max_bal = s.max_bal
    promise_ok = rules.vote_at_promised_ballot
    for a in range(len(max_bal)):
        mb = max_bal[a]
        for b in one_a:
            if b > mb:
                out.append(("Phase1b", a, b))
        for b, v in two_a:
            if b > mb or (b == mb and promise_ok) or not rules.respect_promise:
                out.append(("Phase2b", a, b, v))
    return out
