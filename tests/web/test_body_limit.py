"""Request bodies over MJ_MAX_BODY_BYTES are refused before anything reads them.

Uploaded files stream to disk whatever DATA_UPLOAD_MAX_MEMORY_SIZE says, so the
declared length must decide before the CSRF check (which reads the form) runs.
"""

import re
import socket
import time
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.urls import reverse

MB = 1024 * 1024


class RecordingUploadHandler(TemporaryFileUploadHandler):
    """Django's own disk handler, counting what reaches it."""

    received: list[int] = []

    def receive_data_chunk(self, raw_data, start):
        RecordingUploadHandler.received.append(len(raw_data))
        return super().receive_data_chunk(raw_data, start)


@pytest.fixture
def uploads(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.FILE_UPLOAD_HANDLERS = [f"{__name__}.RecordingUploadHandler"]
    RecordingUploadHandler.received = []
    return tmp_path


def test_an_anonymous_30_mb_upload_to_the_login_page_is_refused_unread(client, uploads, settings, db):
    assert settings.MJ_MAX_BODY_BYTES < 30 * MB  # the default: five Create references and a form
    upload = SimpleUploadedFile("big.bin", b"\0" * (30 * MB))
    response = client.post(reverse("login"), {"username": "x", "password": "y", "file": upload})

    assert response.status_code == 413
    assert RecordingUploadHandler.received == []
    assert list(uploads.iterdir()) == []

    # A mask-sized body still gets through to the form (which then refuses the login).
    upload = SimpleUploadedFile("mask.png", b"\0" * (settings.MJ_MASK_MAX_BYTES - MB))
    response = client.post(reverse("login"), {"username": "x", "password": "y", "file": upload})
    assert response.status_code == 200
    assert sum(RecordingUploadHandler.received) == settings.MJ_MASK_MAX_BYTES - MB


def test_a_chunked_body_is_refused_for_want_of_a_length(client):
    response = client.post(reverse("login"), {"username": "x"}, HTTP_TRANSFER_ENCODING="chunked")
    assert response.status_code == 411


@pytest.mark.django_db(transaction=True)
def test_the_server_answers_413_to_the_headers_alone_without_waiting_for_the_body(live_server):
    """Over a real socket: 500 MB declared, no byte of it sent; the answer comes at once."""
    parts = urlsplit(live_server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            b"POST /accounts/login/ HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 524288000\r\n\r\n"
        )
        started = time.monotonic()
        answer = _whole_answer(sock)
    assert answer.startswith(b"HTTP/1.1 413")
    assert time.monotonic() - started < 5


def _whole_answer(sock: socket.socket) -> bytes:
    """Headers and body, all of it: closing with bytes unread would reset the connection
    and cut the live server's request short of its request_finished signal."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(4096) or b"\r\n\r\n"
    head, _sep, body = answer.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?im)^content-length:\s*(\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(4096) or b" " * length
    return head + b"\r\n\r\n" + body
