"""Read a feature model in UVL, count its configurations exactly, and write it as DIMACS."""

import tempfile
from pathlib import Path

import modcfg
import modcfg.io

UVL = """\
features
    Phone
        mandatory
            Screen
                alternative
                    Basic
                    Colour
                    HighResolution
        optional
            GPS
            Camera
            Media
                or
                    MP3
                    Video
constraints
    Camera => HighResolution
    Video => Camera
"""

with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "phone.uvl"
    path.write_text(UVL, encoding="utf-8")
    catalog = modcfg.load_catalog(path)
    cfg = modcfg.compile(catalog)
    print(f"{catalog.name}: {len(catalog.slots)} features, {cfg.count()} configurations")
    modcfg.io.write_dimacs(catalog, Path(folder) / "phone.dimacs")
    again = modcfg.compile(modcfg.load_catalog(Path(folder) / "phone.dimacs"))
    print(f"as DIMACS: {again.count()} configurations")
