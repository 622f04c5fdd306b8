"""ShopAgent's I/O boundaries: catalog, inventory, orders, policy, and the tools over them."""
