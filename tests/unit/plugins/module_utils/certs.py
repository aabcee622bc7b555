"""Test certificates made on the fly with cryptography (never committed): a root CA, an intermediate, leaves."""
from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)


def key():
    return ec.generate_private_key(ec.SECP256R1())


def cert(subject_cn, subject_key, issuer_cn, issuer_key, ca=False, sans=(), days=90, start_days=-1):
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)]))
               .public_key(subject_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOW + datetime.timedelta(days=start_days))
               .not_valid_after(NOW + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    names = []
    for san in sans:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            names.append(x509.DNSName(san))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(obj):
    if hasattr(obj, "private_bytes"):
        return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
    return obj.public_bytes(serialization.Encoding.PEM).decode()


class PKI:
    """root -> intermediate -> leaf(s)."""

    def __init__(self):
        self.root_key, self.inter_key = key(), key()
        self.root = cert("Test Root CA", self.root_key, "Test Root CA", self.root_key, ca=True, days=3650)
        self.inter = cert("Test Intermediate", self.inter_key, "Test Root CA", self.root_key, ca=True, days=1000)

    def leaf(self, sans=("media1.example.net", "203.0.113.4"), days=90, start_days=-1, cn="media1.example.net"):
        leaf_key = key()
        return cert(cn, leaf_key, "Test Intermediate", self.inter_key, sans=sans, days=days,
                    start_days=start_days), leaf_key

    def bundle_pem(self, **kw):
        leaf, leaf_key = self.leaf(**kw)
        return pem(leaf), pem(self.inter) + pem(self.root), pem(leaf_key)


# An extension OID encoded with as many bytes as subjectAltName's (2.5.29.17 -> 2.5.29.99): renaming it in the DER
# gives a certificate with two subjectAltName extensions, which CertificateBuilder refuses to make.
_SAN_OID_DER = bytes.fromhex("0603551d11")
_STAND_IN_OID_DER = bytes.fromhex("0603551d63")


def cert_with_two_sans(subject_key, sans_one=("203.0.113.4",), sans_two=("media1.example.net",), days=90):
    """A self-signed certificate with two subjectAltName extensions (its signature no longer verifies: the DER was
    edited after signing; a self-signed leaf with no chain is not verified by wcs_tls)."""
    first = cert("two-sans.example.net", subject_key, "two-sans.example.net", subject_key, sans=sans_one, days=days)
    second = x509.SubjectAlternativeName([x509.DNSName(n) for n in sans_two])
    builder = (x509.CertificateBuilder()
               .subject_name(first.subject).issuer_name(first.issuer).public_key(subject_key.public_key())
               .serial_number(first.serial_number)
               .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=days))
               .add_extension(first.extensions.get_extension_for_class(x509.SubjectAlternativeName).value,
                              critical=False)
               .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.99"), second.public_bytes()),
                              critical=False))
    der = builder.sign(subject_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    assert der.count(_STAND_IN_OID_DER) == 1
    return x509.load_der_x509_certificate(der.replace(_STAND_IN_OID_DER, _SAN_OID_DER))
