# SPDX-License-Identifier: AGPL-3.0-or-later
"""A throw-away certificate authority for the TLS tests: a CA certificate and server
certificates it signed for localhost / 127.0.0.1, written as PEM files (one server:
make_test_ca; several, each with its own key, as police domains have: TestPki)."""

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class TestCa:
    ca_cert: Path
    server_cert: Path  # the server certificate (leaf only)
    server_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jwwx test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


class TestPki:
    """A CA in memory, its certificate on disk, issuing server certificates."""

    def __init__(self, folder: Path, days: int = 30) -> None:
        self.folder = folder
        self.days = days
        self._now = datetime.datetime.now(datetime.UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = _name("jwwx test CA")
        ca = (
            x509.CertificateBuilder()
            .subject_name(self._name)
            .issuer_name(self._name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._now - datetime.timedelta(minutes=5))
            .not_valid_after(self._now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        folder.mkdir(parents=True, exist_ok=True)
        self.ca_cert = folder / "ca.pem"
        self.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def issue(self, label: str, host: str = "localhost") -> tuple[Path, Path]:
        """(certificate, key) of a new server certificate for host and 127.0.0.1."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(host))
            .issuer_name(self._name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._now - datetime.timedelta(minutes=5))
            .not_valid_after(self._now + datetime.timedelta(days=self.days))
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName(host),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        cert_path = self.folder / f"{label}.pem"
        key_path = self.folder / f"{label}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_path.chmod(0o600)
        return cert_path, key_path


def make_test_ca(folder: Path, days: int = 30) -> TestCa:
    pki = TestPki(folder, days)
    cert, key = pki.issue("server")
    return TestCa(pki.ca_cert, cert, key)
