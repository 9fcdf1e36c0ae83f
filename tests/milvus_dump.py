"""Dumps a lexsearch Milvus collection with pymilvus (an independent client), for tests/milvus.rs.

    python milvus_dump.py URI COLLECTION     -> JSON: {"properties": {...}, "rows": [...]}
    python milvus_dump.py URI COLLECTION count -> the number of rows
    python milvus_dump.py URI COLLECTION delete ID -> deletes one row (to test verify)
"""

import json
import sys

from pymilvus import MilvusClient

FIELDS = ["id", "doc", "path", "title", "crumbs", "start", "end", "line", "page",
          "page_end", "paragraph", "text", "mail", "dense"]


def main():
    uri, collection = sys.argv[1], sys.argv[2]
    client = MilvusClient(uri=uri)
    if not client.has_collection(collection):
        print(json.dumps({"properties": None, "rows": []}) if len(sys.argv) < 4 else 0)
        return
    if len(sys.argv) > 3 and sys.argv[3] == "count":
        res = client.query(collection, filter="", output_fields=["count(*)"])
        print(res[0]["count(*)"])
        return
    if len(sys.argv) > 4 and sys.argv[3] == "delete":
        client.delete(collection, filter=f"id == {int(sys.argv[4])}")
        client.flush(collection)
        return
    props = client.describe_collection(collection).get("properties", {})
    rows = []
    last = -1
    while True:
        batch = client.query(collection, filter=f"id > {last}", output_fields=FIELDS, limit=1000)
        if not batch:
            break
        batch.sort(key=lambda r: r["id"])
        for r in batch:
            r["dense"] = [float(x) for x in r["dense"]]
            rows.append(r)
        last = batch[-1]["id"]
    print(json.dumps({"properties": props, "rows": rows}))


main()
