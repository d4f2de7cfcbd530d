"""Printable documents of the after-sales app (ReportLab)."""
