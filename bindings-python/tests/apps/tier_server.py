"""Local HTTP tiers for the tests, in a process of their own: ``python tier_server.py
STATUS...`` serves one aiohttp app per STATUS on 127.0.0.1 (a free port each; ``GET /``
answers with that status, ``GET /hits`` counts), prints the ports as one JSON line, and stops
when its standard input closes."""

from __future__ import annotations

import asyncio
import json
import socket
import sys

from aiohttp import web


async def main(statuses: list[int]) -> None:
    runners, ports = [], []
    hits = [0] * len(statuses)
    for i, status in enumerate(statuses):

        async def handle(request: web.Request, i: int = i, status: int = status) -> web.Response:
            hits[i] += 1
            return web.json_response({"tier": f"tier{i + 1}"}, status=status)

        async def count(request: web.Request, i: int = i) -> web.Response:
            return web.json_response({"hits": hits[i]})

        app = web.Application()
        app.router.add_get("/", handle)
        app.router.add_get("/hits", count)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock, backlog=512).start()
        runners.append(runner)
        ports.append(sock.getsockname()[1])
    print(json.dumps(ports), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for runner in runners:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main([int(s) for s in sys.argv[1:]]))
