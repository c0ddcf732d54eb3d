"""Shipped model versions (package data), found by classifier.artifact.default_artifacts_dir."""
