"""Toy models written on the public API, as a user's model file would be: the sources
that tests of `smrcheck.testing` and the pytest plugin write into their temporary
folders and load by path."""

MUTEX = '''
"""Processes take one lock before their critical section."""

from dataclasses import dataclass

from smrcheck import Mutant, always, sometimes


@dataclass(frozen=True)
class S:
    pc: tuple  # per process: 0 idle, 1 in its critical section
    lock: int  # the holder, -1 when free


class Mutex:
    """Processes take one lock before their critical section."""

    mutants = [Mutant("no-lock", "a process enters without taking the lock")]

    def __init__(self, procs: int = 2, mutant=None):
        self.procs = procs
        self.mutant = mutant

    def init_states(self):
        return [S((0,) * self.procs, -1)]

    def actions(self, s):
        for i in range(self.procs):
            if s.pc[i] == 0 and (s.lock == -1 or self.mutant == "no-lock"):
                yield ("Enter", i)
            if s.pc[i] == 1:
                yield ("Exit", i)

    def next_state(self, s, a):
        kind, i = a
        pc = list(s.pc)
        pc[i] = 1 if kind == "Enter" else 0
        return S(tuple(pc), i if kind == "Enter" else -1)

    def properties(self):
        return [always("MUTEX", lambda s: sum(s.pc) <= 1,
                       "at most one process is in its critical section"),
                sometimes("ENTERED", lambda s: any(s.pc))]


NOT_A_MODEL = 3
'''
