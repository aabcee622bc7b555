"""Hostile inputs of issue 20 through public entry points: rollout hook placeholders and URLs/headers (the
``rollout_hooks`` filter), TLS material (module ``wcs_tls`` from an args file) and host_tuning paths (modules
``host_tuning`` and ``host_tuning_facts`` on a temporary root, never the live ``/``). The only outcomes allowed are a
valid result or the project's own error, within the harness's bounds."""
from __future__ import annotations

import datetime
import ipaddress
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.filter.hooks import rollout_hooks
from ansible_collections.mediaops.wcs.plugins.module_utils import host_tuning as ht

from .harness import assert_clean, deadline, run_module

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "module_utils"))
import certs  # noqa: E402  pylint: disable=wrong-import-position
import tuning_tree as tree  # noqa: E402  pylint: disable=wrong-import-position

C1 = {"name": "wcs-1", "image": "img:1", "ipv4_address": "192.0.2.5", "external_ip": "203.0.113.5"}


# ---------------------------------------------------------------------------------------------------- hooks
def hook_call(hooks, phase="before_drain", container=None, host="h1", image=""):
    """The filter as a play calls it: ("ok", hooks) or ("refused", message); anything else fails the test."""
    with deadline(10):
        try:
            return "ok", rollout_hooks(hooks, phase, container or C1, host, image)
        except AnsibleFilterError as err:
            assert "Fix:" in str(err), str(err)
            return "refused", str(err)


def one(url, headers=None, **kw):
    return hook_call({"before_drain": [{"url": url, "headers": headers or {}}]}, **kw)


@pytest.mark.parametrize("url, host, name", [
    ("https://lb.example.net/api/servers/${host}/drain", "evil.example@lb2", "wcs-1"),   # @ in the path
    ("https://lb.example.net/api/servers/${name}/drain", "h1", "x@evil.example"),
])
def test_an_at_sign_stays_in_the_path(url, host, name):
    outcome, [hook] = one(url, host=host, container=dict(C1, name=name))
    assert outcome == "ok"
    split = urlsplit(hook["url"])
    assert (split.scheme, split.hostname, split.port) == ("https", "lb.example.net", None)
    assert "@" not in split.netloc and "%40" in split.path


def test_a_value_in_the_host_cannot_change_it():
    for evil in ("evil.example@lb", "evil.example/x", "evil.example:81", "evil.example#", "evil.example?a",
                 "a b", "evil.example\\x", ""):
        outcome, message = one("https://${host}/api", host=evil)
        assert outcome == "refused", (evil, message)
    outcome, [hook] = one("https://${host}:8443/api", host="lb2.example.net")
    assert outcome == "ok" and hook["url"] == "https://lb2.example.net:8443/api"


def test_an_ampersand_stays_one_query_value():
    outcome, [hook] = one("https://lb/api?server=${host}&op=drain", host="h1&op=delete&x=")
    assert outcome == "ok"
    assert urlsplit(hook["url"]).query == "server=h1%26op%3Ddelete%26x%3D&op=drain"


@pytest.mark.parametrize("value", ["../../admin", "..", ".", "a/../../b", "..\\..\\admin", "./x"])
def test_dot_segments_are_refused_in_the_path(value):
    outcome, message = one("https://lb/api/servers/${host}/drain", host=value)
    assert outcome == "refused" and "'.' or '..'" in message, message


def test_a_slash_stays_in_one_segment():
    outcome, [hook] = one("https://lb/api/${image}/x", image="registry.example:5000/wcs:1.0")
    assert outcome == "ok" and hook["url"] == "https://lb/api/registry.example:5000%2Fwcs:1.0/x"


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\x00b", "a\x7fb", "a\u2028b", "a\u20acb"])
def test_control_characters_never_reach_a_header(value):
    outcome, message = one("https://lb/x", headers={"X-Server": "${host}"}, host=value)
    assert outcome == "refused" and "X-Server" in message, message
    assert value not in message


@pytest.mark.parametrize("url", ["https://lb:${host}/x", "https://${host}@lb/x", "https://u:${host}@lb/x",
                                 "${host}://lb/x", "http${host}://lb/x"])
