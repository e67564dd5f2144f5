"""Sorting unlabeled photos: the setting, the assignment, placing photos in folders, the review page and its apply."""
