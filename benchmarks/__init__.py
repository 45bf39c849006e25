"""The modcfg benchmark suite: modcfg against the tools a user would otherwise reach for.

Run it with ``make bench`` (``python benchmarks/run.py --help`` for the options).
"""