def test_placeholders_where_no_value_is_safe_are_refused(url):
    outcome, message = hook_call({"before_drain": [{"url": url}]})
    assert outcome == "refused", message


def test_labels_hide_user_info_and_query_values():
    outcome, [hook] = one("https://ops:pa55word@lb/api/${name}?token=s3cret&ip=${address}")
    assert outcome == "ok"
    assert "pa55word" not in hook["label"] and "s3cret" not in hook["label"] and "ops" not in hook["label"]
    assert hook["label"] == "before_drain[0] POST https://***@lb/api/${name}?token=***&ip=${address}"
    assert "pa55word" not in hook["name"]
    # and errors about such a URL do not show them either
    outcome, message = hook_call({"before_drain": [{"url": "ftp://ops:pa55word@lb/x?token=s3cret"}]})
    assert outcome == "refused" and "pa55word" not in message and "s3cret" not in message, message


def test_a_status_code_or_timeout_in_other_digits_is_refused():
    for key, value in (("status_code", "\u00b2"), ("timeout", "\u00b2"), ("status_code", ["2\u0660\u0660"]),
                       ("timeout", "5\x1c")):
        outcome, message = hook_call({"before_drain": [{"url": "https://lb/x", key: value}]})
        assert outcome == "refused", (key, value, message)


PLACEHOLDER_TEMPLATES = [
    "https://lb.example.net/api/servers/${name}/drain?ip=${address}&host=${host}#${phase}",
    "http://lb.example.net:8080/${image}/${external_address}?x=${name}",
    "https://${host}.lb.example.net/x/${name}",
    "https://${host}:9443/?a=${address}",
    "https://ops:secret@lb.example.net/api/${name}?token=abc&image=${image}",
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=st.sampled_from(PLACEHOLDER_TEMPLATES), name=st.text(min_size=1), address=st.text(),
       host=st.text(), image=st.text(), header=st.text())
def test_any_placeholder_value_gives_the_template_s_url_or_a_plan_error(template, name, address, host, image,
                                                                        header):
    container = {"name": name, "ipv4_address": address, "external_ip": address}
    outcome, result = hook_call({"before_drain": [{"url": template, "headers": {"X-Who": "${host} ${name}"}}]},
                                container=container, host=host, image=image)
    if outcome == "refused":
        return
    [hook] = result
    before = urlsplit(template)
    after = urlsplit(hook["url"])
    assert (after.scheme, after.port, after.username, after.password) == \
        (before.scheme, before.port, before.username, before.password)
    assert after.hostname == before.hostname.replace("${host}", host.lower())
    assert after.path.count("/") == before.path.count("/")
    assert all(seg not in (".", "..") for seg in after.path.split("/"))
    assert (after.query.count("&"), after.query.count("=")) == (before.query.count("&"), before.query.count("="))
    for text in hook["headers"].values():
        assert not any(ord(c) < 32 or ord(c) == 127 or c in "\u2028\u2029" for c in text)


# ---------------------------------------------------------------------------------------------------- TLS
@pytest.fixture(scope="module")
def pki():
    return certs.PKI()


def tls_run(tmp_path, certificate, private_key, chain="", check_mode=True, **extra):
    conf = tmp_path / "conf"
    conf.mkdir(exist_ok=True)
    args = {"containers": [{"name": "wcs-1", "conf_dir": str(conf), "ipv4_address": "203.0.113.4"}],
            "certificate": certificate, "chain": chain, "private_key": private_key}
    args.update(extra)
    answer = run_module("wcs_tls", args, timeout=60, check_mode=check_mode)
    return assert_clean(answer), answer


def self_signed(private_key, sans=("203.0.113.4",), sign=True):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "self.example.net")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private_key.public_key())
               .serial_number(7).not_valid_before(certs.NOW - datetime.timedelta(days=1))
               .not_valid_after(certs.NOW + datetime.timedelta(days=90))
               .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(a))
                                                           for a in sans]), critical=False))
    algorithm = hashes.SHA256() if type(private_key).__name__.startswith(("RSA", "DSA", "EC", "_")) else None
    return builder.sign(private_key, algorithm)


