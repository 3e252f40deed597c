"""Clients for outside services, each behind a small interface."""
