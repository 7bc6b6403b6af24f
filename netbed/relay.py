"""A TCP relay run inside a bed host: accepts on a bed address and forwards each connection to a
loopback port of the same namespace (how the chain host exposes its anvil, which listens on
loopback only, to the other hosts)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress

from netbed.addressing import require_bed_address


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


async def serve(listen: tuple[str, int], target: tuple[str, int]) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, *listen)
    print(f"relaying {listen[0]}:{listen[1]} -> {target[0]}:{target[1]}", flush=True)
    async with server:
        await server.serve_forever()


def split(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="bed address:port")
    parser.add_argument("--to", required=True, help="loopback address:port")
    args = parser.parse_args()
    listen, target = split(args.listen), split(args.to)
    require_bed_address(listen[0])
    if not ipaddress.ip_address(target[0]).is_loopback:
        raise SystemExit(f"--to must be a loopback address, not {target[0]}")
    asyncio.run(serve(listen, target))


if __name__ == "__main__":
    main()
