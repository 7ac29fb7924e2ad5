"""EF.SOD, the Document Security Object (ICAO Doc 9303-10 §4.6.2).

EF.SOD is ``'77' L`` around a CMS ``ContentInfo`` (RFC 5652 §3) of type
SignedData (RFC 5652 §5) whose eContent is an OCTET STRING holding an
``LDSSecurityObject`` (:class:`epass.lds.asn1.LdsSecurityObject`): the hash
of every data group the issuer protects.

The CMS layer (BER walk, SignerInfo, raw signed attributes, certificates) is
:mod:`epass.cms`; this module adds what is particular to EF.SOD: the tag
``'77'`` wrapper, the eContentType allow-list and the LDSSecurityObject.
:class:`Sod` keeps everything passive authentication verifies exactly as
received (:attr:`Sod.econtent`, :attr:`SignerInfo.signed_attrs`).

**eContentType allow-list.** 9303-10 §4.6.2.2 specifies
``id-icao-mrtd-security-ldsSecurityObject`` (2.23.136.1.1.1). Two older
identifiers occur in documents that were issued in good faith and are
accepted, reported via :attr:`Sod.legacy_econtent_type`: 1.3.27.1.1.1 (from the
ICAO "PKI for MRTDs offering ICC read-only access" v1.1 TR, seen in early
French and Belgian passports) and 1.2.528.1.1006.1.20.1 (Sdu NL test
documents); JMRTD accepts the same three. Accepting them weakens nothing:
the eContentType is covered by the signed content-type attribute and the
eContent must still parse as an LDSSecurityObject. Any other type (e.g. an
EF.CardSecurity's id-SecurityObject) is refused with :class:`ParseError`.

Every malformation raises :class:`~epass.errors.ParseError` with
``file="EF.SOD"`` and the byte offset of the offending element where one is
known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from asn1crypto import core

from epass.cms import (
    ID_CONTENT_TYPE,
    ID_MESSAGE_DIGEST,
    ID_SIGNED_DATA,
    ID_SIGNING_TIME,
    MAX_DEPTH,
    SignedData,
    SignerInfo,
    ber_header,
    ber_walk,
    parse_signed_data,
)
from epass.errors import ParseError
from epass.lds.asn1 import (
    ID_ICAO_LDS_SECURITY_OBJECT,
    ID_ICAO_LDS_SECURITY_OBJECT_LEGACY,
    ID_SDU_LDS_SECURITY_OBJECT,
    LdsSecurityObject,
    load_strict,
)

__all__ = [
    "ALLOWED_ECONTENT_TYPES",
    "FILE",
    "ID_CONTENT_TYPE",
    "ID_MESSAGE_DIGEST",
    "ID_SIGNED_DATA",
    "ID_SIGNING_TIME",
    "MAX_DEPTH",
    "SOD_TAG",
    "SignerInfo",
    "Sod",
    "parse",
]

FILE = "EF.SOD"
#: The tag EF.SOD starts with (9303-10 §4.6.2, Table 36).
SOD_TAG = 0x77
#: eContentType values accepted for EF.SOD, standard first (see the module docstring).
ALLOWED_ECONTENT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        ID_ICAO_LDS_SECURITY_OBJECT: "id-icao-mrtd-security-ldsSecurityObject",
        ID_ICAO_LDS_SECURITY_OBJECT_LEGACY: "id-icao-ldsSecurityObject (legacy, ICAO PKI TR v1.1)",
        ID_SDU_LDS_SECURITY_OBJECT: "id-sdu-ldsSecurityObject (legacy, Sdu NL)",
    }
)


@dataclass(frozen=True, eq=False)
class Sod:
    """A parsed EF.SOD. Everything PA verifies is kept as received.

    :ivar raw: the whole file as given to :func:`parse`.
    :ivar signed_data: the CMS SignedData (:mod:`epass.cms`) inside tag ``'77'``.
    :ivar version: LDSSecurityObject version (0 or 1).
    :ivar hash_algorithm: the data-group hash algorithm (``"sha256"`` or dotted OID).
    :ivar hash_algorithm_oid: the same, dotted.
    :ivar dg_hashes: data group number -> hash value, in SOD order.
    :ivar lds_version: ``ldsVersion`` (``"0108"``) if present (v1 only), else ``None``.
    :ivar unicode_version: ``unicodeVersion`` (``"040000"``) if present, else ``None``.
    """

    raw: bytes = field(repr=False)
    signed_data: SignedData = field(repr=False)
    version: int
    hash_algorithm: str
    hash_algorithm_oid: str
    dg_hashes: Mapping[int, bytes]
    lds_version: str | None
    unicode_version: str | None

    # -- the CMS layer, as before the split ---------------------------------------------------

    @property
    def signed_data_version(self) -> int:
        """SignedData version (9303-10 requires 3)."""
        return self.signed_data.version

    @property
    def digest_algorithms(self) -> tuple[str, ...]:
        """SignedData digestAlgorithms (names or dotted OIDs)."""
        return self.signed_data.digest_algorithms

    @property
    def econtent_type(self) -> str:
        """eContentType, dotted (one of :data:`ALLOWED_ECONTENT_TYPES`)."""
        return self.signed_data.econtent_type

    @property
    def econtent(self) -> bytes:
        """The eContent octets (the DER LDSSecurityObject), as received."""
        return self.signed_data.econtent

    @property
    def econtent_offset(self) -> int | None:
        """Where the eContent octets start in :attr:`raw` (``None`` if BER-chunked)."""
        return self.signed_data.econtent_offset

    @property
    def signer_infos(self) -> tuple[SignerInfo, ...]:
        """The SignerInfos (9303-10 requires exactly one)."""
        return self.signed_data.signer_infos

    @property
    def certificates(self) -> tuple[Any, ...]:
        """The embedded X.509 certificates (asn1crypto), normally the DS."""
        return self.signed_data.certificates

    @property
    def content_info(self) -> Any:
        """The asn1crypto ``ContentInfo``."""
        return self.signed_data.content_info

    @property
    def signer_info(self) -> SignerInfo:
        """The first (in a conforming SOD, the only) SignerInfo."""
        return self.signed_data.signer_info

    @property
    def signed_attrs(self) -> bytes | None:
        """The first signer's signed attributes as the DER SET OF to verify."""
        return self.signer_info.signed_attrs

    @property
    def signature_algorithm(self) -> Any:
        """The first signer's asn1crypto ``SignedDigestAlgorithm``."""
        return self.signer_info.signature_algorithm

    @property
    def signature(self) -> bytes:
        """The first signer's signature octets."""
        return self.signer_info.signature

    @property
    def legacy_econtent_type(self) -> bool:
        """Whether the eContentType is one of the accepted pre-standard OIDs."""
        return self.econtent_type != ID_ICAO_LDS_SECURITY_OBJECT

    def signer_certificate(self, extra: Iterable[Any] = ()) -> Any | None:
        """The certificate the first SignerIdentifier names, or ``None``.

        Looked up in the embedded certificates, then in *extra* (DER bytes or
        asn1crypto certificates; see :meth:`epass.cms.SignedData.signer_certificate`).
        """
        return self.signed_data.signer_certificate(extra=extra)


