"""A replica that proves the cluster is real: it listens on its own CLUSTER_SPEC address,
connects to every other replica's, and exchanges task names with each. Exits 0 when it has
heard from and reached every peer; 1 on a timeout. Standard library only."""
import json
import os
import socket
import sys
import threading
import time

spec = json.loads(os.environ["CLUSTER_SPEC"])
me_type = spec["task"]["type"]
me_index = spec["task"]["index"]
me = f"{me_type}-{me_index}"
addresses = {}
for pool, members in spec["cluster"].items():
    for i, address in enumerate(members):
        addresses[f"{pool}-{i}"] = address
host, port = addresses[me].rsplit(":", 1)
peers = {name: a for name, a in addresses.items() if name != me}

heard = set()
lock = threading.Lock()
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((host, int(port)))
server.listen(len(peers) + 1)
server.settimeout(60)


def accept_all():
    while True:
        with lock:
            if len(heard) == len(peers):
                return
        try:
            conn, _ = server.accept()
        except socket.timeout:
            return
        with conn:
            name = conn.recv(256).decode()
            conn.sendall(me.encode())
        with lock:
            heard.add(name)


listener = threading.Thread(target=accept_all, daemon=True)
listener.start()

reached = set()
deadline = time.time() + 60
for name, address in sorted(peers.items()):
    h, p = address.rsplit(":", 1)
    while time.time() < deadline:
        try:
            with socket.create_connection((h, int(p)), timeout=2) as c:
                c.sendall(me.encode())
                if c.recv(256).decode() == name:
                    reached.add(name)
                    break
        except OSError:
            time.sleep(0.05)
listener.join(timeout=max(0.0, deadline - time.time()))
print(f"{me}: reached {len(reached)}/{len(peers)}, heard {len(heard)}/{len(peers)}; "
      f"TF_CONFIG={os.environ.get('TF_CONFIG', '')} RANK={os.environ.get('RANK', '')} "
      f"WORLD_SIZE={os.environ.get('WORLD_SIZE', '')}", flush=True)
sys.exit(0 if len(reached) == len(peers) and len(heard) == len(peers) else 1)
