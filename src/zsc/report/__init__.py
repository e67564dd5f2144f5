"""Figures for the report, HTML galleries and their thumbnails."""
