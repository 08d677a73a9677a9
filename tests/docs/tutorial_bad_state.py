"""The tutorial's model that breaks the state rule (docs/writing-a-model.md, section 1):
the TM's state is a string, whose hash differs in every process."""

from dataclasses import dataclass

from smrcheck import always


@dataclass(frozen=True, slots=True)
class State:
    tm_state: str


class Bad:
    def init_states(self):
        return [State("init")]

    def actions(self, s):
        return []

    def next_state(self, s, a):
        return s

    def properties(self):
        return [always("TRUE", lambda s: True)]
