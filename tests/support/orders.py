"""Orders of a run's events that the format allows (FORMAT.md: a merged file may
interleave the nodes' logs in any order, each node's events in seq order), for the
tests that hold a verdict independent of line order."""

from __future__ import annotations

import random


def by_node(events: list[dict]) -> dict[str, list[dict]]:
    """Each node's events, in seq order."""
    out: dict[str, list[dict]] = {}
    for ev in events:
        out.setdefault(ev["node"], []).append(ev)
    for evs in out.values():
        evs.sort(key=lambda e: e["seq"])
    return out


def interleave(events: list[dict], rng: random.Random) -> list[dict]:
    """A random merge of the nodes' logs: each node's events stay in seq order."""
    queues = {n: list(evs) for n, evs in by_node(events).items()}
    out = []
    while queues:
        n = rng.choice(sorted(queues))
        out.append(queues[n].pop(0))
        if not queues[n]:
            del queues[n]
    return out


def nodes_reversed(events: list[dict]) -> list[dict]:
    """Each node's whole log in turn, the last node first: recvs mostly come before
    their sends, the order a merger finds hardest."""
    out = []
    for _, evs in sorted(by_node(events).items(), reverse=True):
        out += evs
    return out
