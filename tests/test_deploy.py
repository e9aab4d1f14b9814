"""The shipped production setup, run for real: nginx (deploy/nginx/walkapp-locations.conf) in front of
gunicorn (deploy/gunicorn.conf.py, three sync workers) on PostgreSQL.

Four phones upload photos at 75 KB/s while twenty others upload at full speed and a coordinator reads the
map: because nginx holds the slow bodies, every upload is accepted with its row and files, and reads keep
their p95 under a second (without request buffering the four slow uploads take all three workers for seconds).
Photos go out through nginx after walkapp's permission check.
"""
from __future__ import annotations

import http.client
import io
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from .conftest import STATIC_BUILD_PATH, TEST_DATABASE_URL

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)

pytestmark = [
    pytest.mark.skipif(not TEST_DATABASE_URL, reason="the production setup runs on PostgreSQL"),
    pytest.mark.skipif(NGINX is None and not os.environ.get("CI"), reason="nginx is not installed"),
]

SLOW_BYTES_PER_SECOND = 75 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def walkapp_cli(env, *args) -> str:
    result = subprocess.run([sys.executable, "-c", "from walkapp.cli import main; main()", *args],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def nginx_conf(folder: Path, port: int, socket_path: Path, photos: Path) -> Path:
    locations = (ROOT / "deploy/nginx/walkapp-locations.conf").read_text()
    assert "alias /srv/walkapp/instance/photos/;" in locations
    (folder / "locations.conf").write_text(locations.replace("/srv/walkapp/instance/photos/", f"{photos}/"))
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "cache")}
    for path in temp.values():
        path.mkdir()
    conf = folder / "nginx.conf"
    conf.write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {temp['body']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
    proxy_cache_path {temp['cache']} keys_zone=walkapp_static:1m;
    upstream walkapp {{ server unix:{socket_path} fail_timeout=0; }}
    server {{
        listen 127.0.0.1:{port};
        server_name 127.0.0.1;
        include {folder}/locations.conf;
    }}
}}
""")
    return conf


def wait_for(check, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not come up")


def answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


@pytest.fixture
def site(tmp_path, pg_databases):
    """nginx + gunicorn on a new PostgreSQL database; yields (port, token, database url, photo folder)."""
    assert NGINX, "CI installs Debian's nginx (.ci/run)"
    port, socket_path = free_port(), tmp_path / "gunicorn.sock"
    database_url = pg_databases.create()
    env = {**os.environ, "WALKAPP_INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database_url,
           "SECRET_KEY": uuid.uuid4().hex, "WALKAPP_PROXY_FORWARDS": "1",
           "WALKAPP_PHOTO_ACCEL_REDIRECT": "/_photos/", "WALKAPP_TRUSTED_HOSTS": "127.0.0.1",
           "WALKAPP_BASE_URL": f"http://127.0.0.1:{port}", "WALKAPP_STATIC_BUILD_PATH": STATIC_BUILD_PATH,
           "WEB_CONCURRENCY": "3", "GUNICORN_BIND": f"unix:{socket_path}"}
    walkapp_cli(env, "db", "upgrade")
    walkapp_cli(env, "seed-categories")
    walkapp_cli(env, "create-user", "samordnare@example.se", "--role", "coordinator",
                "--password", "a-long-password")
    token = walkapp_cli(env, "create-token", "samordnare@example.se").strip().splitlines()[-1]
    gunicorn = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                                 "walkapp:create_app()"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conf = nginx_conf(tmp_path, port, socket_path, tmp_path / "instance" / "photos")
    nginx = subprocess.Popen([NGINX, "-e", "stderr", "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: answers(port), "nginx + gunicorn")
        yield port, token, database_url, tmp_path / "instance" / "photos"
    finally:
        for process in (nginx, gunicorn):
            process.terminate()
        for process in (nginx, gunicorn):
            process.wait(timeout=30)


def photo_jpeg(seed: int, size=(560, 420)) -> bytes:
    """Noise compresses badly, like a real photo: about 300 KB at 560 x 420."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def report_body(n: int, size=(560, 420)) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    fields = {"category": "belysning", "lat": str(62.63 + n / 10000), "lon": "17.94",
              "description": f"Trasig lampa {n}", "client_key": f"deploy-test-{n:04d}"}
    body = io.BytesIO()
    for name, value in fields.items():
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="p{n}.jpg"\r\n'
               f"Content-Type: image/jpeg\r\n\r\n".encode())
    body.write(photo_jpeg(n, size) + b"\r\n" + f"--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def upload(port: int, token: str, n: int, bytes_per_second: int | None) -> int:
    # The slow phones send a bigger photo (about 8 s at 75 KB/s).
    body, content_type = report_body(n, (800, 600) if bytes_per_second else (400, 300))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.putrequest("POST", "/api/v1/observations")
    for header, value in (("Authorization", f"Bearer {token}"), ("Content-Type", content_type),
                          ("Content-Length", str(len(body)))):
        connection.putheader(header, value)
    connection.endheaders()
    chunk = 7680 if bytes_per_second else len(body)
    for start in range(0, len(body), chunk):
        connection.send(body[start:start + chunk])
        if bytes_per_second:
            time.sleep(chunk / bytes_per_second)
    response = connection.getresponse()
    response.read()
    return response.status


def read_map(port: int, token: str) -> float:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/api/v1/observations?bbox=17.9,62.6,18.0,62.7",
                       headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    response.read()
    assert response.status == 200
    return time.perf_counter() - started


def test_slow_uploads_hold_no_worker_and_nothing_is_lost(site):
    port, token, database_url, photo_folder = site
    latencies: list[float] = []
    done = threading.Event()  # set when the slow uploads are through: the reads are measured while they last

    def reader():
        while not done.is_set():
            latencies.append(read_map(port, token))
            time.sleep(0.1)

    for _ in range(6):  # both workers have loaded what the first request loads
        read_map(port, token)
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        with ThreadPoolExecutor(max_workers=4) as slow_phones, ThreadPoolExecutor(max_workers=2) as fast_phones:
            slow = [slow_phones.submit(upload, port, token, n, SLOW_BYTES_PER_SECOND) for n in range(4)]
            time.sleep(1)  # the slow phones are sending
            fast = [fast_phones.submit(upload, port, token, n, None) for n in range(4, 24)]
            statuses = [f.result() for f in slow]
            done.set()
            statuses += [f.result() for f in fast]
    finally:
        done.set()
        for thread in readers:
            thread.join()
    assert statuses == [201] * 24
    p95 = statistics.quantiles(latencies, n=20)[-1]
    assert len(latencies) >= 20 and p95 < 1.0, (len(latencies), p95, [round(x, 2) for x in latencies])

    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM observation")).scalar() == 24
        keys = connection.execute(sa.text("SELECT storage_key FROM photo")).scalars().all()
        photo_id, key = connection.execute(sa.text("SELECT id, storage_key FROM photo ORDER BY id")).first()
    engine.dispose()
    assert len(keys) == 24
    for stored in keys:
        for rendition in ("display", "thumb"):
            assert (photo_folder / stored[:2] / f"{stored}.{rendition}.jpg").stat().st_size > 1000

    # The photo comes from nginx after the permission check, byte for byte; the internal path is closed.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", f"/photos/{photo_id}/display.jpg", headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("X-Accel-Redirect") is None
    assert response.read() == (photo_folder / key[:2] / f"{key}.display.jpg").read_bytes()
    assert "private" in response.getheader("Cache-Control")
    connection.request("GET", f"/photos/{photo_id}/display.jpg")  # no token: no photo
    refused = connection.getresponse()
    assert refused.status in (302, 401, 404) and not refused.read().startswith(b"\xff\xd8")
    connection.request("GET", f"/_photos/{key[:2]}/{key}.display.jpg")
    direct = connection.getresponse()
    direct.read()
    assert direct.status == 404
