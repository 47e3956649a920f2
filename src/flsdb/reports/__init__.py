"""Outputs: KPI tables as CSV, JSON and XLSX, and the methodology document."""
