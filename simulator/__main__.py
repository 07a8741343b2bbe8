"""``python -m simulator`` runs the pismo-sandbox command."""

from simulator.cli import main

main()
