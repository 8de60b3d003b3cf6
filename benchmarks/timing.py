"""Shared timing helper of the benchmark scripts (run as ``python benchmarks/<script>.py``)."""

import timeit


def best(fn, number=3, repeat=5):
    """Best time per call in seconds of ``repeat`` runs of ``number`` calls, after a warm-up."""
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number
