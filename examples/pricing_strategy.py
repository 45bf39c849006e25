"""A price ladder on the bundled windows_pro catalog, then revenue-optimal surcharges for three
customer segments (the walk-through of docs/pricing.md, whose numbers this script prints)."""

from decimal import Decimal

import modcfg
from modcfg.model import catalog_to_data
from modcfg.pricing import Segment, optimise

data = catalog_to_data(modcfg.load_catalog("windows_pro"))
# the standard window, and what each slot varies
data["standard"] = {"frame": "pvc", "glass": "double", "grade": "g1", "picture": "plain",
                    "size": "medium", "hardware": {}}  # fmt: skip
data["slots"]["picture"]["kind"] = "cosmetic"
data["slots"]["hardware"]["kind"] = "adaptive"
data["slots"]["size"]["degree_weight"] = 0  # a size is a measurement, not a customization
# what each module costs the firm: 60 % of its list price
for slot in data["slots"].values():
    for module in slot["modules"].values():
        module["cost"] = str(Decimal(module.get("price", "0")) * 6 / 10)
data["prices"].append(
    {
        "id": "customised",
        "message": "Customisation",
        "ladder": [{"min_degree": 1, "percent": "5"}, {"min_degree": 3, "amount": "60.00"}],
    }
)
cfg = modcfg.compile(modcfg.Catalog.model_validate(data))

print(cfg)
print("variety:", cfg.variety())
oak = {"frame": "oak", "glass": "triple", "grade": "g1", "picture": "cross", "size": "medium"}
print("degree of an oak window:", cfg.degree(oak))
for line in cfg.price(oak).lines:
    if line.kind == "ladder":
        print("quote line:", line)
print("standard-ish windows (degree <= 2):", cfg.count(modcfg.Needs(degree={"max": 2})))

segments = [
    Segment("renovation", size=60, values={"frame.pvc": 260, "glass.double": 150}, budget="520"),
    Segment(
        "comfort",
        size=40,
        values={"frame.pvc": 260, "glass.double": 150, "grade.g2": 80, "picture.cross": 70},
        budget="650",
    ),
    Segment(
        "architect",
        size=25,
        values={"frame.oak": 520, "glass.triple": 260, "picture.georgian": 90},
    ),
    Segment(
        "security",
        size=15,
        values={"grade.g3": 180, "glass.laminated-p4a": 240, "frame.aluminium": 380},
        budget="1000",
    ),
]
result = optimise(cfg, segments, ("0", "200"))
print(f"optimised surcharges: {result.surcharges} ({result.method}, optimal: {result.optimal})")
print(f"margin {result.margin}; flat pricing {result.flat_margin}; today {result.current_margin}")
for purchase in result.purchases:
    bought = None if purchase.option is None else dict(purchase.option.configuration)
    print(f"  {purchase.segment}: {bought} at {purchase.price}")
