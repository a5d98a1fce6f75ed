"""Seal Secret values for a Sealed Secrets controller without kubeseal (pure: no I/O).

The controller's format (sealed-secrets pkg/crypto HybridEncrypt): a fresh 32-byte AES-256-GCM session key
encrypts the value with an all-zero nonce (the key is used once); RSA-OAEP with SHA-256 encrypts the session
key under the controller's public key, with the label "namespace/name" for the default strict scope. The
output is a 2-byte big-endian length of the RSA ciphertext, the RSA ciphertext, then the AES ciphertext,
base64-encoded into `spec.encryptedData[key]`.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dbc_validate.analysis.live.secrets import SecretSpec
from dbc_validate.errors import InputError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

SESSION_KEY_BYTES = 32
GCM_NONCE = bytes(12)


def public_key_from_cert(pem: bytes) -> rsa.RSAPublicKey:
    """The RSA public key of the controller's certificate (as served at /v1/cert.pem)."""
    from cryptography import x509  # heavy: cryptography loads only when a deploy seals secrets
    from cryptography.hazmat.primitives.asymmetric import rsa  # heavy: as above

    try:
        key = x509.load_pem_x509_certificate(pem).public_key()
    except ValueError as exc:
        raise InputError(f"the sealing certificate is not a PEM X.509 certificate ({exc})", "fetch it again") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise InputError("the sealing certificate does not hold an RSA key", "check the Sealed Secrets controller")
    return key


def _oaep(label: bytes) -> padding.OAEP:
    from cryptography.hazmat.primitives import hashes  # heavy: as above
    from cryptography.hazmat.primitives.asymmetric import padding  # heavy: as above

    return padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=label)


def encryption_label(namespace: str, name: str, scope: str = "strict") -> bytes:
    """The OAEP label that binds a sealed value to where it may be unsealed."""
    if scope == "cluster-wide":
        return b""
    if scope == "namespace-wide":
        return namespace.encode()
    return f"{namespace}/{name}".encode()


def hybrid_encrypt(
    public_key: rsa.RSAPublicKey, plaintext: bytes, label: bytes, session_key: bytes | None = None
) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # heavy: as above

    key = session_key if session_key is not None else os.urandom(SESSION_KEY_BYTES)
    if len(key) != SESSION_KEY_BYTES:
        raise ValueError(f"the session key must be {SESSION_KEY_BYTES} bytes")
    wrapped = public_key.encrypt(key, _oaep(label))
    return struct.pack(">H", len(wrapped)) + wrapped + AESGCM(key).encrypt(GCM_NONCE, plaintext, None)


def hybrid_decrypt(private_key: rsa.RSAPrivateKey, ciphertext: bytes, label: bytes) -> bytes:
    """The controller's side, kept to prove in tests that `hybrid_encrypt` produces what it can open."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # heavy: as above

    if len(ciphertext) < 2:
        raise ValueError("sealed data too short")
    (length,) = struct.unpack(">H", ciphertext[:2])
    if len(ciphertext) < 2 + length:
        raise ValueError("sealed data too short")
    key = private_key.decrypt(ciphertext[2 : 2 + length], _oaep(label))
    return AESGCM(key).decrypt(GCM_NONCE, ciphertext[2 + length :], None)


def sealed_secret(spec: SecretSpec, values: Mapping[str, str], public_key: rsa.RSAPublicKey) -> dict[str, Any]:
    """A bitnami.com/v1alpha1 SealedSecret (strict scope) holding `values` for the Secret `spec` describes."""
    label = encryption_label(spec.namespace, spec.name)
    encrypted = {
        key: base64.b64encode(hybrid_encrypt(public_key, values[key].encode(), label)).decode() for key in spec.keys
    }
    template_meta: dict[str, Any] = {"name": spec.name, "namespace": spec.namespace}
    if spec.labels:
        template_meta["labels"] = dict(spec.labels)
    return {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": spec.name, "namespace": spec.namespace},
        "spec": {"encryptedData": encrypted, "template": {"metadata": template_meta, "type": spec.type}},
    }
