"""Agreement and the conjuncts of Paxos.tla's inductive invariant, each a property.

Paxos.tla proves `Spec => V!Spec` (Paxos refines Voting) with the invariant `Inv`;
MCPaxos.cfg checks its conjuncts separately as Inv1..Inv4 "to help locate an error".
We do the same, and split the message part and Voting's part further, so a failure
names the rule that broke:

- PAXOS-AGREEMENT (Consensus.tla): at most one value is chosen, where v is chosen when
  a quorum voted for it in one ballot (Voting's `chosen`).
- PAXOS-INV2 (Inv!2): an acceptor's <<maxVBal, maxVal>> is a vote it cast, or
  <<-1, None>>.
- PAXOS-INV3-1B (Inv!3, 1b part): a 1b message's sender has promised its ballot, and
  the vote it reports was cast.
- PAXOS-INV3-2A (Inv!3, 2a part): a 2a's value is safe (ShowsSafeAt for some quorum)
  and no other 2a has its ballot.
- PAXOS-VOTES-SAFE and PAXOS-ONE-VALUE-PER-BALLOT (Inv!4 = Voting's Inv): every vote
  is for a value safe at its ballot; two votes in one ballot agree.
- PAXOS-CHOSEN (sometimes): some value does get chosen, so the checks are not vacuous.

Inv!1 is TypeOK: our state types enforce it by construction, so it is not checked.
Every property uses the model's own quorums: a mutant with smaller quorums also has
learners that consider a value chosen on a smaller quorum. With Flexible Paxos
quorums, `chosen` counts votes on phase-2 quorums and Voting's NoneOtherChoosableAt
and ShowsSafeAt use phase-1 quorums, which reduces to Paxos.tla when both are equal.
"""

from __future__ import annotations

from ...checker.model import Property
from ..common.ids import NONE, acceptor_name, node_set, value_name
from .state import T1B, T2A, PaxosState, votes

Quorums = tuple[tuple[int, ...], ...]


def chosen(
    s: PaxosState, quorums: Quorums, vts: list[set[tuple[int, int]]] | None = None
) -> dict[int, tuple[int, tuple[int, ...]]]:
    """value -> (ballot, quorum) of a ballot in which a quorum voted for it."""
    if vts is None:
        vts = votes(s.msgs, len(s.max_bal))
    out: dict[int, tuple[int, tuple[int, ...]]] = {}
    for b, v in sorted(set().union(*vts)):
        if v in out:
            continue
        for q in quorums:
            if all((b, v) in vts[a] for a in q):
                out[v] = (b, q)
                break
    return out


