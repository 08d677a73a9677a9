"""The constants of a run: how many generals, at most how many traitors, the depth m
of OM(m) or SM(m), and the rules (correct, or a mutant's)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, product

from ..common.ids import NONE
from .mutants import Rules
from .state import ORDERS, is_traitor


@dataclass(frozen=True, slots=True)
class Setup:
    n: int         # generals 0..n-1, 0 the commander
    traitors: int  # at most this many traitors (the paper: "at most m traitors")
    m: int
    rules: Rules

    def traitor_sets(self) -> list[int]:
        """Every choice of at most `traitors` traitors, as bitmasks: the adversary picks
        who is a traitor, the commander included."""
        # Highest-numbered first, so that a shortest counterexample names the traitor
        # the paper's figures do (L2 of three generals).
        return [sum(1 << g for g in group) for k in range(self.traitors + 1)
                for group in combinations(range(self.n - 1, -1, -1), k)]

    def loyal(self, traitors: int, generals) -> tuple[int, ...]:
        return tuple(g for g in generals if not is_traitor(traitors, g))

    def sends(self, traitors: int, sender: int, value: int,
              receivers: tuple[int, ...]) -> list[tuple[int, ...]]:
        """What `sender` may send `receivers`, each as a tuple over all generals (NONE
        where nothing is recorded): a loyal sender sends `value` to each; a traitor
        any order to each loyal receiver, independently. Omitting a message is the
        same as sending RETREAT, which the receiver uses for a missing one (A3), so it
        is not listed apart. What a traitor receives is never recorded."""
        loyal = self.loyal(traitors, receivers)
        choices = [(value,) * len(loyal)] if not is_traitor(traitors, sender) else \
            list(product(ORDERS, repeat=len(loyal)))
        out = []
        for picked in choices:
            vals = [NONE] * self.n
            for i, v in zip(loyal, picked):
                vals[i] = v
            out.append(tuple(vals))
        return out
