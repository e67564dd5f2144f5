"""Reducers and clusterers (registries of methods with declared parameters), density presets, memory estimates."""
