"""Helpers of the report tests."""
