"""module_utils/tls.py with certificates made in the test, and Java's own keytool reading the keystore."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils import tls
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from certs import PKI, key, pem  # noqa: E402

ADDRESSES = ("203.0.113.4", "198.51.100.4")


@pytest.fixture(scope="module")
def pki():
    return PKI()


def bundle(pki, **kw):
    return tls.load_bundle(*pki.bundle_pem(**kw))


def test_good_bundle_passes_by_address_and_by_name(pki):
    b = bundle(pki)
    assert tls.check_bundle(b, addresses=ADDRESSES)["days_left"] in (88, 89, 90)
    tls.check_bundle(b, names=["media1.example.net"], addresses=ADDRESSES)


def test_full_chain_given_as_certificate(pki):
    cert, chain, k = pki.bundle_pem()
    b = tls.load_bundle(cert + chain, "", k)
    assert len(b.chain) == 2
    tls.check_bundle(b, addresses=ADDRESSES)


def test_wildcard(pki):
    b = bundle(pki, sans=("*.example.net",))
    tls.check_bundle(b, names=["a.example.net"])
    with pytest.raises(PlanError):
        tls.check_bundle(b, names=["a.b.example.net"])
    with pytest.raises(PlanError):
        tls.check_bundle(b, names=["example.net"])


@pytest.mark.parametrize("case, field, words", [
    ("other key", "wcs_tls_private_key", "does not match"),
    ("chain reversed", "wcs_tls_chain", "order the chain"),
    ("foreign chain", "wcs_tls_chain", "did not sign"),
    ("san misses", "wcs_tls_certificate", "covers none"),
    ("name misses", "wcs_tls_names", "other.example.net"),
    ("expiring", "wcs_tls_certificate", "expires in"),
    ("expired", "wcs_tls_certificate", "has expired"),
    ("not yet", "wcs_tls_certificate", "not valid yet"),
])
def test_refused_with_field_value_and_fix(pki, case, field, words):
    cert, chain, k = pki.bundle_pem()
    names = ()
    if case == "other key":
        k = pem(key())
    elif case == "chain reversed":
        chain = pem(pki.root) + pem(pki.inter)
    elif case == "foreign chain":
        chain = pem(PKI().inter)
    elif case == "san misses":
        cert, chain, k = pki.bundle_pem(sans=("other.example.net",))
    elif case == "name misses":
        names = ("media1.example.net", "other.example.net")
    elif case == "expiring":
        cert, chain, k = pki.bundle_pem(days=10)
    elif case == "expired":
        cert, chain, k = pki.bundle_pem(days=-1, start_days=-30)
    elif case == "not yet":
        cert, chain, k = pki.bundle_pem(start_days=2)
    b = tls.load_bundle(cert, chain, k)
    with pytest.raises(PlanError) as err:
        tls.check_bundle(b, names=names, addresses=ADDRESSES, min_days=30)
    assert err.value.field == field and words in str(err.value) and "Fix:" in str(err.value)
    assert "PRIVATE KEY" not in str(err.value)


def test_garbage_pem_is_a_plan_error_without_the_key(pki):
    cert, chain, k = pki.bundle_pem()
    for args in ((cert, chain, k.replace("A", "B", 40)), ("nope", chain, k), (cert, "-----BEGIN CERTIFICATE-----\nx", k),
                 (cert, chain, ""), (cert, chain, k[:50])):
        with pytest.raises(PlanError) as err:
            tls.load_bundle(*args)
        assert k[40:80] not in str(err.value)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300), st.text(max_size=300))
def test_load_bundle_never_tracebacks(cert, chain, k):
    try:
        tls.load_bundle(cert, chain, k)
    except PlanError:
        pass


def test_keystore_round_trip_and_idempotence(pki):
    b = bundle(pki)
    data = tls.keystore_bytes(b, "s3cret", "wcs")
    assert data != tls.keystore_bytes(b, "s3cret", "wcs")  # random salts: bytes never compare equal
    assert tls.keystore_matches(data, b, "s3cret", "wcs")
    assert not tls.keystore_matches(data, b, "wrong", "wcs")
    assert not tls.keystore_matches(data, b, "s3cret", "other")
    assert not tls.keystore_matches(data, bundle(pki), "s3cret", "wcs")
    assert not tls.keystore_matches(b"junk", b, "s3cret", "wcs")


KEYTOOL = shutil.which("keytool")


@pytest.mark.parametrize("storetype", ["PKCS12", "JKS"])
def test_java_keytool_reads_the_keystore(pki, tmp_path, storetype):
    """The JDK (Debian's OpenJDK, installed by scripts/ensure-packages.sh) opens the file the server reads: as PKCS#12
    and through the JKS loader (keystore.type.compat), under the name wss.jks, with the key entry and its chain."""
    assert KEYTOOL, "keytool missing: run scripts/ensure-packages.sh (openjdk-17-jre-headless)"
    path = tmp_path / "wss.jks"
    path.write_bytes(tls.keystore_bytes(bundle(pki), "password", "wcs"))
    out = subprocess.run([KEYTOOL, "-list", "-v", "-keystore", str(path), "-storetype", storetype,
                          "-storepass", "password"], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Alias name: wcs" in out.stdout and "PrivateKeyEntry" in out.stdout
    assert "Certificate chain length: 3" in out.stdout
    assert "CN=media1.example.net" in out.stdout
    bad = subprocess.run([KEYTOOL, "-list", "-keystore", str(path), "-storepass", "wrong"], capture_output=True,
                         text=True, timeout=120, check=False)
    assert bad.returncode != 0


# ---------------------------------------------------------------------------------------------------- issue 20
def test_unknown_or_unsupported_material_is_a_plan_error():
    from cryptography.hazmat.primitives.asymmetric import ed25519
    sys.path.insert(0, str(Path(__file__).parent))
    import certs
    pki = certs.PKI()
    cert, chain, key = pki.bundle_pem(sans=("203.0.113.4",))
    ed_key = ed25519.Ed25519PrivateKey.generate()
    two = certs.key()
    for args, field in (((cert, chain, certs.pem(ed_key)), "wcs_tls_private_key"),
                        ((certs.pem(certs.cert_with_two_sans(two)), "", certs.pem(two)), "wcs_tls_certificate"),
                        ((cert, chain + key, key), "wcs_tls_chain"),
                        ((cert, 5, key), "wcs_tls_chain"),
                        ((cert, chain * 300, key), "wcs_tls_chain")):
        with pytest.raises(PlanError) as err:
            tls.load_bundle(*args)
        assert err.value.field == field, str(err.value)
        assert key.splitlines()[1] not in str(err.value)
    with pytest.raises(PlanError) as err:
        tls.load_bundle(cert, chain, key, passphrase="\udcff")
    assert err.value.field == "wcs_tls_private_key_passphrase"
