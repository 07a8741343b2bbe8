"""``python -m simulator`` runs the pismo-sandbox command."""

from pismo_sandbox.cli import main

main()
