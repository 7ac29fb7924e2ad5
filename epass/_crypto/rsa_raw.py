"""The RSA public operation s^e mod n, for signatures giving message recovery.

Active Authentication with RSA (ICAO Doc 9303-11 §6.1) uses ISO/IEC 9796-2
digital signature scheme 1: the verifier *recovers* the signed representative
F from the signature and reads the message part M1 and the digest out of it.
``cryptography`` offers RSA only with PKCS #1 v1.5, PSS and OAEP encodings and
no raw public operation, so the recovery step is Python's three-argument
``pow`` on the public numbers (n, e) - arithmetic, not an encoding. The
ISO/IEC 9796-2 parsing lives with the protocol (:mod:`epass.access.aa`).

Keys are checked before use (:meth:`RsaPublicNumbers.problem`): an odd
modulus of at least :data:`MIN_MODULUS_BITS` bits (and at most
:data:`MAX_MODULUS_BITS`), an odd public exponent 3 <= e < n. An exponent of
1 would make every value its own signature; an even exponent is not an RSA
key. A signature is accepted only with exactly the modulus' byte length and
a value below n (nothing is padded or reduced).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from epass.errors import BUILTIN_PARSE_ERRORS, InvalidSignatureError, UnsupportedAlgorithmError

__all__ = ["MAX_MODULUS_BITS", "MIN_MODULUS_BITS", "RsaPublicNumbers"]

#: Smallest modulus accepted: below this an RSA key is factorable on a desktop.
MIN_MODULUS_BITS = 512
#: Largest modulus accepted: far above the 4096 bits found in the field; bounds the work.
MAX_MODULUS_BITS = 8192


@dataclass(frozen=True)
class RsaPublicNumbers:
    """An RSA public key (n, e).

    :ivar n: the modulus; :ivar e: the public exponent.
    :ivar problems: deviations met while reading the key that did not stop it
        (a modulus encoded as a negative INTEGER, read as unsigned).
    """

    n: int
    e: int
    problems: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_public_key_info(cls, public_key_info: Any) -> RsaPublicNumbers:
        """The numbers of an asn1crypto ``keys.PublicKeyInfo`` holding an RSA key.

        :raises UnsupportedAlgorithmError: when the key is not RSA or its
            RSAPublicKey does not decode.
        """
        try:
            algorithm = public_key_info["algorithm"]["algorithm"].native
            if algorithm not in ("rsa", "rsassa_pss"):
                raise UnsupportedAlgorithmError(f"{algorithm} is not an RSA key")
            parsed = public_key_info["public_key"].parsed
            modulus = parsed["modulus"]
            problems: tuple[str, ...] = ()
            if int(modulus.native) < 0:
                # Seen in the BSI TR-03105 2008 reference DG15: a 1024-bit modulus whose
                # INTEGER lacks the leading 00, so DER reads it as negative. The issuer
                # meant the unsigned value (a negative modulus is no RSA key).
                problems = (
                    "the modulus is encoded as a negative INTEGER (leading 00 missing); "
                    "read as unsigned",
                )
            n = int.from_bytes(bytes(modulus.contents), "big")
            return cls(n, int(parsed["public_exponent"].native), problems)
        except UnsupportedAlgorithmError:
            raise
        except BUILTIN_PARSE_ERRORS as exc:
            raise UnsupportedAlgorithmError(f"unusable RSA public key: {exc}") from exc

    @property
    def bits(self) -> int:
        """The modulus length k in bits (exact: 1022 for a 1022-bit modulus)."""
        return self.n.bit_length()

    @property
    def size(self) -> int:
        """Bytes of the modulus, which is the length of every signature under this key."""
        return (self.bits + 7) // 8

    def problem(self) -> str | None:
        """Why this is not a usable RSA verification key, or ``None``."""
        if self.n <= 0 or self.n % 2 == 0:
            return "the modulus is not an odd positive number"
        if self.bits < MIN_MODULUS_BITS:
            return f"the modulus has {self.bits} bits (at least {MIN_MODULUS_BITS} are required)"
        if self.bits > MAX_MODULUS_BITS:
            return f"the modulus has {self.bits} bits (at most {MAX_MODULUS_BITS} are accepted)"
        if self.e == 1:
            return "the public exponent is 1 (every value would be its own signature)"
        if self.e < 3 or self.e % 2 == 0 or self.e >= self.n:
            return f"the public exponent {self.e} is not an odd number in [3, n-1]"
        return None

    def check(self) -> RsaPublicNumbers:
        """Return self after :meth:`problem`.

        :raises UnsupportedAlgorithmError: naming the problem.
        """
        problem = self.problem()
        if problem is not None:
            raise UnsupportedAlgorithmError(f"unusable RSA key: {problem}")
        return self

    def public_operation(self, signature: bytes) -> int:
        """J = s^e mod n for a signature s of exactly :attr:`size` bytes.

        :raises InvalidSignatureError: for another length or a value >= n.
        :raises UnsupportedAlgorithmError: for an unusable key (see :meth:`problem`).
        """
        self.check()
        if len(signature) != self.size:
            raise InvalidSignatureError(
                f"an RSA signature under a {self.bits}-bit key has {self.size} bytes, "
                f"got {len(signature)}"
            )
        s = int.from_bytes(signature, "big")
        if s >= self.n:
            raise InvalidSignatureError("the signature value is not below the modulus")
        return pow(s, self.e, self.n)
