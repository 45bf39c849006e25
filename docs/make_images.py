"""The images of the documentation, drawn from the bundled catalogs (``make docs``).

Run ``python docs/make_images.py [FOLDER]`` (default: ``docs/images``). Every image is
computed by modcfg and drawn by :mod:`modcfg.plot`, never by hand: the bicycle's exact price
distribution over its 202,516,600 valid configurations, and each module's share of them.
"""

from __future__ import annotations

import sys
from pathlib import Path

IMAGES = Path(__file__).resolve().parent / "images"


def make_images(folder: Path = IMAGES) -> list[Path]:
    """Draw every documentation image into ``folder``; returns the files written."""
    import modcfg
    import modcfg.plot

    folder.mkdir(parents=True, exist_ok=True)
    bike = modcfg.compile("bicycle")
    figures = {
        "price-distribution.png": modcfg.plot.price_distribution(bike.price_distribution()),
        "module-shares.png": modcfg.plot.module_shares(bike.module_shares()),
    }
    written = []
    for name, figure in figures.items():
        path = folder / name
        # no timestamp or software version in the file: the same catalog draws the same bytes
        figure.savefig(path, dpi=100, metadata={"Software": None})
        written.append(path)
    return written


if __name__ == "__main__":
    for path in make_images(Path(sys.argv[1]) if len(sys.argv) > 1 else IMAGES):
        print(path)
