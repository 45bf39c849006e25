"""When needs cannot be met: the clashing needs and ranked ways out."""

import modcfg

cfg = modcfg.compile(modcfg.load_catalog("windows_pro"))
needs = modcfg.Needs(require=["glass.triple"], budget="400")
try:
    cfg.best(needs)
except modcfg.InfeasibleError as error:
    print("clash:", "; ".join(error.conflict))
    for relaxation in error.relaxations:
        print("  try:", relaxation)
