"""ShopAgent's I/O boundaries: catalog, inventory, orders, policy, and the tools over them."""

if __name__ != "shopagent.tools":  # the folder is on sys.path (e.g. run from the repo root)
    raise ImportError(f"import ShopAgent's tools/ as shopagent.tools, not as {__name__}")
