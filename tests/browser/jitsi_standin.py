"""A local stand-in for a Jitsi server: serves external_api.js over HTTPS and records how the
room page constructed the meeting. Tests only; the page's real loading code runs against it."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

EXTERNAL_API = b"""
window.JitsiMeetExternalAPI = class {
  constructor(domain, options) {
    this.listeners = {};
    const { parentNode, ...recorded } = options;
    window.jitsiStandIn = { domain, options: recorded, api: this, parentIsElement: parentNode instanceof Element };
    const frame = document.createElement("iframe");
    frame.title = "Jitsi stand-in";
    frame.srcdoc = "<p>video</p>";
    parentNode.append(frame);
  }
  addListener(name, callback) { (this.listeners[name] ||= []).push(callback); }
  fire(name) { for (const callback of this.listeners[name] || []) callback({}); }
};
"""


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "standin.crt", folder / "standin.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path != "/external_api.js":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/javascript")
        self.send_header("Content-Length", str(len(EXTERNAL_API)))
        self.end_headers()
        self.wfile.write(EXTERNAL_API)

    def log_message(self, *args) -> None:
        pass


class JitsiStandIn:
    """An HTTPS server on 127.0.0.1 with a free port; `domain` is what TUTORING_JITSI_DOMAIN takes."""

    def __init__(self, folder: Path) -> None:
        cert, key = _certificate(folder)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.domain = f"127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> JitsiStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