def _security_object(econtent: bytes, offset: int) -> tuple[Any, dict[int, bytes]]:
    try:
        end = ber_walk(econtent, 0, len(econtent), file=FILE)
    except ParseError as exc:
        raise exc.within(FILE, offset) from exc
    if end != len(econtent):
        raise ParseError(
            f"{len(econtent) - end} bytes after the LDSSecurityObject",
            file=FILE,
            offset=offset + end,
        )
    lso = load_strict(LdsSecurityObject, econtent, file=FILE, offset=offset)
    version = lso["version"].native
    if version not in (0, 1):
        raise ParseError(
            f"LDSSecurityObject version {version} (9303-10 §4.6.2.2 defines v0 and v1)",
            file=FILE,
            offset=offset,
        )
    if lso["lds_version_info"].native is not None and version != 1:
        raise ParseError(
            "ldsVersionInfo present in a v0 LDSSecurityObject (must be v1)",
            file=FILE,
            offset=offset,
        )
    hashes: dict[int, bytes] = {}
    for item in lso["data_group_hash_values"]:
        number = item["data_group_number"].native
        if not 1 <= number <= 16:
            raise ParseError(f"data group number {number} (1 to 16)", file=FILE, offset=offset)
        if number in hashes:
            raise ParseError(f"DG{number} hashed twice", file=FILE, offset=offset)
        hashes[number] = bytes(item["data_group_hash_value"].native)
    if not hashes:
        raise ParseError("LDSSecurityObject lists no data group", file=FILE, offset=offset)
    return lso, hashes


