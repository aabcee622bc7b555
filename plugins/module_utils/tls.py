# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS for WCS's wss/https ports: the operator's certificate, chain and key checked, then turned into the keystore
the server reads (PKCS#12, which Java's JKS loader also reads: ``keystore.type.compat``, JDK 8u60+ / 9+).

Needs the ``cryptography`` package (Debian: python3-cryptography). Every check raises
``PlanError(field, value, fix, why)``, whose value never holds key material. Whatever PEM text is given (garbage,
an unknown key algorithm, a certificate with a duplicate or malformed extension, a private key pasted into the
certificate or chain), the answer is such an error, never another exception: ``load_bundle`` parses every part a
later step reads. Keys are RSA or EC (what browsers and WCS's Java TLS serve with).

- ``load_bundle(cert_pem, chain_pem, key_pem, passphrase, field)`` -> Bundle (parsing errors named by field);
- ``check_bundle(bundle, names, addresses, min_days, now)``: key matches the certificate, the chain is in order
  (each certificate signed by the next), the SAN covers the container, and it is not expiring within min_days;
- ``keystore_bytes(bundle, password, alias)`` / ``keystore_matches(data, bundle, password, alias)``: write the
  keystore, and tell whether an existing one already holds exactly this bundle (PKCS#12 files differ on every
  write: random salts), so a converge is idempotent;
- ``summary(bundle)``: what diffs and results show (subject, SANs, fingerprint, expiry; never the key).
"""
from __future__ import annotations

import datetime
import ipaddress

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.exceptions import InternalError, InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # reported by the module with missing_required_lib
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = exc

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

MAX_PEM = 256 * 1024
KEY_FIX = "give the PEM private key (RSA or EC) of the certificate, with the right passphrase"
# What parsing user-given PEM/DER may raise besides PlanError (cryptography's Rust and OpenSSL layers).
PARSE_ERRORS = (ValueError, TypeError, UnsupportedAlgorithm, InternalError) if HAS_CRYPTOGRAPHY else (ValueError,)
# what reading a certificate's extensions, and checking its issuer's signature, may raise besides PARSE_ERRORS
CERT_READ_ERRORS = PARSE_ERRORS + ((x509.UnsupportedGeneralNameType,) if HAS_CRYPTOGRAPHY else ())
SIGNATURE_ERRORS = PARSE_ERRORS + ((InvalidSignature,) if HAS_CRYPTOGRAPHY else ())


class Bundle:
    """A parsed certificate, its chain (issuer first) and its private key."""

    def __init__(self, cert, chain, key):
        self.cert, self.chain, self.key = cert, list(chain), key


def _first_line(exc):
    return (str(exc).split("\n", maxsplit=1)[0][:200] or type(exc).__name__).strip()


def _pem_text(value, field, what, certificates=False):
    if not isinstance(value, str) or not value.strip():
        raise PlanError(field, "(empty)" if not value else "(not text)", "give the %s in PEM form (from a vault)" % what)
    if len(value) > MAX_PEM:
        raise PlanError(field, "%d characters" % len(value), "give one PEM %s (at most %d characters)" % (what, MAX_PEM))
    if certificates and "PRIVATE KEY" in value:
        raise PlanError(field, "(a private key block, not shown)", "give only certificates here; the private key goes "
                        "in wcs_tls_private_key, which is never shown", why="it holds a private key")
    return value.encode("utf-8", "replace")


def _load_key(data, passphrase, field):
    if passphrase is not None and not isinstance(passphrase, str):
        raise PlanError(field + "_passphrase", "(hidden)", "give the passphrase as text")
    try:
        secret = passphrase.encode("utf-8") if passphrase else None
    except UnicodeError:
        raise PlanError(field + "_passphrase", "(hidden)", "give the passphrase as text", why="it is not UTF-8")
    try:
        key = serialization.load_pem_private_key(data, password=secret)
    except TypeError as exc:
        raise PlanError(field, "(hidden)", "give the key's passphrase in %s_passphrase (or an unencrypted key)"
                        % field, why=_first_line(exc))
    except UnsupportedAlgorithm:
        raise PlanError(field, "(hidden)", KEY_FIX, why="its algorithm is not one this host's cryptography knows")
    except PARSE_ERRORS as exc:
        raise PlanError(field, "(hidden)", KEY_FIX, why=_first_line(exc))
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        kind = type(key).__name__.replace("PrivateKey", "").lstrip("_") or "another"
        raise PlanError(field, "(hidden)", KEY_FIX, why="it is a %s key, which browsers and WCS's TLS do not serve "
                        "with" % kind)
    return key


def _check_cert(cert, field, index, count):
    """Reads every part of ``cert`` a later step uses, so a certificate cryptography only half parses (duplicate or
    malformed extensions, an unknown key or signature algorithm, a bad name) is refused here."""
    where = "certificate %d" % (index + 1) if count > 1 else "the certificate"
    try:
        subject = cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
        _not_after(cert)
        _not_before(cert)
        cert.fingerprint(hashes.SHA256())
        extensions = cert.extensions
        cert.public_key()
    except x509.DuplicateExtension as exc:
        oid = getattr(exc, "oid", None)
        name = getattr(oid, "_name", None) or getattr(oid, "dotted_string", None) or "an extension"
        raise PlanError(field, where, "give a certificate with each extension once (ask the CA to reissue it)",
                        why="it has the extension %s twice" % name)
    except CERT_READ_ERRORS as exc:
        raise PlanError(field, where, "give a certificate this host can read (RSA or EC key, well-formed "
                        "extensions)", why=_first_line(exc))
    try:
        sans_of(extensions)
    except PARSE_ERRORS as exc:
        raise PlanError(field, "%s (%s)" % (where, subject), "give a certificate whose subjectAltName holds DNS names "
                        "and IP addresses", why=_first_line(exc))


def load_bundle(cert_pem, chain_pem, key_pem, passphrase=None, field="wcs_tls"):
    """Parses the three PEM texts; the chain may be empty (a certificate signed directly by a root)."""
    certs = _load_certs(_pem_text(cert_pem, field + "_certificate", "certificate", certificates=True),
                        field + "_certificate")
    if chain_pem is not None and not isinstance(chain_pem, str):
        raise PlanError(field + "_chain", "(not text)", "give the intermediate certificates in PEM form (or nothing)")
    if len(certs) > 1 and not (chain_pem or "").strip():
        certs, chain = certs[:1], certs[1:]  # a full-chain file given as the certificate
    else:
        chain = _load_certs(_pem_text(chain_pem, field + "_chain", "chain", certificates=True), field + "_chain") \
            if (chain_pem or "").strip() else []
    if len(certs) != 1:
        raise PlanError(field + "_certificate", "%d certificates" % len(certs),
                        "give the server certificate alone here and its intermediates in %s_chain" % field)
    _check_cert(certs[0], field + "_certificate", 0, 1)
    for index, cert in enumerate(chain):
        _check_cert(cert, field + "_chain", index, len(chain))
    key = _load_key(_pem_text(key_pem, field + "_private_key", "private key"), passphrase, field + "_private_key")
    return Bundle(certs[0], chain, key)


def _load_certs(data, field):
    try:
        certs = x509.load_pem_x509_certificates(data)
    except PARSE_ERRORS as exc:
        raise PlanError(field, "(PEM text)", "give PEM certificates (-----BEGIN CERTIFICATE-----)",
                        why=_first_line(exc))
    return certs


def _spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _not_after(cert):
    return getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def _not_before(cert):
    return getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def sans_of(extensions):
    """(dns names, ip addresses) of a certificate's extensions' subjectAltName."""
    try:
        ext = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return ext.get_values_for_type(x509.DNSName), [str(a) for a in ext.get_values_for_type(x509.IPAddress)]


def sans(cert):
    """(dns names, ip addresses) of the certificate's subjectAltName (a certificate from load_bundle)."""
    return sans_of(cert.extensions)


def covers(cert, name):
    """True when the SAN holds ``name``: an IP address exactly, a DNS name exactly or by a one-label wildcard."""
    dns, ips = sans(cert)
    try:
        return str(ipaddress.ip_address(name)) in ips
    except ValueError:
        pass
    name = name.lower().rstrip(".")
    for pattern in (d.lower().rstrip(".") for d in dns):
        if pattern == name:
            return True
        if pattern.startswith("*.") and "." in name:
            head, _dot, rest = name.partition(".")
            if head and rest == pattern[2:]:
                return True
    return False


def _issued_by(cert, issuer):
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except SIGNATURE_ERRORS:
        return False


def check_bundle(bundle, names=(), addresses=(), min_days=30, now=None, field="wcs_tls"):
    """Raises PlanError unless the bundle is fit to serve for a container known by ``names`` (every one must be
    covered) or, with no names, by one of its ``addresses``."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    cert = bundle.cert
    subject = cert.subject.rfc4514_string()
    if _spki(cert.public_key()) != _spki(bundle.key.public_key()):
        raise PlanError(field + "_private_key", "(hidden)", "give the private key of the certificate %s (they come "
                        "together from the CA request)" % subject, why="it does not match the certificate")
    chain = [cert] + bundle.chain
    for index, (lower, upper) in enumerate(zip(chain, chain[1:])):
        if not _issued_by(lower, upper):
            raise PlanError(field + "_chain", "certificate %d: %s" % (index + 1, upper.subject.rfc4514_string()),
                            "order the chain from the certificate's issuer up to the root (each certificate signed "
                            "by the next) and leave out certificates of other chains",
                            why="it did not sign %s" % lower.subject.rfc4514_string())
    if _not_before(cert) > now:
        raise PlanError(field + "_certificate", subject, "wait until %s or use a certificate valid now"
                        % _not_before(cert).date(), why="it is not valid yet")
    days_left = (_not_after(cert) - now).total_seconds() / 86400.0
    if days_left < min_days:
        raise PlanError(field + "_certificate", "%s (expires %s)" % (subject, _not_after(cert).date()),
                        "renew the certificate (or lower wcs_tls_min_days, now %s)" % min_days,
                        why="it expires in %.0f days" % days_left if days_left > 0 else "it has expired")
    dns, ips = sans(cert)
    names = [n for n in names if n]
    if names:
        missing = [n for n in names if not covers(cert, n)]
        if missing:
            raise PlanError(field + "_names", ", ".join(missing), "use a certificate whose subjectAltName holds "
                            "them, or list only the names clients use", why="the certificate's SAN holds only %s"
                            % (", ".join(dns + ips) or "nothing"))
    elif not any(covers(cert, a) for a in addresses if a):
        raise PlanError(field + "_certificate", "%s (SAN %s)" % (subject, ", ".join(dns + ips) or "none"),
                        "list the DNS names clients use for this container in wcs_tls_names (checked against the "
                        "SAN), or use a certificate holding its address %s" % ", ".join(a for a in addresses if a),
                        why="its SAN covers none of the container's addresses")
    return {"days_left": int(days_left)}


def keystore_bytes(bundle, password, alias):
    """PKCS#12 with the key, the certificate and the chain under ``alias``, encrypted with ``password`` (AES-256,
    PBKDF2: JDK 8u301+, 11.0.12+, 17 read it)."""
    return pkcs12.serialize_key_and_certificates(
        alias.encode(), bundle.key, bundle.cert, bundle.chain or None,
        serialization.BestAvailableEncryption(password.encode()))


def keystore_matches(data, bundle, password, alias):
    """True when the PKCS#12 ``data`` (opened with ``password``) holds exactly this key, certificate, chain and
    alias; False when it differs or cannot be opened."""
    try:
        loaded = pkcs12.load_pkcs12(data, password.encode())
    except PARSE_ERRORS:
        return False
    if loaded.key is None or loaded.cert is None:
        return False
    same_key = _spki(loaded.key.public_key()) == _spki(bundle.key.public_key()) and \
        loaded.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()) == \
        bundle.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    chain = [c.certificate for c in loaded.additional_certs]
    return (same_key and loaded.cert.certificate == bundle.cert and loaded.cert.friendly_name == alias.encode()
            and sorted(c.fingerprint(hashes.SHA256()) for c in chain)
            == sorted(c.fingerprint(hashes.SHA256()) for c in bundle.chain))


def summary(bundle):
    """What results and diffs show: never the key."""
    dns, ips = sans(bundle.cert)
    return {"subject": bundle.cert.subject.rfc4514_string(),
            "issuer": bundle.cert.issuer.rfc4514_string(),
            "san": dns + ips,
            "sha256": bundle.cert.fingerprint(hashes.SHA256()).hex(":"),
            "not_after": _not_after(bundle.cert).isoformat(),
            "chain": [c.subject.rfc4514_string() for c in bundle.chain]}
