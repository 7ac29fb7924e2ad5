"""Test helpers for CMS and certificates: rebuild a SignedData, spell a keyUsage."""

from __future__ import annotations

from typing import Any

from asn1crypto import cms as asn1_cms
from cryptography import x509


def rebuild_signed_data(signed_data: Any, **changes: Any) -> bytes:
    """The DER ContentInfo of *signed_data* (asn1crypto) with *changes* to its fields.

    Only unsigned framing changes (version, digestAlgorithms, certificates, the
    SignerInfo list): the signed attributes and signature bytes stay as they were.
    """
    fields = {
        "version": signed_data["version"],
        "digest_algorithms": signed_data["digest_algorithms"],
        "encap_content_info": signed_data["encap_content_info"],
        "certificates": signed_data["certificates"],
        "signer_infos": signed_data["signer_infos"],
    }
    fields.update(changes)
    signed = asn1_cms.SignedData(fields)
    return bytes(asn1_cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


def key_usage(**on: bool) -> x509.KeyUsage:
    """An X.509 keyUsage with the named bits set (RFC 5280 §4.2.1.3), every other bit clear."""
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{name: on.get(name, False) for name in names})