def _content_info_span(data: bytes) -> tuple[int, int, int]:
    """Where the one element inside tag ``'77'`` starts and stops, and where tag ``'77'`` ends.

    For the indefinite form (``77 80``) the element is walked here to find its
    end-of-contents; for the definite form :func:`parse_signed_data` walks it.
    """
    _, start, length = ber_header(data, 0, len(data), file=FILE)
    if length is None:  # indefinite '77 80': the element, then end-of-contents
        if start >= len(data) or data[start : start + 2] == b"\x00\x00":
            raise ParseError("tag 77 is empty", file=FILE, offset=start)
        stop = ber_walk(data, start, len(data), file=FILE, depth=1)
        if data[stop : stop + 2] != b"\x00\x00":
            raise ParseError("tag 77 holds more than one element", file=FILE, offset=stop)
        return start, stop, stop + 2
    stop = start + length
    if start == stop:
        raise ParseError("tag 77 is empty", file=FILE, offset=start)
    return start, stop, stop


def parse(data: bytes) -> Sod:
    """Parse EF.SOD (9303-10 §4.6.2; RFC 5652 §5).

    :param data: the whole file, starting with tag ``'77'``.
    :raises ParseError: (``file="EF.SOD"``) if the bytes are not a SignedData
        over an LDSSecurityObject with an allowed eContentType, at least one
        SignerInfo, and well-formed signed attributes.
    """
    data = bytes(data)
    if not data:
        raise ParseError("empty file", file=FILE, offset=0)
    if data[0] != SOD_TAG:
        raise ParseError(f"expected tag 77, found {data[0]:02X}", file=FILE, offset=0)
    start, stop, end = _content_info_span(data)
    # The structural walk inside parse_signed_data comes before the trailing-bytes check, so
    # an element that overruns tag 77 is reported as such.
    signed = parse_signed_data(
        data[start:stop], file=FILE, offset=start, depth=1, container="tag 77"
    )
    if end != len(data):
        raise ParseError(f"{len(data) - end} trailing bytes after tag 77", file=FILE, offset=end)
    if signed.econtent_type not in ALLOWED_ECONTENT_TYPES:
        raise ParseError(
            f"eContentType {signed.econtent_type} is not an LDS security object "
            f"(9303-10 §4.6.2.2: {ID_ICAO_LDS_SECURITY_OBJECT})",
            file=FILE,
            offset=start,
        )
    lso, dg_hashes = _security_object(signed.econtent, signed.econtent_offset or start)

    info = lso["lds_version_info"]
    lds_version = None if isinstance(info, core.Void) else str(info["lds_version"].native)
    unicode_version = None if isinstance(info, core.Void) else str(info["unicode_version"].native)
    hash_alg = lso["hash_algorithm"]["algorithm"]
    return Sod(
        raw=data,
        signed_data=signed,
        version=int(lso["version"].native),
        hash_algorithm=str(hash_alg.native),
        hash_algorithm_oid=str(hash_alg.dotted),
        dg_hashes=MappingProxyType(dg_hashes),
        lds_version=lds_version,
        unicode_version=unicode_version,
    )
