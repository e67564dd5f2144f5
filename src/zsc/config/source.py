"""Reading a config file as a person wrote it: YAML mistakes with file and line, keys given twice."""

from __future__ import annotations

from pathlib import Path

import yaml


class _DuplicateCheckingLoader(yaml.SafeLoader):
    """YAML loading that records keys given twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append(f"key '{key}' appears twice (lines {seen[key]} and {line})")
            seen.setdefault(key, line)
        return super().construct_mapping(node, deep=deep)


def duplicate_keys(path: Path | str) -> list[str]:
    """'<path>: key 'x' appears twice (lines a and b)' for each duplicated key in a YAML file."""
    loader = _DuplicateCheckingLoader(Path(path).read_text())
    loader.duplicates = []
    try:
        loader.get_single_data()
    except yaml.YAMLError:
        return []  # syntax errors are reported when the file is loaded
    finally:
        loader.dispose()
    return [f"{path}: {message}" for message in loader.duplicates]


def load_file(path: Path | str) -> tuple[dict | None, list[str]]:
    """(the config, problems): YAML syntax errors with file:line:column (and the tab hint), duplicate keys."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        return None, [f"{path}: cannot read ({error.strerror})"]
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        tab = " (a tab in the indentation: YAML allows spaces only)" if "\t" in text else ""
        return None, [f"{where}: {getattr(error, 'problem', None) or error}{tab}"]
    return config or {}, duplicate_keys(path)
