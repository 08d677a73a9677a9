"""`check`: one run of one strategy over one model, and its verdict as a `CheckResult`.

The driver builds the search context, hands it to the strategy the options name, and
turns the strategy's `Outcome` into the result: `violation` if an invariant broke,
`ok` if an exhaustive strategy ran to its end, `incomplete` if a bound stopped it first
or the strategy only samples (random walks). An exhaustive run that never reached a
`sometimes` goal is a violation too: the model is vacuous for that goal.
"""

from __future__ import annotations

import gc
import resource
import time
from collections.abc import Hashable
from types import ModuleType
from typing import Any

from ..contract import check_model
from ..model import Model, action_text, describe_state
from ..report import ActionCoverage, CheckResult, Step, Violation, state_changes
from ..store import collision_probability
from . import bfs, dfs, parallel, simulate, swarm
from .core import Context, Outcome
from .options import Options


def check(
    model: Model,
    options: Options = Options(),
    *,
    name: str = "model",
    params: dict[str, Any] | None = None,
    mutant: str | None = None,
) -> CheckResult:
    """Explore `model` with `options` and return the verdict with its statistics."""
    identity = {"model": name, "params": dict(params or {}), "mutant": mutant,
                "symmetry": options.symmetry is not False,
                # Invariants are checked in the model's order, whatever the order asked.
                "properties": sorted(set(options.properties or []))}
    if not options.goals:
        # Only when off, so that checkpoints saved before the switch existed still match.
        identity["goals"] = False
    ctx = Context(model, options, identity)
    options.check_combination()
    check_model(model)
    # States are immutable and acyclic, so the cyclic garbage collector finds nothing
    # to free, yet its full collections walk every live frontier state: it cost a
    # third of the run time on paxos. Reference counting still frees everything.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        outcome = _strategy(options).run(ctx)
    finally:
        if gc_was_enabled:
            gc.enable()
    seconds = time.monotonic() - ctx.start
    return _result(ctx, outcome, seconds, name, dict(params or {}), mutant)


def _strategy(options: Options) -> ModuleType:
    """The module whose `run(ctx) -> Outcome` does the search."""
    chosen = options.strategy.name
    if chosen == "bfs":
        return parallel if options.distribution.partitioned else bfs
    return {"dfs": dfs, "simulate": simulate, "swarm": swarm}[chosen]


def _result(ctx: Context, outcome: Outcome, seconds: float, name: str,
            params: dict[str, Any], mutant: str | None) -> CheckResult:
    options, model = ctx.options, ctx.model
    exhaustive = not options.strategy.random and outcome.bound is None
    pending = [p for p in ctx.props if p.kind == "sometimes" and p.id not in outcome.reached]
    violation: Violation | None = None
    if outcome.counterexample is not None:
        prop, path = outcome.counterexample.prop, outcome.counterexample.path
        violation = Violation(prop.id, "always", prop.message(path[-1][1]), steps_of(model, path))
    elif exhaustive and pending:
        goal = pending[0]
        violation = Violation(
            goal.id,
            "sometimes",
            f"never reached in {outcome.distinct} states: {goal.description} "
            "(the model is vacuous for this goal)",
        )
    bound = outcome.bound
    if violation is not None:
        result = "violation"
    elif exhaustive:
        result = "ok"
    else:
        result = "incomplete"
        if bound is None:
            bound = "walks"
    counters = outcome.counters
    generated = counters.generated_states
    distinct = outcome.distinct
    return CheckResult(
        model=name,
        params=params,
        mutant=mutant,
        strategy=options.strategy.name,
        seed=options.strategy.seed,
        symmetry=ctx.canonical is not None,
        result=result,
        distinct_states=distinct,
        generated_states=generated,
        depth=outcome.depth,
        seconds=round(seconds, 6),
        states_per_second=round(distinct / seconds, 1) if seconds > 0 else 0.0,
        peak_rss_mb=round(peak_rss_mb() + outcome.worker_peak_rss_mb, 1),
        collision_probability=collision_probability(distinct, generated),
        coverage={action: ActionCoverage(count, counters.new.get(action, 0))
                  for action, count in counters.generated.items()},
        properties=[p.id for p in ctx.props],
        reached=list(outcome.reached),
        unreached=[p.id for p in pending],
        bound=bound,
        violation=violation,
        walks=outcome.walks,
    )


def steps_of(model: Model, path: list[tuple[tuple | None, Hashable]]) -> list[Step]:
    """A replayed path as printed steps: the action, the state, what the action changed."""
    steps: list[Step] = []
    before: dict[str, Any] = {}
    for i, (action, state) in enumerate(path):
        described = describe_state(model, state)
        steps.append(
            Step(
                index=i,
                action=None if action is None else action_text(model, action),
                state=described,
                changes=state_changes(before, described) if i else [],
            )
        )
        before = described
    return steps


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
