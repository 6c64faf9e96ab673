"""Large batches on every core: the engine's process is forked once its models are loaded, each part analysed apart.

Only on Linux (fork), from the main thread of a process that may have children, for engines without the embedding
model (the fast path: language, character model, keyphrases; every text is analysed on its own, so the results are
those of one process).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

# Below this many texts per core, forking costs more than the second core saves.
PER_CORE_FROM = 250

Analyse = Callable[[Sequence[str]], list[Any]]
# The work of the current batch, set before forking: the children inherit it (nothing is pickled but texts).
_work: dict[str, Analyse] = {}


def cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worth_forking(texts: int) -> int:
    """How many processes a batch of this size is split across (1: analyse it here)."""
    if sys.platform != "linux" or multiprocessing.current_process().daemon:
        return 1
    # Only from a main thread: a server's request threads share the process with others whose locks a fork
    # could copy while held.
    if threading.current_thread() is not threading.main_thread():
        return 1
    return max(1, min(cores(), texts // PER_CORE_FROM))


def in_processes(analyse: Analyse, texts: Sequence[str], processes: int) -> list[Any]:
    """`analyse` over `texts` split into `processes` contiguous parts, this process doing the first; in order."""
    size = -(-len(texts) // processes)
    parts = [list(texts[start : start + size]) for start in range(0, len(texts), size)]
    if len(parts) < 2:
        return analyse(texts)
    _work["analyse"] = analyse
    try:
        mine, rest = _shared(analyse, parts)
    finally:
        _work.clear()
    return [*mine, *(found for part in rest for found in part)]


def _shared(analyse: Analyse, parts: list[list[str]]) -> tuple[list[Any], list[list[Any]]]:
    """This process analyses the first part while forked children analyse the others."""
    # Objects that exist now are left out of the children's garbage collections: a collection would touch, and so
    # copy, every page of the models they share with this process.
    gc.freeze()
    try:
        pool = multiprocessing.get_context("fork").Pool(len(parts) - 1)
    finally:
        gc.unfreeze()
    with pool:
        others = pool.map_async(_analyse_part, parts[1:])
        mine = analyse(parts[0])
        rest = others.get()
        pool.close()
        pool.join()
    return mine, rest


def _analyse_part(texts: list[str]) -> list[Any]:
    return _work["analyse"](texts)
