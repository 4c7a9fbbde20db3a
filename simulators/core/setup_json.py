"""Reading a machine's SETUP.json (the machine block of a task file): one error type and the checks both
machines use, so a wrong key or type gets the same clear message on the lathe and the mill."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SetupError(ValueError):
    """A SETUP.json that cannot be used (unknown key, wrong type): the command cannot run."""


def mapping(key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SetupError(f"{key} must be an object")
    return value


def typed(key: str, value: Any, kind: type) -> Any:
    """`value` as `kind` (bool, str, int or float); JSON's true/false never pass for numbers."""
    if kind is bool or kind is str:
        if not isinstance(value, kind):
            raise SetupError(f"{key} must be {'true or false' if kind is bool else 'a string'}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SetupError(f"{key} must be a number")
    if kind is int and value != int(value):
        raise SetupError(f"{key} must be a whole number")
    return kind(value)
