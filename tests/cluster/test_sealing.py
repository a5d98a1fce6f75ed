"""Sealing without kubeseal: the hybrid format opens with the controller's algorithm, bound to namespace/name."""

from __future__ import annotations

import base64

import pytest
from cluster_fixtures import self_signed_cert
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from dbc_validate.analysis.live.secrets import SecretSpec
from dbc_validate.cluster.sealing import (
    encryption_label,
    hybrid_decrypt,
    hybrid_encrypt,
    public_key_from_cert,
    sealed_secret,
)
from dbc_validate.errors import InputError


@pytest.fixture(scope="module")
def controller_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_labels_follow_the_scopes():
    assert encryption_label("prod", "db") == b"prod/db"
    assert encryption_label("prod", "db", "namespace-wide") == b"prod"
    assert encryption_label("prod", "db", "cluster-wide") == b""


def test_output_layout_is_length_rsa_block_then_gcm_ciphertext(controller_key):
    sealed = hybrid_encrypt(controller_key.public_key(), b"hunter2", b"prod/db", session_key=bytes(range(32)))
    rsa_len = int.from_bytes(sealed[:2], "big")
    assert rsa_len == 256  # a 2048-bit key
    assert len(sealed) == 2 + rsa_len + len(b"hunter2") + 16  # GCM appends a 16-byte tag


def test_the_controller_algorithm_opens_it_with_the_same_label_only(controller_key):
    sealed = hybrid_encrypt(controller_key.public_key(), b"s3cret", b"prod/db")
    assert hybrid_decrypt(controller_key, sealed, b"prod/db") == b"s3cret"
    with pytest.raises(ValueError):
        hybrid_decrypt(controller_key, sealed, b"stage/db")
    with pytest.raises(ValueError, match="too short"):
        hybrid_decrypt(controller_key, b"\x01", b"prod/db")


def test_sealed_secret_object_carries_each_key_sealed_for_its_namespace_and_name(controller_key):
    key = public_key_from_cert(self_signed_cert(controller_key))
    spec = SecretSpec("infra", "mysql-credentials", ("password", "root-password"), "Opaque", {"app": "mysql"})
    obj = sealed_secret(spec, {"password": "plain-value-one", "root-password": "p2"}, key)
    assert obj["apiVersion"] == "bitnami.com/v1alpha1" and obj["kind"] == "SealedSecret"
    assert obj["metadata"] == {"name": "mysql-credentials", "namespace": "infra"}
    assert obj["spec"]["template"] == {
        "metadata": {"name": "mysql-credentials", "namespace": "infra", "labels": {"app": "mysql"}},
        "type": "Opaque",
    }
    opened = {
        k: hybrid_decrypt(controller_key, base64.b64decode(v), b"infra/mysql-credentials").decode()
        for k, v in obj["spec"]["encryptedData"].items()
    }
    assert opened == {"password": "plain-value-one", "root-password": "p2"}
    assert "plain-value-one" not in str(obj)


def test_a_non_rsa_or_garbled_certificate_is_refused():
    with pytest.raises(InputError, match="not a PEM"):
        public_key_from_cert(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    with pytest.raises(InputError, match="RSA"):
        public_key_from_cert(self_signed_cert(ec.generate_private_key(ec.SECP256R1())))
