"""The HTTP baseline: a bare Flask app with one JSON endpoint (no database, no middleware).

``http_bench.py`` serves it with gunicorn under the same worker settings as ``hpf serve``,
so the ratio of an HPF endpoint to this one is the cost of HPF Core itself (request hooks,
logging, metrics, services, database), not of Python, Flask, gunicorn or the load generator.

    .venv/bin/python -m gunicorn --pythonpath benchmarks _bare_app:app
"""

from __future__ import annotations

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def bare():
    return jsonify(status="ok")  # the same body as HPF's /healthz