def _keys():
    from cryptography.hazmat.primitives.asymmetric import dsa, ed448, ed25519
    return {"ed448": ed448.Ed448PrivateKey.generate(), "ed25519": ed25519.Ed25519PrivateKey.generate(),
            "dsa": dsa.generate_private_key(2048)}


@pytest.mark.parametrize("kind", ["ed448", "ed25519", "dsa"])
def test_a_key_of_another_algorithm_is_refused_without_showing_it(tmp_path, kind):
    private_key = _keys()[kind]
    pem_key = certs.pem(private_key)
    outcome, answer = tls_run(tmp_path, certs.pem(self_signed(private_key)), pem_key)
    assert outcome == "refused" and "wcs_tls_private_key" in answer["msg"] and "RSA or EC" in answer["msg"]
    assert pem_key.splitlines()[1] not in json.dumps(answer)


def test_an_x25519_key_under_a_real_chain_is_refused(tmp_path, pki):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import x25519
    from cryptography.x509.oid import NameOID
    private_key = x25519.X25519PrivateKey.generate()
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x.example.net")]))
            .issuer_name(pki.inter.subject).public_key(private_key.public_key()).serial_number(9)
            .not_valid_before(certs.NOW - datetime.timedelta(days=1))
            .not_valid_after(certs.NOW + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("203.0.113.4"))]),
                           critical=False)
            .sign(pki.inter_key, hashes.SHA256()))
    outcome, answer = tls_run(tmp_path, certs.pem(leaf), certs.pem(private_key),
                              chain=certs.pem(pki.inter) + certs.pem(pki.root))
    assert outcome == "refused" and "X25519" in answer["msg"], answer["msg"]


def test_a_key_of_an_unknown_algorithm_is_refused(tmp_path, pki):
    import base64
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    der = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    for old, new in ((bytes.fromhex("06032b6570"), bytes.fromhex("06032a0304")),    # OID 1.2.3.4
                     (bytes.fromhex("06032b6570"), bytes.fromhex("06032b6571"))):   # Ed448's OID, Ed25519's key
        text = "-----BEGIN PRIVATE KEY-----\n%s-----END PRIVATE KEY-----\n" % base64.encodebytes(
            der.replace(old, new)).decode()
        cert, chain, _key = pki.bundle_pem(sans=("203.0.113.4",))
        outcome, answer = tls_run(tmp_path, cert, text, chain=chain)
        assert outcome == "refused" and "wcs_tls_private_key" in answer["msg"], answer["msg"]


def test_a_certificate_with_two_san_extensions_is_refused(tmp_path, pki):
    private_key = certs.key()
    twice = certs.pem(certs.cert_with_two_sans(private_key))
    outcome, answer = tls_run(tmp_path, twice, certs.pem(private_key))
    assert outcome == "refused" and "subjectAltName twice" in answer["msg"], answer["msg"]
    # the same in the chain
    cert, chain, key = pki.bundle_pem(sans=("203.0.113.4",))
    outcome, answer = tls_run(tmp_path, cert, key, chain=twice + chain)
    assert outcome == "refused" and "wcs_tls_chain" in answer["msg"], answer["msg"]


@pytest.mark.parametrize("case", ["garbage", "empty", "key_in_chain", "key_as_certificate", "huge_chain",
                                  "bad_base64", "bad_der", "bad_key_der", "certificate_as_key", "chain_not_text",
                                  "names_not_a_list", "passphrase_not_text"])
