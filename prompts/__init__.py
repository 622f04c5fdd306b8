"""Installed as ``shopagent.prompts`` (see pyproject.toml, package-dir)."""

if __name__ != "shopagent.prompts":  # the folder is on sys.path (e.g. run from the repo root)
    raise ImportError(f"import ShopAgent's prompts/ as shopagent.prompts, not as {__name__}")
