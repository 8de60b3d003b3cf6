"""Shared timing helper of the benchmark scripts (run as ``python benchmarks/<script>.py``)."""

import time
import timeit

import numpy as np


def best(fn, number=3, repeat=5):
    """Best time per call in seconds of ``repeat`` runs of ``number`` calls, after a warm-up."""
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def median_interleaved(calls, repeats):
    """Median seconds per call of each of ``calls`` over ``repeats`` interleaved rounds."""
    for call in calls:
        call()
    times = [[] for _ in calls]
    for _ in range(repeats):
        for t, call in zip(times, calls, strict=True):
            start = time.perf_counter()
            call()
            t.append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]
