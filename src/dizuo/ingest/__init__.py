"""Ingestion: files and databases into the lake, profiled, as new catalog versions."""

from dizuo.ingest.pipeline import IngestResult, ingest
from dizuo.ingest.spec import DatasetMeta, IngestSpec

__all__ = ["DatasetMeta", "IngestResult", "IngestSpec", "ingest"]
