"""The web application: a JSON API and server-rendered pages over `flsdb.services`.

    web -> services -> storage / kpi

`create_app(settings)` builds it; `flsdb serve` runs it with uvicorn.
"""
