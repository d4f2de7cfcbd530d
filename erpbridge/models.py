"""Models of erpbridge (filled by its issue)."""
