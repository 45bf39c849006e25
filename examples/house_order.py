"""A twelve-window house order: three lines of windows_pro with rules across them, one quote,
the bill of materials, the delivery date and the production plan (see docs/production.md)."""

from __future__ import annotations

import modcfg

NEEDS = modcfg.Needs(today="2026-11-02", region="EU", services=["installation"])


def house_order() -> modcfg.Order:
    """Four large living-room windows, six bedroom windows and two small bathroom windows."""
    cfg = modcfg.compile("windows_pro")
    window = {
        "frame": "pvc-plus",
        "grade": "g2",
        "picture": "plain",
        "hardware": {"security-lock": 1},
    }
    lines = [
        modcfg.OrderLine("living", 4, {**window, "glass": "triple", "size": "large"}),
        modcfg.OrderLine("bedrooms", 6, {**window, "glass": "triple", "size": "medium"}),
        modcfg.OrderLine(
            "bathroom", 2, {**window, "glass": "tempered", "size": "small", "picture": "etched"}
        ),
    ]
    rules = [
        modcfg.OrderRule(id="one-profile", same="frame", message="One profile for the house"),
        modcfg.OrderRule(
            id="two-glazings", distinct="glass", at_most=2, message="Two glazing types at most"
        ),
        modcfg.OrderRule(
            id="one-truck", constraint="total(weight_kg) <= 900", message="One truck carries 900 kg"
        ),
    ]
    return modcfg.Order(cfg, lines, rules)


def main() -> None:
    order = house_order()
    print(order.quote(NEEDS))
    bom = order.bill_of_materials(NEEDS)
    print(bom)
    print(*bom.critical_path, sep="\n")
    print(*bom.plan, sep="\n")
    print(f"postponement point: {bom.postponement_point}; delivery {bom.delivery_date}")


if __name__ == "__main__":
    main()
