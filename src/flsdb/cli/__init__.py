"""The `flsdb` command line (Typer + Rich)."""
