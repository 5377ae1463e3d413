"""Hostile and broken input: every bad file gets a clear error (issue 8)."""
