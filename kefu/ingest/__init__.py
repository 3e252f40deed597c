"""Ingest: one adapter per outside format, turning it into clean domain records."""
