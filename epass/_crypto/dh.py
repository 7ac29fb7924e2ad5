"""Finite-field Diffie-Hellman groups for PACE (ICAO Doc 9303-11 §4.4, §9.5.1; RFC 5114 §2).

A :class:`DhGroup` is a prime p, a generator g of a subgroup of prime order q,
and q. PACE needs what ``cryptography``'s DH does not offer: exponentiation
with an arbitrary (mapped) generator and the subgroup check of a peer's public
value, so the arithmetic is Python's ``pow`` (three-argument modular
exponentiation); there is nothing else to it.

Public values are checked before use (BSI TR-03111 §3.2.3, NIST SP 800-56A
§5.6.2.3.1 full public-key validation): 1 < y < p - 1 and y^q ≡ 1 (mod p).
A bad value raises :class:`~epass.errors.InvalidPointError` (the error every
invalid public group element raises in :mod:`epass._crypto`).

Side channels: ``pow`` is not constant-time; an inspection system's ephemeral
exponents live for one session, which is the accepted risk (as for EC in
:mod:`epass._crypto.ec`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from epass.errors import InvalidPointError, UnsupportedAlgorithmError

__all__ = ["RFC5114_GROUPS", "DhGroup"]


@dataclass(frozen=True)
class DhGroup:
    """A prime-order subgroup of GF(p)*: generator g of prime order q.

    :ivar name: a readable name (``"1024-bit MODP Group with 160-bit Prime Order Subgroup"``).
    """

    p: int
    g: int
    q: int
    name: str | None = None

    def problem(self) -> str | None:
        """Why these are not usable parameters, or ``None``.

        Cheap checks only: p odd and > 3, 1 < g < p - 1, q > 1 divides p - 1,
        g^q ≡ 1 (mod p). Primality of p and q is not tested here (the
        standardized groups are tested once in the test suite).
        """
        p, g, q = self.p, self.g, self.q
        if p <= 3 or p % 2 == 0:
            return "the prime p is not an odd number greater than 3"
        if not 1 < g < p - 1:
            return "the generator g is out of range"
        if q <= 1 or (p - 1) % q:
            return "the order q does not divide p - 1"
        if pow(g, q, p) != 1:
            return "g does not generate a subgroup of order q"
        return None

    def check(self) -> DhGroup:
        """Return self after :meth:`problem`; :raises UnsupportedAlgorithmError: if unusable."""
        problem = self.problem()
        if problem is not None:
            raise UnsupportedAlgorithmError(f"unusable DH domain parameters: {problem}")
        return self

    @property
    def element_size(self) -> int:
        """Bytes of a group element (the length of p), the public value encoding length."""
        return (self.p.bit_length() + 7) // 8

    @property
    def order_size(self) -> int:
        """Bytes of an exponent modulo q."""
        return (self.q.bit_length() + 7) // 8

    def validate(self, y: int) -> int:
        """Return *y* after full public-value validation: 1 < y < p - 1 and y^q ≡ 1 (mod p).

        :raises InvalidPointError: when *y* fails a check.
        """
        if not 1 < y < self.p - 1:
            raise InvalidPointError("the DH public value is not in [2, p-2]")
        if pow(y, self.q, self.p) != 1:
            raise InvalidPointError("the DH public value is not in the subgroup of order q")
        return y

    def decode(self, data: bytes) -> int:
        """Decode a big-endian public value (at most :attr:`element_size` bytes) and validate it.

        :raises InvalidPointError: for an empty or too long encoding, or a value
            that fails :meth:`validate`.
        """
        if not data or len(data) > self.element_size:
            raise InvalidPointError(
                f"a DH public value of {len(data)} bytes (expected 1..{self.element_size})"
            )
        return self.validate(int.from_bytes(data, "big"))

    def encode(self, y: int) -> bytes:
        """The public value as :attr:`element_size` big-endian bytes."""
        return y.to_bytes(self.element_size, "big")

    def power(self, exponent: int, base: int | None = None) -> int:
        """base^exponent mod p (g^exponent when *base* is omitted).

        :raises InvalidPointError: when the result is 1 (an exponent that is 0
            modulo q, or a base of small order).
        """
        result = pow(self.g if base is None else base, exponent, self.p)
        if result == 1:
            raise InvalidPointError("the DH result is the identity (1)")
        return result

    def multiply(self, a: int, b: int) -> int:
        """a · b mod p.

        :raises InvalidPointError: when the product is 1.
        """
        result = a * b % self.p
        if result == 1:
            raise InvalidPointError("the DH product is the identity (1)")
        return result

    def shared_secret(self, exponent: int, peer: int) -> bytes:
        """peer^exponent mod p as :attr:`element_size` bytes (9303-11 §9.6, TR-03111 §4.3.2)."""
        return self.encode(self.power(exponent, peer))


def _hex(text: str) -> int:
    return int("".join(text.split()), 16)


#: RFC 5114 §2.1-2.3 groups, by PACE standardized domain parameter id 0, 1, 2 (9303-11 §9.5.1).
RFC5114_GROUPS = MappingProxyType(
    {
        0: DhGroup(
            p=_hex(
                "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B61"
                "6073E28675A23D189838EF1E2EE652C013ECB4AEA906112324975C3CD49B83BF"
                "ACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738FAA31A4FF55BCCC0"
                "A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371"
            ),
            g=_hex(
                "A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31"
                "266FEA1E5C41564B777E690F5504F213160217B4B01B886A5E91547F9E2749F4"
                "D7FBD7D3B9A92EE1909D0D2263F80A76A6A24C087A091F531DBF0A0169B6A28A"
                "D662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24855E6EEB22B3B2E5"
            ),
            q=_hex("F518AA8781A8DF278ABA4E7D64B7CB9D49462353"),
            name="1024-bit MODP Group with 160-bit Prime Order Subgroup",
        ),
        1: DhGroup(
            p=_hex(
                "AD107E1E9123A9D0D660FAA79559C51FA20D64E5683B9FD1B54B1597B61D0A75"
                "E6FA141DF95A56DBAF9A3C407BA1DF15EB3D688A309C180E1DE6B85A1274A0A6"
                "6D3F8152AD6AC2129037C9EDEFDA4DF8D91E8FEF55B7394B7AD5B7D0B6C12207"
                "C9F98D11ED34DBF6C6BA0B2C8BBC27BE6A00E0A0B9C49708B3BF8A3170918836"
                "81286130BC8985DB1602E714415D9330278273C7DE31EFDC7310F7121FD5A074"
                "15987D9ADC0A486DCDF93ACC44328387315D75E198C641A480CD86A1B9E587E8"
                "BE60E69CC928B2B9C52172E413042E9B23F10B0E16E79763C9B53DCF4BA80A29"
                "E3FB73C16B8E75B97EF363E2FFA31F71CF9DE5384E71B81C0AC4DFFE0C10E64F"
            ),
            g=_hex(
                "AC4032EF4F2D9AE39DF30B5C8FFDAC506CDEBE7B89998CAF74866A08CFE4FFE3"
                "A6824A4E10B9A6F0DD921F01A70C4AFAAB739D7700C29F52C57DB17C620A8652"
                "BE5E9001A8D66AD7C17669101999024AF4D027275AC1348BB8A762D0521BC98A"
                "E247150422EA1ED409939D54DA7460CDB5F6C6B250717CBEF180EB34118E98D1"
                "19529A45D6F834566E3025E316A330EFBB77A86F0C1AB15B051AE3D428C8F8AC"
                "B70A8137150B8EEB10E183EDD19963DDD9E263E4770589EF6AA21E7F5F2FF381"
                "B539CCE3409D13CD566AFBB48D6C019181E1BCFE94B30269EDFE72FE9B6AA4BD"
                "7B5A0F1C71CFFF4C19C418E1F6EC017981BC087F2A7065B384B890D3191F2BFA"
            ),
            q=_hex("801C0D34C58D93FE997177101F80535A4738CEBCBF389A99B36371EB"),
            name="2048-bit MODP Group with 224-bit Prime Order Subgroup",
        ),
        2: DhGroup(
            p=_hex(
                "87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00"
                "E00DF8F1D61957D4FAF7DF4561B2AA3016C3D91134096FAA3BF4296D830E9A7C"
                "209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C022E0B1EF4275BF7B"
                "6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76"
                "B63ACAE1CAA6B7902D52526735488A0EF13C6D9A51BFA4AB3AD8347796524D8E"
                "F6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026"
                "C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375D7014103"
                "A4B54330C198AF126116D2276E11715F693877FAD7EF09CADB094AE91E1A1597"
            ),
            g=_hex(
                "3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA125"
                "10DBC15077BE463FFF4FED4AAC0BB555BE3A6C1B0C6B47B1BC3773BF7E8C6F62"
                "901228F8C28CBB18A55AE31341000A650196F931C77A57F2DDF463E5E9EC144B"
                "777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC831D14348F6F2F9193"
                "B5045AF2767164E1DFC967C1FB3F2E55A4BD1BFFE83B9C80D052B985D182EA0A"
                "DB2A3B7313D3FE14C8484B1E052588B9B7D2BBD2DF016199ECD06E1557CD0915"
                "B3353BBB64E0EC377FD028370DF92B52C7891428CDC67EB6184B523D1DB246C3"
                "2F63078490F00EF8D647D148D47954515E2327CFEF98C582664B4C0F6CC41659"
            ),
            q=_hex("8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3"),
            name="2048-bit MODP Group with 256-bit Prime Order Subgroup",
        ),
    }
)
