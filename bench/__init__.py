"""Benchmarks that seed data and measure; not part of the test run (see bench/README.md)."""
