"""Audits at scale: `divulge batch` over many apps (inputs, worker pools, the SQLite store, evidence, dashboard)."""

from scanner.batch.inputs import AppJob, BadBatchInput, load_jobs
from scanner.batch.runner import BatchOptions, BatchSummary, run_batch

__all__ = ["AppJob", "BadBatchInput", "BatchOptions", "BatchSummary", "load_jobs", "run_batch"]
