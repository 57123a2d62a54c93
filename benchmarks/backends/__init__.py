"""Backends benchmark: the plugin path to an HTTP backend vs a raw httpx call (issue 6)."""
