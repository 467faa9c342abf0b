"""Downloads a package's source distribution from the configured Python package
index without building it (`pip download` would build XGBoost just to read its
metadata). Usage: fetch_sdist.py NAME VERSION DEST_DIR. Verifies the sha256
that the index publishes."""
import hashlib
import json
import os
import subprocess
import sys
import urllib.request

from pip._internal.models.index import PyPI  # pip's default index, if none is configured


def index_url() -> str:
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        out = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                             capture_output=True, text=True)
        url = out.stdout.strip() if out.returncode == 0 else ""
    return (url or PyPI.simple_url).rstrip("/") + "/"


def main() -> None:
    name, version, dest = sys.argv[1:4]
    req = urllib.request.Request(index_url() + name + "/",
                                 headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        files = json.load(r)["files"]
    want = f"{name}-{version}.tar.gz"
    match = [f for f in files if f["filename"] == want]
    if not match:
        sys.exit(f"fetch_sdist: {want} is not on the package index")
    f = match[0]
    os.makedirs(dest, exist_ok=True)
    path = os.path.join(dest, want)
    with urllib.request.urlopen(f["url"], timeout=300) as r:
        data = r.read()
    digest = f.get("hashes", {}).get("sha256")
    if digest and hashlib.sha256(data).hexdigest() != digest:
        sys.exit(f"fetch_sdist: sha256 mismatch for {want}")
    with open(path, "wb") as out:
        out.write(data)
    print(path)


if __name__ == "__main__":
    main()
