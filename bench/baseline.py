"""The bare baseline for `make bench`: Flask answering a fixed JSON body, nothing else.

Served by the same gunicorn settings as the simulator, so the ratio between the two is the
cost of everything the sandbox adds (auth, validation both ways, SQLite, journal, events).
"""

from flask import Flask

app = Flask("baseline")
BODY = {"account_id": 100000001, "authorization_id": 1, "status": "PROCESSING"}


@app.route("/<path:anything>", methods=["GET", "POST"])
def anything(anything: str) -> tuple[dict, int]:
    return BODY, 200
