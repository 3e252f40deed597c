"""Benchmarks, one command each; see README."""
