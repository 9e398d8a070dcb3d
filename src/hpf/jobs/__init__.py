"""Batch jobs: named entry points that call services (never SQL), one registry for all.

Each business module adds its job module to ``JOB_MODULES``; importing it registers its
jobs. ``hpf jobs list|run|history`` and ``hpf scheduler`` read the same registry.
"""

from __future__ import annotations

import importlib

from hpf.jobs.registry import REGISTRY, JobContext, JobOutcome, JobRegistry, JobSpec

JOB_MODULES = ("hpf.jobs.system", "hpf.jobs.audit", "hpf.jobs.collection")

__all__ = ["REGISTRY", "JobContext", "JobOutcome", "JobRegistry", "JobSpec", "load_jobs"]


def load_jobs() -> JobRegistry:
    for module in JOB_MODULES:
        importlib.import_module(module)
    return REGISTRY
