"""Scores of a clustering against labels, tables over the grid, sub-clusters within species."""
