"""The package version: a leaf module, so any module can import it without importing the package root.
pyproject.toml reads it from here (`[tool.setuptools.dynamic]`)."""

__version__ = "0.2.0"
