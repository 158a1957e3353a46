"""The finance staff's pages, one module per page or concern. Reads come from selectors; every write
goes through one service. `grants/urls.py` names each view by its module (`funds.FundDetailView`)."""
