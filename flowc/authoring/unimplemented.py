"""Metaflow names flowc does not implement, importable so a Metaflow flow's import line works.

A flow that only imports them runs; one that uses them fails at once with a one-line message
naming the feature, never later or silently. (``flowc check`` refusing their use at file:line is
the front end's job.)
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = [
    "FlowMutator",
    "StepMutator",
    "UserStepDecorator",
    "parallel",
    "user_step_decorator",
]


class UnimplementedFeature(TypeError):
    """A Metaflow feature flowc does not implement was used."""


def _refuse(feature: str) -> NoReturn:
    raise UnimplementedFeature(f"flowc does not implement Metaflow's {feature}")


class _Refused:
    """Base of the classes below: instantiating or subclassing one is refused."""

    FEATURE = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if cls.__module__ != __name__:  # a user's subclass, not the names below
            _refuse(cls.FEATURE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _refuse(self.FEATURE)


class FlowMutator(_Refused):
    FEATURE = "FlowMutator"


class StepMutator(_Refused):
    FEATURE = "StepMutator"


class UserStepDecorator(_Refused):
    FEATURE = "UserStepDecorator"


def user_step_decorator(*args: Any, **kwargs: Any) -> NoReturn:
    _refuse("user_step_decorator")


def parallel(*args: Any, **kwargs: Any) -> NoReturn:
    _refuse("@parallel")
