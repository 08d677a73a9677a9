"""Mutants of PBFT: each breaks exactly one rule of Castro and Liskov's protocol.

A mutant is a `Rules` value with one switch flipped; the actions consult the switches,
so the correct protocol and every mutant run the same code. Quorum sizes are given as
offsets from the correct ones, so a mutant stays meaningful for any n and f.
`tests/mutants/test_pbft_mutants.py` pins the property each mutant breaks and the
length of the shortest counterexample breadth-first search finds.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...checker.model import Mutants


@dataclass(frozen=True, slots=True)
class Rules:
    # prepared(m, v, n, i): the pre-prepare and 2f (= q - 1) matching PREPAREs from
    # distinct backups. An offset of -1 is "2f - 1 prepares".
    prepare_quorum_offset: int = 0
    # committed-local(m, v, n, i): 2f + 1 (= q) matching COMMITs from distinct
    # replicas. An offset of -1 is "2f commits".
    commit_quorum_offset: int = 0
    # A client accepts a result on f + 1 matching replies: at least one is correct.
    client_needs_f_plus_1: bool = True
    # NEW-VIEW: O holds, per sequence number up to max-s, the pre-prepare of the
    # highest-view prepared certificate in V (null requests for gaps).
    new_view_uses_certificates: bool = True
    # ... from the certificates of every VIEW-CHANGE in V, not only the new
    # primary's own.
    new_view_uses_all_of_v: bool = True
    # A backup accepts a pre-prepare for (v, n) only if it has not accepted one
    # with a different digest for (v, n).
    one_digest_per_slot: bool = True
    # A replica accepts a pre-prepare only for a request a client signed (issued);
    # a faulty primary cannot forge a client's signature.
    check_client_signature: bool = True
    # A backup accepts a NEW-VIEW only if O is what the view changes in V yield;
    # otherwise a faulty new primary could hand it any pre-prepares at all.
    check_new_view: bool = True


MUTANTS = Mutants(Rules())
_mutant = MUTANTS.add


_mutant(
    "prepared-with-2f-1",
    "a replica counts as prepared with the pre-prepare and 2f - 1 matching prepares, "
    "so two prepare quorums need not share a correct replica",
    prepare_quorum_offset=-1,
)
_mutant(
    "committed-with-2f",
    "a replica is committed-local with 2f matching commits instead of 2f + 1, so the "
    "commit quorum need not hold a correct replica in every later view change",
    commit_quorum_offset=-1,
)
_mutant(
    "client-first-reply",
    "a client accepts the first reply instead of waiting for f + 1 matching replies, "
    "so a faulty replica alone can answer it",
    client_needs_f_plus_1=False,
)
_mutant(
    "new-view-ignores-certificates",
    "the NEW-VIEW's set O ignores the prepared certificates in the VIEW-CHANGE "
    "messages, so the new primary may reassign a committed sequence number",
    new_view_uses_certificates=False,
)
_mutant(
    "new-view-own-certificates",
    "the NEW-VIEW's set O keeps only the new primary's own prepared requests, "
    "ignoring the certificates the other view changes in V carry",
    new_view_uses_all_of_v=False,
)
_mutant(
    "accept-two-pre-prepares",
    "a backup accepts a second pre-prepare with a different digest for the same "
    "view and sequence number (a faulty primary's equivocation succeeds)",
    one_digest_per_slot=False,
)
_mutant(
    "accept-forged-request",
    "a backup accepts a pre-prepare without checking the client's signature on the "
    "request, so a faulty primary can order a request no client issued",
    check_client_signature=False,
)

_mutant(
    "unchecked-new-view",
    "a backup enters the new view on a NEW-VIEW without checking that O is computed "
    "from the view changes in V, so a faulty new primary can drop a committed request",
    # Only a faulty new primary sends a bad NEW-VIEW; by default the faulty replica is
    # view 0's primary, and view 1's is correct.
    exposed_by={"byzantine": "new-primary"},
    check_new_view=False,
)


rules_for = MUTANTS.rules_for
