"""The version of modcfg (written into saved compiled catalogs, which load only in it)."""

__version__ = "0.1.0"
