"""Count, list and price windows, then find the best ones for one customer."""

import modcfg

cfg = modcfg.compile(modcfg.load_catalog("windows"))
print(cfg)

needs = modcfg.Needs(
    require=["glass.triple"], forbid=["frame.pvc"], budget="400", prefer={"frame.oak": 2}
)
print(f"{cfg.count(needs)} windows meet the customer's needs")
for quote in cfg.best(needs, k=3):
    print(f"{quote.currency} {quote.total}: {dict(quote.configuration)}")

cheapest = next(cfg.configurations(order="price"))
print("cheapest window:", dict(cheapest), cfg.price(cheapest).total)
