"""A guided dialogue: choose modules one at a time, never reaching a dead end."""

import json

import modcfg

cfg = modcfg.compile(modcfg.load_catalog("windows_pro"))
session = cfg.session(modcfg.Needs(quantity=2, payment="instalments-12"))

state = session.choose("frame", "pvc")
print(
    f"{state.count} completions, {state.currency} {state.price_range[0]} - {state.price_range[1]}"
)
for module, option in state["glass"].items():
    price = f"from {state.currency} {option.from_price}" if option.from_price else option.reason
    print(f"  glass {module:15} {option.status:9} {option.count:6}  {price}")

print(session.why_not("glass", "triple"))
quote = session.complete()
print(f"completed: {dict(quote.configuration)} for {quote.currency} {quote.total}")
print(f"{quote.instalments} instalments of {quote.currency} {quote.instalment_amount}")
print(session)
secret = b"storefront signing key"  # the server's secret: the client cannot forge needs
saved = session.to_json(signing_key=secret)  # JSON text to keep in the client
assert modcfg.Session.from_json(cfg, saved, signing_key=secret).to_json() == session.to_json()
print(json.dumps(dict(quote.configuration)))  # multi-select slots as {module: quantity}
