"""``python -m pismo_sandbox`` runs the pismo-sandbox command."""

from pismo_sandbox.cli import main

main()
