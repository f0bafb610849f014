#!/usr/bin/env python3
"""The API server's way to the kubelets of the local cluster (kubectl logs, exec, port-forward).

kube-apiserver sends its traffic to nodes through an egress selector (local-cluster.sh writes
config/egress-selector.yaml: HTTP CONNECT over this UNIX socket). A real node is a QEMU guest behind
slirp: its address (10.200.N.15) cannot be reached from the host, but slirp forwards a loopback port
to its kubelet. This proxy answers `CONNECT host:port` with a connection to the loopback address
that scripts/real-node.sh recorded for that node in the map file ("host:port 127.0.0.1:P" lines,
"#" to the end of a line is a comment; re-read on every request, so nodes come and go without a restart). Loopback targets (the KWOK
controller's simulated kubelets) pass as they are; any other target is refused: no packet of the
local cluster leaves loopback.

Usage: kubelet-proxy.py SOCKET MAP_FILE
"""
import asyncio
import ipaddress
import os
import sys


def read_map(path):
    routes = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                fields = line.split("#", 1)[0].split()
                if len(fields) == 2:
                    routes[fields[0]] = fields[1]
    except FileNotFoundError:
        pass
    return routes


def split_host_port(target):
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except Exception:  # the peer is gone already
            pass


async def handle(map_file, client_reader, client_writer):
    try:
        head = await asyncio.wait_for(client_reader.readuntil(b"\r\n\r\n"), 10)
    except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        client_writer.close()
        return
    request = head.split(b"\r\n", 1)[0].decode("latin-1").split()
    if len(request) != 3 or request[0] != "CONNECT":
        client_writer.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
        client_writer.close()
        return
    target = request[1]
    route = read_map(map_file).get(target)
    if route is None:
        host, _ = split_host_port(target)
        route = target if is_loopback(host) else None
    if route is None:
        print(f"kubelet-proxy: refused CONNECT {target}: no real node has that address", file=sys.stderr, flush=True)
        client_writer.write(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
        client_writer.close()
        return
    host, port = split_host_port(route)
    try:
        up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
    except (OSError, asyncio.TimeoutError) as e:
        print(f"kubelet-proxy: CONNECT {target} -> {route} failed: {e}", file=sys.stderr, flush=True)
        client_writer.write(b"HTTP/1.1 503 Service Unavailable\r\n\r\n")
        client_writer.close()
        return
    client_writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    await client_writer.drain()
    await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))


async def main(socket_path, map_file):
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    server = await asyncio.start_unix_server(lambda r, w: handle(map_file, r, w), path=socket_path)
    os.chmod(socket_path, 0o600)
    print(f"kubelet-proxy: listening on {socket_path}, routes from {map_file}", file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2]))
    except KeyboardInterrupt:
        pass
