"""No cyclic garbage collection while a whole school's rows become objects.

Reading a whole school's ledger and consent builds hundreds of thousands of small objects (rows,
holdings, keys) that all stay alive until the answer is made. Each allocation burst makes Python's cyclic
collector walk every live object again, which cost deletion list a third of its time and freed nothing.
These reads make no reference cycles worth collecting, so the collector is paused for their duration and
put back as it was (nested calls leave it paused until the outermost one ends). Reference counting still
frees everything as usual; only the cycle search waits.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def without_gc_pauses(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` with the cyclic collector paused, restoring it after (even on an error)."""

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return paused
