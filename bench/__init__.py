"""`make bench`: load generation against the simulator and a bare Flask baseline."""
