#!/usr/bin/env python3
"""A real MCP client (the official Python SDK, `mcp` on PyPI) for lexsearch's MCP tests.

    mcp_client.py calls (--url URL [--token T] | -- COMMAND ARGS...)  < plan.json
        Connects, lists the tools, makes each call of the plan ({"calls": [{"tool": NAME,
        "arguments": {...}}]}) and prints one JSON object: {"server", "tools", "results"}, where
        each result is {"is_error", "structured", "text"} or {"protocol_error": {"code",
        "message"}} when the server answered the call with a JSON-RPC error.

    mcp_client.py bench --n N [--k K] (--url URL [--token T] | -- COMMAND ARGS...)
        Times N `search` calls over one session (after one warm-up call), cycling through a few
        legal questions, and prints {"n", "k", "p50_ms", "p99_ms", "mean_ms", "min_ms", "max_ms",
        "search_p50_ms"} (the last: the search itself, as the server's `elapsed` reports it).

scripts/test installs the SDK in ~/.cache/lexsearch/mcp-venv; tests/mcp.rs runs this script
with that venv's Python (LEXSEARCH_MCP_PYTHON).
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time

from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

BENCH_QUERIES = [
    "when must the landlord return the security deposit",
    "termination for convenience notice period",
    "governing law and venue",
    "confidential information exclusions",
    "limitation of liability cap",
    "§ 1983",
    "who owns the intellectual property created by the contractor",
    "non-compete restrictions after employment ends",
]


def server_of(args):
    if args.url:
        headers = {"Authorization": f"Bearer {args.token}"} if args.token else None
        return streamable_http_client(args.url, http_client=create_mcp_http_client(headers=headers))
    if not args.command:
        sys.exit("give --url URL or -- COMMAND ARGS...")
    return StdioServerParameters(command=args.command[0], args=args.command[1:], env=dict(os.environ))


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def calls(args):
    plan = json.load(sys.stdin)
    out = {"results": []}
    async with Client(server_of(args)) as client:
        tools = await client.list_tools()
        out["tools"] = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools.tools]
        for call in plan["calls"]:
            try:
                r = await client.call_tool(call["tool"], call.get("arguments", {}))
            except MCPError as e:
                out["results"].append({"protocol_error": {"code": e.code, "message": e.message}})
                continue
            out["results"].append(
                {"is_error": bool(r.is_error), "structured": r.structured_content, "text": text_of(r)}
            )
    print(json.dumps(out))


async def bench(args):
    times, inside = [], []
    async with Client(server_of(args)) as client:
        await client.call_tool("search", {"query": "warm up", "k": args.k})
        for i in range(args.n):
            query = BENCH_QUERIES[i % len(BENCH_QUERIES)]
            started = time.perf_counter()
            r = await client.call_tool("search", {"query": query, "k": args.k})
            times.append((time.perf_counter() - started) * 1000)
            if r.is_error:
                sys.exit(f"search failed: {text_of(r)}")
            inside.append(r.structured_content["elapsed"])
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(
        json.dumps(
            {
                "n": len(times),
                "k": args.k,
                "p50_ms": round(statistics.median(times), 2),
                "p99_ms": round(pick(0.99), 2),
                "mean_ms": round(statistics.fmean(times), 2),
                "min_ms": round(times[0], 2),
                "max_ms": round(times[-1], 2),
                "search_p50_ms": round(statistics.median(inside), 2),
            }
        )
    )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["calls", "bench"])
    p.add_argument("--url", help="streamable HTTP endpoint, e.g. http://127.0.0.1:8765/mcp")
    p.add_argument("--token", help="bearer token for --url")
    p.add_argument("--n", type=int, default=200, help="bench: number of timed searches")
    p.add_argument("--k", type=int, default=10, help="bench: hits per search")
    argv = sys.argv[1:]
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = p.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.command = command
    asyncio.run(calls(args) if args.action == "calls" else bench(args))


if __name__ == "__main__":
    main()
