"""Example Pismo clients the drills judge (good_client, naive_client), and a test suite using the pytest plugin."""
