"""Batch scoring: tables in and out, the chunk scorer, resumable runs, local and Dask engines."""