def make_properties(quorums: Quorums, quorums2: Quorums) -> list[Property]:
    """The properties over phase-1 `quorums` and phase-2 `quorums2` (equal in Paxos.tla;
    Flexible Paxos lets them differ as long as every phase-1 quorum meets every phase-2
    quorum). Votes choose a value on a phase-2 quorum. Safety is shown, and "no other
    value choosable" witnessed, on a phase-1 quorum: it meets every phase-2 quorum, so
    one of its members blocks any other value's phase-2 quorum."""
    # The properties run one after another on each new state; they share its votes.
    last: list = [None, None]

    def state_votes(s: PaxosState) -> list[set[tuple[int, int]]]:
        if last[0] is not s:
            last[0], last[1] = s, votes(s.msgs, len(s.max_bal))
        return last[1]

    def agreement(s: PaxosState) -> bool:
        return len(chosen(s, quorums2, state_votes(s))) <= 1

    def explain_agreement(s: PaxosState) -> str:
        parts = [
            f"{value_name(v)} in ballot {b} by {node_set(q)}"
            for v, (b, q) in sorted(chosen(s, quorums2, state_votes(s)).items())
        ]
        return "two values chosen: " + "; ".join(parts)

    def inv2_breakers(s: PaxosState) -> list[int]:
        vts = state_votes(s)
        bad = []
        for a, (vb, vv) in enumerate(zip(s.max_vbal, s.max_val)):
            ok = vv == NONE if vb == -1 else (vb, vv) in vts[a]
            if not ok:
                bad.append(a)
        return bad

    def explain_inv2(s: PaxosState) -> str:
        a = inv2_breakers(s)[0]
        return (
            f"acceptor {acceptor_name(a)} has <<maxVBal, maxVal>> = "
            f"<<{s.max_vbal[a]}, {value_name(s.max_val[a])}>>, which is not a vote it cast"
        )

    def bad_1b(s: PaxosState) -> list[tuple[int, ...]]:
        vts = state_votes(s)
        return [
            m
            for m in sorted(s.msgs)
            if m[0] == T1B
            and (s.max_bal[m[1]] < m[2] or (m[3] >= 0 and (m[3], m[4]) not in vts[m[1]]))
        ]

    def explain_1b(s: PaxosState) -> str:
        _, a, b, mbal, mval = bad_1b(s)[0]
        if s.max_bal[a] < b:
            return (
                f"{acceptor_name(a)} sent a 1b promising ballot {b} but its maxBal is "
                f"{s.max_bal[a]}: it broke its promise"
            )
        return (
            f"{acceptor_name(a)}'s 1b for ballot {b} reports a vote <<{mbal}, "
            f"{value_name(mval)}>> it never cast"
        )

    def shows_safe_at(s: PaxosState, vts, q, b: int, v: int) -> bool:
        """Voting.tla's ShowsSafeAt(Q, b, v) under Paxos's refinement mapping."""
        if any(s.max_bal[a] < b for a in q):
            return False
        for c in range(-1, b):
            if c != -1 and not any((c, v) in vts[a] for a in q):
                continue
            if all(vb[0] <= c or vb[0] >= b for a in q for vb in vts[a]):
                return True
        return False

    def bad_2a(s: PaxosState) -> list[str]:
        vts = state_votes(s)
        two_a = sorted(m for m in s.msgs if m[0] == T2A)
        out = []
        for _, b, v in two_a:
            if not any(shows_safe_at(s, vts, q, b, v) for q in quorums):
                out.append(f"2a for ballot {b} proposes {value_name(v)}, which is not safe")
            others = [w for _, bb, w in two_a if bb == b and w != v]
            if others:
                out.append(
                    f"two 2a messages in ballot {b}: {value_name(v)} and {value_name(others[0])}"
                )
        return out

    def safe_at(vts, max_bal, b: int, v: int) -> bool:
        """Voting.tla's SafeAt(b, v): no other value chosen or choosable below b."""
        for c in range(b):
            if not any(
                all(
                    (c, v) in vts[a]
                    or (max_bal[a] > c and not any(vb[0] == c for vb in vts[a]))
                    for a in q
                )
                for q in quorums
            ):
                return False
        return True

    def unsafe_votes(s: PaxosState) -> list[tuple[int, int, int]]:
        vts = state_votes(s)
        return [
            (a, b, v)
            for a in range(len(vts))
            for b, v in sorted(vts[a])
            if not safe_at(vts, s.max_bal, b, v)
        ]

    def explain_votes_safe(s: PaxosState) -> str:
        a, b, v = unsafe_votes(s)[0]
        return (
            f"{acceptor_name(a)} voted for {value_name(v)} in ballot {b}, but "
            f"{value_name(v)} is not safe at {b}: another value is chosen or choosable "
            "in a lower ballot"
        )

    def split_ballots(s: PaxosState) -> list[int]:
        per_ballot: dict[int, set[int]] = {}
        for vs in state_votes(s):
            for b, v in vs:
                per_ballot.setdefault(b, set()).add(v)
        return sorted(b for b, vs in per_ballot.items() if len(vs) > 1)

    def explain_split(s: PaxosState) -> str:
        b = split_ballots(s)[0]
        vts = state_votes(s)
        who = sorted(
            f"{acceptor_name(a)}:{value_name(v)}" for a in range(len(vts)) for bb, v in vts[a] if bb == b
        )
        return f"acceptors voted for different values in ballot {b}: {', '.join(who)}"

    return [
        Property(
            "PAXOS-AGREEMENT",
            "always",
            agreement,
            "at most one value is chosen (Consensus.tla)",
            explain_agreement,
        ),
        Property(
            "PAXOS-INV2",
            "always",
            lambda s: not inv2_breakers(s),
            "each acceptor's <<maxVBal, maxVal>> is a vote it cast (Paxos.tla Inv!2)",
            explain_inv2,
        ),
        Property(
            "PAXOS-INV3-1B",
            "always",
            lambda s: not bad_1b(s),
            "a 1b message's ballot is promised and the vote it reports was cast (Inv!3)",
            explain_1b,
        ),
        Property(
            "PAXOS-INV3-2A",
            "always",
            lambda s: not bad_2a(s),
            "a 2a message's value is safe at its ballot, and it is the only 2a of its "
            "ballot (Inv!3)",
            lambda s: bad_2a(s)[0],
        ),
        Property(
            "PAXOS-VOTES-SAFE",
            "always",
            lambda s: not unsafe_votes(s),
            "every vote is for a value safe at its ballot (Voting.tla VotesSafe, Inv!4)",
            explain_votes_safe,
        ),
        Property(
            "PAXOS-ONE-VALUE-PER-BALLOT",
            "always",
            lambda s: not split_ballots(s),
            "votes cast in one ballot are for one value (Voting.tla OneValuePerBallot)",
            explain_split,
        ),
        Property(
            "PAXOS-CHOSEN",
            "sometimes",
            lambda s: bool(chosen(s, quorums2, state_votes(s))),
            "some value is chosen",
        ),
    ]