def test_other_pem_inputs_are_refused_cleanly(tmp_path, pki, case):
    cert, chain, key = pki.bundle_pem(sans=("203.0.113.4",))
    args = {"certificate": cert, "chain": chain, "private_key": key}
    extra = {}
    if case == "garbage":
        args["certificate"] = "hello"
    elif case == "empty":
        args = {"certificate": "", "chain": "", "private_key": ""}
    elif case == "key_in_chain":
        args["chain"] = chain + key
    elif case == "key_as_certificate":
        args["certificate"] = key
    elif case == "huge_chain":
        args["chain"] = chain * 400
    elif case == "bad_base64":
        args["chain"] = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"
    elif case == "bad_der":
        args["chain"] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    elif case == "bad_key_der":
        args["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    elif case == "certificate_as_key":
        args["private_key"] = cert
    elif case == "chain_not_text":
        extra = {"per_container": {"wcs-1": {"certificate": cert, "private_key": key, "chain": 5}}}
    elif case == "names_not_a_list":
        extra = {"per_container": {"wcs-1": {"certificate": cert, "private_key": key, "names": 5}}}
    elif case == "passphrase_not_text":
        extra = {"per_container": {"wcs-1": {"certificate": cert, "private_key": key,
                                             "private_key_passphrase": ["x"]}}}
    outcome, answer = tls_run(tmp_path, args["certificate"], args["private_key"], chain=args["chain"], **extra)
    assert outcome == "refused", answer
    if case in ("key_in_chain", "key_as_certificate", "bad_key_der", "certificate_as_key"):
        assert key.splitlines()[1] not in answer["msg"]


def test_a_valid_bundle_still_passes(tmp_path, pki):
    cert, chain, key = pki.bundle_pem(sans=("203.0.113.4",))
    outcome, answer = tls_run(tmp_path, cert, key, chain=chain)
    assert outcome == "ok" and answer["changed_containers"] == ["wcs-1"], answer


# ---------------------------------------------------------------------------------------------------- host_tuning
@pytest.fixture
def host(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    plan = tree.big_host(str(root))
    return root, plan


def tuning(root, plan, check_mode=True, **extra):
    args = {"plan": plan, "root": str(root), "verify": False}
    args.update(extra)
    answer = run_module("host_tuning", args, timeout=60, check_mode=check_mode)
    return assert_clean(answer), answer


@pytest.mark.parametrize("parent", ["../../../../tmp", "../x", "ens1f0/../../..", "a/b", "..", ".", "x" * 16,
                                    "eth0\n", "eth 0", ""])
def test_a_network_parent_that_is_not_an_interface_name_is_refused(host, parent):
    root, plan = host
    plan["network"]["parent"] = parent
    outcome, answer = tuning(root, plan)
    if parent == "":
        assert outcome == "ok"  # no parent: the RPS step is skipped
        return
    assert outcome == "refused" and "parent" in answer["msg"], answer["msg"]
    answer = run_module("host_tuning_facts", {"plan": plan, "root": str(root)}, timeout=60)
    assert assert_clean(answer) == "refused" and "parent" in answer["msg"], answer["msg"]


def test_a_parent_whose_sysfs_entry_leaves_the_root_is_refused_and_nothing_outside_is_written(host, tmp_path):
    root, plan = host
    outside = tmp_path / "outside"
    (outside / "queues" / "rx-0").mkdir(parents=True)
    (outside / "queues" / "rx-0" / "rps_cpus").write_text("ff\n")
    os.symlink(str(outside), str(root / "sys/class/net/evil0"))
    plan["network"]["parent"] = "evil0"
    outcome, answer = tuning(root, plan, check_mode=False)
    assert outcome == "refused" and "outside the root" in answer["msg"], answer["msg"]
    assert (outside / "queues" / "rx-0" / "rps_cpus").read_text() == "ff\n"
    assert not (root / ht.RECORD_PATH.lstrip("/")).exists()


@pytest.mark.parametrize("record_path", ["/var/lib/../../../../etc/x.json", "../x.json", "x.json",
                                         "/var/lib/mediaops-wcs/", "/var/lib/./x.json", "/var/lib\n/x.json"])
def test_a_record_path_outside_the_rules_is_refused(host, record_path):
    root, plan = host
    for state, check_mode in (("present", True), ("present", False), ("absent", False)):
        outcome, answer = tuning(root, plan, check_mode=check_mode, state=state, record_path=record_path)
        assert outcome == "refused" and "record_path" in answer["msg"], (state, answer["msg"])
    answer = run_module("host_tuning_facts", {"plan": plan, "root": str(root), "record_path": record_path})
    assert assert_clean(answer) == "refused"


def test_a_record_directory_linked_outside_the_root_is_refused(host, tmp_path):
    root, plan = host
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "var/lib").mkdir(parents=True)
    os.symlink(str(outside), str(root / "var/lib/mediaops-wcs"))
    outcome, answer = tuning(root, plan, check_mode=False)
    assert outcome == "refused" and "outside the root" in answer["msg"], answer["msg"]
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("record", [
    {"files": {"/etc/passwd": None}},
    {"files": {"/etc/sysctl.d/../passwd": None}},
    {"values": {"/proc/irq/../../etc/passwd": "x"}},
    {"values": {"/etc/shadow": "x"}},
    {"values": "x"},
    {"tasks": {"1:2": {"pid": "x", "cpus": "0"}}},
    {"tasks": {"1:2": {"pid": 1, "cpus": "0-99999999999"}}},
    {"files": {"/etc/sysctl.d/90-mediaops-wcs.conf": {"content": 5}}},
    {"wcs_cpus": ["x"]},
])
def test_a_damaged_record_is_refused_before_revert_acts(host, record):
    root, plan = host
    tree.write(str(root), "/etc/passwd", "root:x:0:0::/root:/bin/sh\n")
    tree.write(str(root), ht.RECORD_PATH, json.dumps(record))
    outcome, answer = tuning(root, plan, check_mode=False, state="absent")
    assert outcome == "refused" and "record" in answer["msg"], answer["msg"]
    assert (root / "etc/passwd").read_text() == "root:x:0:0::/root:/bin/sh\n"


def test_a_deeply_nested_record_is_refused(host):
    root, plan = host
    tree.write(str(root), ht.RECORD_PATH, "[" * 200000 + "]" * 200000)
    outcome, answer = tuning(root, plan, check_mode=False, state="absent")
    assert outcome == "refused" and "not JSON" in answer["msg"], answer["msg"]


def test_a_test_root_still_tunes_below_itself(host):
    root, plan = host
    before = tree.snapshot(str(root))
    outcome, answer = tuning(root, plan, check_mode=False)
    assert outcome == "ok" and answer["changed"], answer
    assert (root / ht.RECORD_PATH.lstrip("/")).is_file()
    outcome, answer = tuning(root, plan, check_mode=False, state="absent")
    assert outcome == "ok", answer
    assert tree.snapshot(str(root)) == before


@pytest.mark.parametrize("spelling", ["/", "//", "/.", "///", "/./", "/tmp/..", "/proc/.."])
def test_every_spelling_of_the_live_root_is_the_live_root(spelling):
    assert ht.is_live_root(spelling)


def test_a_link_to_slash_is_the_live_root_and_a_tree_is_not(tmp_path):
    os.symlink("/", str(tmp_path / "slash"))
    assert ht.is_live_root(str(tmp_path / "slash"))
    assert not ht.is_live_root(str(tmp_path))
    assert not ht.is_live_root(str(tmp_path / "missing"))


def test_the_plan_on_a_respelled_live_root_is_the_live_plan(host):
    """Pure (nothing is written): planned with root '//', the steps are those of the live host: tasks moved and
    commands run, not the 'root is not /' skips of a test tree."""
    root, plan = host
    wcs, house, parent = ht.wcs_split(plan, ht.online_cpus(str(root)))
    state = ht.audit(str(root), wcs, house, parent, container_ids=[tree.WCS_ID])
    for spelling in ("//", "/."):
        planned = ht.plan_changes(state, wcs, house, root=spelling)
        assert not any("root is not /" in s["why"] for s in planned["skipped"]), planned["skipped"]
        assert any(s["kind"] == "affinity" for s in planned["steps"])
    tree_plan = ht.plan_changes(state, wcs, house, root=str(root))
    assert any("root is not /" in s["why"] for s in tree_plan["skipped"])


URL_PIECES = st.sampled_from(["https://", "http://", "ftp://", "//", "@", ":", "[", "]", "/", "?", "#", "&", "=",
                              "${name}", "${host}", "$$", "$", "..", ".", "lb", "example.net", "8080", "99999",
                              "%2F", "\\", " ", "\n", "\u2028", "\x00", "u:p@", "[::1]", "é"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(URL_PIECES, max_size=12), noise=st.text(max_size=8), header=st.text(max_size=20),
       header_name=st.text(max_size=8))
def test_any_hook_url_or_header_is_accepted_or_refused_cleanly(pieces, noise, header, header_name):
    url = "".join(pieces) + noise
    hooks = {"after_ready": [{"url": url, "headers": {header_name or "X": header}}]}
    outcome, result = hook_call(hooks, phase="after_ready", host="lb2")
    shown = result[0]["label"] if outcome == "ok" else result
    if outcome == "ok":
        split = urlsplit(result[0]["url"])
        assert split.scheme in ("http", "https") and split.hostname
    if len(header) >= 6 and header not in url and header not in header_name:
        assert header not in shown, "a header value was shown: %s" % shown


@pytest.mark.parametrize("extra", [
    {"sysctls": {"net.core.rmem_max": "9" * 5000}},
    {"sysctls": {"net.core.rmem_max": "\u00b2"}},
    {"sysctls": {"net.core.rmem_max": "5\x1c"}},
    {"sysctls": {"net.core.rmem_max": 2 ** 70}},
    {"sysctls": {"net.core..rmem_max": 1}},
    {"sysctls": {"../../etc/x": 1}},
    {"plan": {"reserved_cpus": "0", "containers": "x"}},
    {"plan": {"reserved_cpus": "0", "containers": [5]}},
    {"plan": {"reserved_cpus": "0", "containers": [{"cpuset": "4"}], "network": "eth0"}},
    {"root": "/nonexistent-mediaops-wcs-root"},
    {"root": "/tmp\n"},
])
def test_other_tuning_inputs_are_refused_cleanly(host, extra):
    root, plan = host
    args = dict(extra)
    outcome, answer = tuning(args.pop("root", root), args.pop("plan", plan), **args)
    assert outcome == "refused", answer


def test_a_keystore_path_that_is_a_directory_is_refused(tmp_path, pki):
    cert, chain, key = pki.bundle_pem(sans=("203.0.113.4",))
    (tmp_path / "conf" / "wss.jks").mkdir(parents=True)
    outcome, answer = tls_run(tmp_path, cert, key, chain=chain, check_mode=False)
    assert outcome == "refused" and "is a directory" in answer["msg"], answer


def test_a_valid_bundle_is_written_once(tmp_path, pki):
    cert, chain, key = pki.bundle_pem(sans=("203.0.113.4",))
    outcome, answer = tls_run(tmp_path, cert, key, chain=chain, check_mode=False,
                              owner=str(os.getuid()), group=str(os.getgid()))
    assert outcome == "ok" and answer["changed"] and (tmp_path / "conf" / "wss.jks").is_file(), answer
    outcome, answer = tls_run(tmp_path, cert, key, chain=chain, check_mode=False,
                              owner=str(os.getuid()), group=str(os.getgid()))
    assert outcome == "ok" and not answer["changed"], answer


ANY_CHARACTER = st.text(st.characters(exclude_categories=()), max_size=12)  # surrogates and controls included


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=st.sampled_from(PLACEHOLDER_TEMPLATES), name=ANY_CHARACTER, address=ANY_CHARACTER,
       host=ANY_CHARACTER, image=ANY_CHARACTER)
def test_placeholder_values_with_any_code_point_are_filled_or_refused_cleanly(template, name, address, host, image):
    container = {"name": name or "x", "ipv4_address": address}
    outcome, result = hook_call({"before_drain": [{"url": template, "headers": {"X-Who": "${host}"},
                                                   "body": {"who": "${name}"}}]},
                                container=container, host=host, image=image)
    if outcome == "ok":
        assert urlsplit(result[0]["url"]).hostname


@pytest.mark.parametrize("url", ["https://lb/${host}", "https://lb/?a=${host}", "https://lb/#${host}",
                                 "https://${host}/"])
def test_a_lone_surrogate_is_refused(url):
    outcome, message = one(url, host="a\udcffb")
    assert outcome == "refused", message
