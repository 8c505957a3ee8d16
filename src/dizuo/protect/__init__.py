"""Protect: de-identification recipes, transforms, privacy models and risk."""
