"""``python -m rar_provider.parameters`` prints the tables for ``docs/protocol.md``."""

from .markdown import render_markdown

if __name__ == "__main__":  # pragma: no cover - a developer's tool
    print(render_markdown())
