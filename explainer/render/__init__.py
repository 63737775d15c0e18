"""Rendering: trace -> context -> templates -> Markdown (and JSON)."""
