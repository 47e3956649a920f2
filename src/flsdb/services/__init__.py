"""What a person can do, decided and done once: accounts, records, uploads, events.

Called by the command line, the JSON API and the pages alike; nothing here knows about HTTP.
Every function takes the `Actor` doing it, and `flsdb.services.access` decides what it may see.
"""
