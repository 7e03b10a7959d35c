"""Read-only access to the HELK engine for hunt notebooks (standard library only).

The deployment injects the engine's address and the analyst's credentials as environment variables, so no
notebook holds a token or a password: HELK_ENGINE_URL, HELK_ENGINE_USERNAME, HELK_ENGINE_PASSWORD and, for a
private CA, HELK_ENGINE_CA (a PEM file); HELK_ENGINE_INSECURE_TLS=true skips the check (lab certificates).
"""
import base64
import json
import os
import ssl
import urllib.error
import urllib.request


def _context():
    if os.environ.get("HELK_ENGINE_INSECURE_TLS") == "true":
        return ssl._create_unverified_context()
    ca = os.environ.get("HELK_ENGINE_CA")
    return ssl.create_default_context(cafile=ca) if ca else None


def request(method, path, body=None):
    """One engine REST call; the answer as parsed JSON. Errors name the path and the engine's reason."""
    url = os.environ["HELK_ENGINE_URL"].rstrip("/") + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    user = os.environ.get("HELK_ENGINE_USERNAME")
    if user:
        token = base64.b64encode(f"{user}:{os.environ.get('HELK_ENGINE_PASSWORD', '')}".encode()).decode()
        req.add_header("authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, context=_context(), timeout=60) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{method} {path}: {error.code} {error.read()[:500].decode(errors='replace')}") from None


def count(index, query=None):
    body = {"query": query} if query else None
    return request("POST", f"/{index}/_count?ignore_unavailable=true&allow_no_indices=true", body)["count"]


def search_all(index, query, fields, page=5000):
    """Every matching document's chosen `_source` fields, read with a scroll."""
    answer = request("POST", f"/{index}/_search?scroll=2m&ignore_unavailable=true&allow_no_indices=true",
                     {"size": page, "query": query, "_source": fields, "sort": ["_doc"]})
    docs = []
    try:
        while answer["hits"]["hits"]:
            docs += [dict(hit["_source"], _id=hit["_id"]) for hit in answer["hits"]["hits"]]
            answer = request("POST", "/_search/scroll", {"scroll": "2m", "scroll_id": answer["_scroll_id"]})
    finally:
        if answer.get("_scroll_id"):
            request("DELETE", "/_search/scroll", {"scroll_id": answer["_scroll_id"]})
    return docs


def result(summary):
    """Shows a notebook's outcome as one JSON line (what the headless test run reads back)."""
    print("HELK-RESULT " + json.dumps(summary, sort_keys=True))
    return summary
