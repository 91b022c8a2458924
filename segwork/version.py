"""segwork's version (one place: the package, the command line and reports read it here)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
