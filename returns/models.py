"""Models of returns (filled by its issue)."""
