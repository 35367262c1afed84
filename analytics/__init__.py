"""Goodhart's engine: warehouse, importer, marts and analytics; no UI code lives here."""

__version__ = "0.1.0"
