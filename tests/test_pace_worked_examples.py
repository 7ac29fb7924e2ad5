"""PACE known-answer tests: the worked examples of ICAO Doc 9303-11 (8th ed.), Appendices G and H.

Every value below is quoted from the appendix named on the test. The APDUs of
G.1/G.2/H.1 are replayed through :func:`epass.access.pace.perform_pace` with a
ScriptedTransport that checks each command byte for byte, and an rng that
returns the example's private keys / nonce t. H.2's terminal key is a 1024-bit
exponent that the rng rule (L = byte length of q = 20) cannot produce, so H.2
runs through the pure functions.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from drivers.replay import ScriptedTransport
from epass.access import pace
from epass.access.pace_groups import standardized_group
from epass.channel import Channel
from epass.lds import security_infos as si
from epass.sm import SecureMessaging


def H(text: str) -> bytes:  # noqa: N802 - hex literal helper
    return bytes.fromhex("".join(text.split()))


def pace_info(oid: str, parameter_id: int | None) -> si.PaceInfo:
    raw = si.encode_security_infos([si.encode_pace_info(oid, parameter_id=parameter_id)])
    return si.parse_security_infos(raw, file="EF.CardAccess").pace_infos[0]


def scripted_rng(*values: bytes) -> Callable[[int], bytes]:
    queue = list(values)

    def rng(n: int) -> bytes:
        value = queue.pop(0)
        assert len(value) == n, f"asked for {n} bytes, the example gives {len(value)}"
        return value

    return rng


ECDH_GM_AES128 = "0.4.0.127.0.7.2.2.4.2.2"
DH_GM_AES128 = "0.4.0.127.0.7.2.2.4.1.2"
ECDH_IM_AES128 = "0.4.0.127.0.7.2.2.4.4.2"
DH_IM_AES128 = "0.4.0.127.0.7.2.2.4.3.2"

# --- Appendix G (generic mapping): MRZ password of the specimen -----------------------------

G_MRZ = "T22000129364081251010318"
G_K = H("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD")  # K = f(pi) = SHA-1(MRZ information)
G_K_PI = H("89DED1B26624EC1E634C1989302849DD")  # K_pi = KDF(K, 3), AES-128

G1 = {
    "z": H("95A3A016522EE98D01E76CB6B98B42C3"),
    "s": H("3F00C4D39D153F2B2A214A078D899B22"),
    "sk_map_ifd": H("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99"),
    "pk_map_ifd": H(
        "04 7ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
        "   544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D"
    ),
    "pk_map_ic": H(
        "04 824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
        "   30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"
    ),
    "h": H(
        "04 60332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5"
        "   0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181"
    ),
    "mapped_g": H(
        "04 8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2"
        "   8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522"
    ),
    "sk_ifd": H("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595"),
    "pk_ifd": H(
        "04 2DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
        "   3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462"
    ),
    "pk_ic": H(
        "04 9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
        "   7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"
    ),
    "k": H("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925"),
    "ks_enc": H("F5F0E35C0D7161EE6724EE513A0D9A7F"),
    "ks_mac": H("FE251C7858B356B24514B3BD5F4297D1"),
    "token_input_ifd": H(
        "7F494F 060A04007F00070202040202 8641"
        "04 9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
        "   7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"
    ),
    "t_ifd": H("C2B0BD78D94BA866"),
    "t_ic": H("3ABB9674BCE93C08"),
}


def g1_script(*, t_ic: bytes = G1["t_ic"], last: str | None = None) -> list[tuple[str, str]]:
    """The APDUs of Appendix G.1 (MSE:Set AT with 84 0D: PACEInfo names parameterId 13)."""
    return [
        ("0022C1A4 12 800A04007F00070202040202 830101 84010D", "9000"),
        ("10860000 02 7C00 00", "7C12 8010" + G1["z"].hex() + "9000"),
        (
            "10860000 45 7C43 8141" + G1["pk_map_ifd"].hex() + "00",
            "7C43 8241" + G1["pk_map_ic"].hex() + "9000",
        ),
        (
            "10860000 45 7C43 8341" + G1["pk_ifd"].hex() + "00",
            "7C43 8441" + G1["pk_ic"].hex() + "9000",
        ),
        (
            "00860000 0C 7C0A 8508" + G1["t_ifd"].hex() + "00",
            last or ("7C0A 8608" + t_ic.hex() + "9000"),
        ),
    ]


def test_g_password_key() -> None:
    """App. G: K = SHA-1(MRZ information) and K_pi = KDF(K, 3) (§4.4.1, §9.7.3)."""
    password = pace.Password.mrz(G_MRZ)
    assert password.reference is pace.PasswordReference.MRZ
    assert password.key == G_K
    assert pace.password_key(password, pace.PaceAlgorithm.from_oid(ECDH_GM_AES128)) == G_K_PI
    assert "T22000129" not in repr(password)


def test_g1_pure_steps() -> None:
    """App. G.1 (ECDH GM, brainpoolP256r1, AES-128), each intermediate value (§4.4.3.3.1)."""
    alg = pace.PaceAlgorithm.from_oid(ECDH_GM_AES128)
    group = standardized_group(13)
    assert group.name == "brainpoolP256r1"
    s = pace.decrypt_nonce(G_K_PI, G1["z"], alg)
    assert s == G1["s"]
    assert pace.encrypt_nonce(G_K_PI, s, alg) == G1["z"]  # the chip's side
    sk_map = int.from_bytes(G1["sk_map_ifd"], "big")
    assert group.encode(group.multiply(sk_map)) == G1["pk_map_ifd"]
    pk_map_ic = group.decode(G1["pk_map_ic"])
    assert group.encode(group.multiply(sk_map, pk_map_ic)) == G1["h"]
    mapped = pace.map_generic(group, s, sk_map, pk_map_ic)
    assert group.encode(mapped) == G1["mapped_g"]
    sk = int.from_bytes(G1["sk_ifd"], "big")
    assert group.encode(group.multiply(sk, mapped)) == G1["pk_ifd"]
    shared = pace.key_agreement(group, sk, group.decode(G1["pk_ic"]))
    assert shared == G1["k"]
    assert pace.session_keys(shared, alg) == (G1["ks_enc"], G1["ks_mac"])
    assert pace.authentication_token_input(alg, group, G1["pk_ic"]) == G1["token_input_ifd"]
    assert pace.authentication_token(G1["ks_mac"], alg, group, G1["pk_ic"]) == G1["t_ifd"]
    assert pace.authentication_token(G1["ks_mac"], alg, group, G1["pk_ifd"]) == G1["t_ic"]


def test_g1_perform_pace() -> None:
    """App. G.1 driven through perform_pace: every APDU, the session keys, SSC 0 (§9.8.2)."""
    transport = ScriptedTransport(g1_script())
    channel = Channel(transport)
    result = pace.perform_pace(
        channel,
        pace.Password.mrz(G_MRZ),
        pace_info(ECDH_GM_AES128, 13),
        rng=scripted_rng(G1["sk_map_ifd"], G1["sk_ifd"]),
    )
    assert transport.done
    assert isinstance(result.sm, SecureMessaging)
    assert channel.sm is result.sm
    assert (result.sm.ks_enc, result.sm.ks_mac, result.sm.ssc) == (G1["ks_enc"], G1["ks_mac"], 0)
    assert result.mapping is pace.Mapping.GM
    assert (result.group_name, result.key_agreement, result.parameter_id) == (
        "brainpoolP256r1",
        "ECDH",
        13,
    )
    assert (result.cipher, result.key_length) == ("AES", 128)
    assert result.password_reference is pace.PasswordReference.MRZ
    assert result.cam is None


G2 = {
    "z": H("854D8DF5827FA6852D1A4FA701CDDDCA"),
    "s": H("FA5B7E3E49753A0DB9178B7B9BD898C8"),
    "sk_map_ifd": H("5265030F751F4AD18B08AC565FC7AC952E41618D"),
    "pk_map_ifd": H(
        "23FB3749EA030D2A25B278D2A562047ADE3F01B74F17A15402CB7352CA7D2B3E"
        "B71C343DB13D1DEBCE9A3666DBCFC920B49174A602CB47965CAA73DC702489A4"
        "4D41DB914DE9613DC5E98C94160551C0DF86274B9359BC0490D01B03AD54022D"
        "CB4F57FAD6322497D7A1E28D46710F461AFE710FBBBC5F8BA166F4311975EC6C"
    ),
    "pk_map_ic": H(
        "78879F57225AA8080D52ED0FC890A4B25336F699AA89A2D3A189654AF70729E6"
        "23EA5738B26381E4DA19E004706FACE7B235C2DBF2F38748312F3C98C2DD4882"
        "A41947B324AA1259AC22579DB93F7085655AF30889DBB845D9E6783FE42C9F24"
        "49400306254C8AE8EE9DD812A804C0B66E8CAFC14F84D8258950A91B44126EE6"
    ),
    "mapped_g": H(
        "7C9CBFE98F9FBDDA8D143506FA7D9306F4CB17E3C71707AFF5E1C1A123702496"
        "84D64EE37AF44B8DBD9D45BF6023919CBAA027AB97ACC771666C8E98FF483301"
        "BFA4872DEDE9034EDFACB70814166B7F360676829B826BEA57291B5AD69FBC84"
        "EF1E779032A305803F74341793E869742D401325B37EE8565FFCDEE618342DC5"
    ),
    "sk_ifd": H("89CCD99B0E8D3B1F11E1296DCA68EC53411CF2CA"),
    "pk_ifd": H(
        "907D89E2D425A178AA81AF4A7774EC8E388C115CAE67031E85EECE520BD91155"
        "1B9AE4D04369F29A02626C86FBC6747CC7BC352645B6161A2A42D44EDA80A08F"
        "A8D61B76D3A154AD8A5A51786B0BC07147057871A922212C5F67F43173172236"
        "B7747D1671E6D692A3C7D40A0C3C5CE397545D015C175EB5130551EDBC2EE5D4"
    ),
    "pk_ic": H(
        "075693D9AE941877573E634B6E644F8E60AF17A0076B8B123D9201074D36152B"
        "D8B3A213F53820C42ADC79AB5D0AEEC3AEFB91394DA476BD97B9B14D0A65C1FC"
        "71A0E019CB08AF55E1F729005FBA7E3FA5DC41899238A250767A6D46DB974064"
        "386CD456743585F8E5D90CC8B4004B1F6D866C79CE0584E49687FF61BC29AEA1"
    ),
    "k": H(
        "6BABC7B3A72BCD7EA385E4C62DB2625BD8613B24149E146A629311C4CA6698E3"
        "8B834B6A9E9CD7184BA8834AFF5043D436950C4C1E7832367C10CB8C314D40E5"
        "990B0DF7013E64B4549E2270923D06F08CFF6BD3E977DDE6ABE4C31D55C0FA2E"
        "465E553E77BDF75E3193D3834FC26E8EB1EE2FA1E4FC97C18C3F6CFFFE2607FD"
    ),
    "ks_enc": H("2F7F46ADCC9E7E521B45D192FAFA9126"),
    "ks_mac": H("805A1D27D45A5116F73C54469462B7D8"),
    "t_ifd": H("B46DD9BD4D98381F"),
    "t_ic": H("917F37B5C0E6D8D1"),
}


def test_g2_pure_steps() -> None:
    """App. G.2 (DH GM, 1024-bit MODP group id 0, AES-128), each value (§4.4.3.3.1 DH)."""
    alg = pace.PaceAlgorithm.from_oid(DH_GM_AES128)
    group = standardized_group(0)
    assert group.kind == "DH" and group.order_size == 20
    s = pace.decrypt_nonce(G_K_PI, G2["z"], alg)
    assert s == G2["s"]
    sk_map = int.from_bytes(G2["sk_map_ifd"], "big")
    assert group.encode(group.multiply(sk_map)) == G2["pk_map_ifd"]
    mapped = pace.map_generic(group, s, sk_map, group.decode(G2["pk_map_ic"]))
    assert group.encode(mapped) == G2["mapped_g"]
    sk = int.from_bytes(G2["sk_ifd"], "big")
    assert group.encode(group.multiply(sk, mapped)) == G2["pk_ifd"]
    shared = pace.key_agreement(group, sk, group.decode(G2["pk_ic"]))
    assert shared == G2["k"]
    assert pace.session_keys(shared, alg) == (G2["ks_enc"], G2["ks_mac"])
    assert pace.authentication_token(G2["ks_mac"], alg, group, G2["pk_ic"]) == G2["t_ifd"]
    assert pace.authentication_token(G2["ks_mac"], alg, group, G2["pk_ifd"]) == G2["t_ic"]


def _dh_ga(tag: str, value: bytes) -> str:
    # 7C 81 83 {tag 81 80 <128 bytes>}: 131 bytes of dynamic authentication data
    return "7C8183" + tag + "8180" + value.hex()


def test_g2_perform_pace() -> None:
    """App. G.2 driven through perform_pace (DH public values of 128 bytes in tags 81-84)."""
    script = [
        ("0022C1A4 12 800A04007F00070202040102 830101 840100", "9000"),
        ("10860000 02 7C00 00", "7C12 8010" + G2["z"].hex() + "9000"),
        (
            "10860000 86" + _dh_ga("81", G2["pk_map_ifd"]) + "00",
            _dh_ga("82", G2["pk_map_ic"]) + "9000",
        ),
        ("10860000 86" + _dh_ga("83", G2["pk_ifd"]) + "00", _dh_ga("84", G2["pk_ic"]) + "9000"),
        (
            "00860000 0C 7C0A 8508" + G2["t_ifd"].hex() + "00",
            "7C0A 8608" + G2["t_ic"].hex() + "9000",
        ),
    ]
    transport = ScriptedTransport(script)
    result = pace.perform_pace(
        Channel(transport),
        pace.Password.mrz(G_MRZ),
        pace_info(DH_GM_AES128, 0),
        rng=scripted_rng(G2["sk_map_ifd"], G2["sk_ifd"]),
    )
    assert transport.done
    assert (result.sm.ks_enc, result.sm.ks_mac) == (G2["ks_enc"], G2["ks_mac"])
    assert (result.key_agreement, result.parameter_id) == ("DH", 0)
    assert result.group_name == "1024-bit MODP Group with 160-bit Prime Order Subgroup"


# --- Appendix H (integrated mapping): CAN password "123456" ---------------------------------

H_CAN = "123456"
H_K_PI = H("591468CDA83D65219CCCB8560233600F")

H1 = {
    "z": H("143DC40C08C8E891FBED7DEDB92B64AD"),
    "s": H("2923BE84E16CD6AE529049F1F1BBE9EB"),
    "t": H("5DD4CBFC96F5453B130D890A1CDBAE32"),
    "r": H(
        "E4447E2DFB3586BAC05DDB00156B57FBB2179A3949294C97254189800C517BAA"
        "8DA0FF397ED8C445D3E421E4FEB57322"
    ),
    "r_p": H("A2F8FF2DF50E52C6599F386ADCB595D229F6A167ADE2BE5F2C3296ADD5B7430E"),
    "mapped_g": H(
        "04 8E82D31559ED0FDE92A4D0498ADD3C23BABA94FB77691E31E90AEA77FB17D427"
        "   4C1AE14BD0C3DBAC0C871B7F3608169364437CA30AC243A089D3F266C1E60FAD"
    ),
    "sk_ifd": H("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595"),
    "pk_ifd": H(
        "04 89CBA23FFE96AA18D824627C3E934E54A9FD0B87A95D1471DC1C0ABFDCD640D4"
        "   6755DE9B7B778280B6BEBD57439ADFEB0E21FD4ED6DF42578C13418A59B34C37"
    ),
    "pk_ic": H(
        "04 67F78E5F7F7686082B293E8D087E056916D0F74BC01A5F8957D0DE45691E51E8"
        "   932B69A962B52A0985AD2C0A271EE6A13A8ADDDCD1A3A994B9DED257F4D22753"
    ),
    "k": H("4F150FDE1D4F0E38E95017B891BAE17133A0DF45B0D3E18B60BA7BEAFDC2C713"),
    "ks_enc": H("0D3FEB33251A6370893D62AE8DAAF51B"),
    "ks_mac": H("B01E89E3D9E8719E586B50B4A7506E0B"),
    "t_ifd": H("450F02B86F6A0909"),
    "t_ic": H("75D4D96E8D5B0308"),
}


def test_h_password_key() -> None:
    """App. H: the CAN "123456" as password, K_pi = KDF("123456", 3) (§4.4.1)."""
    password = pace.Password.can(H_CAN)
    assert password.reference is pace.PasswordReference.CAN
    assert pace.password_key(password, pace.PaceAlgorithm.from_oid(ECDH_IM_AES128)) == H_K_PI
    assert "123456" not in repr(password)


def test_h1_pure_steps() -> None:
    """App. H.1 (ECDH IM, brainpoolP256r1, AES-128): R_p(s,t), the point encoding (App. B)."""
    alg = pace.PaceAlgorithm.from_oid(ECDH_IM_AES128)
    group = standardized_group(13)
    s = pace.decrypt_nonce(H_K_PI, H1["z"], alg)
    assert s == H1["s"]
    r_p = pace.pseudo_random(s, H1["t"], alg, group.prime)
    assert r_p == int.from_bytes(H1["r"], "big") % group.prime == int.from_bytes(H1["r_p"], "big")
    mapped = pace.map_integrated(group, s, H1["t"], alg)
    assert group.encode(mapped) == H1["mapped_g"]
    sk = int.from_bytes(H1["sk_ifd"], "big")
    assert group.encode(group.multiply(sk, mapped)) == H1["pk_ifd"]
    shared = pace.key_agreement(group, sk, group.decode(H1["pk_ic"]))
    assert shared == H1["k"]
    assert pace.session_keys(shared, alg) == (H1["ks_enc"], H1["ks_mac"])
    assert pace.authentication_token(H1["ks_mac"], alg, group, H1["pk_ic"]) == H1["t_ifd"]
    assert pace.authentication_token(H1["ks_mac"], alg, group, H1["pk_ifd"]) == H1["t_ic"]


@pytest.mark.parametrize("ga2_response", ["7C00", "7C028200"])
def test_h1_perform_pace(ga2_response: str) -> None:
    """App. H.1 through perform_pace: GA 2 sends the nonce t in tag 81, the chip maps alone."""
    script = [
        ("0022C1A4 12 800A04007F00070202040402 830102 84010D", "9000"),
        ("10860000 02 7C00 00", "7C12 8010" + H1["z"].hex() + "9000"),
        ("10860000 14 7C12 8110" + H1["t"].hex() + "00", ga2_response + "9000"),
        (
            "10860000 45 7C43 8341" + H1["pk_ifd"].hex() + "00",
            "7C43 8441" + H1["pk_ic"].hex() + "9000",
        ),
        (
            "00860000 0C 7C0A 8508" + H1["t_ifd"].hex() + "00",
            "7C0A 8608" + H1["t_ic"].hex() + "9000",
        ),
    ]
    transport = ScriptedTransport(script)
    result = pace.perform_pace(
        Channel(transport),
        pace.Password.can(H_CAN),
        pace_info(ECDH_IM_AES128, 13),
        rng=scripted_rng(H1["t"], H1["sk_ifd"]),
    )
    assert transport.done
    assert result.mapping is pace.Mapping.IM
    assert (result.sm.ks_enc, result.sm.ks_mac) == (H1["ks_enc"], H1["ks_mac"])
    assert result.password_reference is pace.PasswordReference.CAN


H2 = {
    "z": H("9ABB8864CA0FF1551E620D1EF4E13510"),
    "s": H("FA5B7E3E49753A0DB9178B7B9BD898C8"),
    "t": H("B3A6DB3C870C3E99245E0D1C06B747DE"),
    "r": H(
        "EAB98D13E09052952AA729907C3C946184DEA0FE74AD2B3AF506F0A83018459C"
        "38099CD1F7FF4EA0A078DB1FAC1365505E3DC85500EF95E20B4EEF2E88489233"
        "BEE0546B472F994B618D168702406791DEEF3CB4810932EC278F3533FDB860EB"
        "4835C36FA4F1BF3FA0B828A718C96BDE88FBA38A3E6C35AAA10959251EB5FC71"
        "0FC187258995944C0F926E249373F485"
    ),
    "r_p": H(
        "A0C7C50C002061A51CC87D254EF38068607417B6EE1B36473CFB800D2D2E5FA2"
        "B6980F01105D24FAB22ACD1BFA5C8A4C093ECDFAFE6D7125D42A843E33860383"
        "5CF19AFAFF75EFE21DC5F6AA1F9AE46C25087E7368166FB08C1E4627AFED7D93"
        "570417B790FF7F747E57F432B04E1236819E0DFEF5B6E77CA4999925328182D2"
    ),
    "mapped_g": H(
        "1D7D767F11E333BCD6DBAEF40E799E7A926B96973550656FF3C830726D118D61"
        "C276CDCC61D475CF03A98E0C0E79CAEBA5BE25578BD4551D0B10903236F0B0F9"
        "76852FA78EEA14EA0ACA87D1E91F688FE0DFF897BBE35A472621D343564B262F"
        "34223AE8FC59B664BFEDFA2BFE7516CA5510A6BBB633D517EC25D4E0BBAA16C2"
    ),
    "sk_ifd": H(
        "4BD0E54740F9A028E6A515BFDAF967848C4F5F5FFF65AA0915947FFD1A0DF2FA"
        "6981271BC905F3551457B7E03AC3B8066DE4AA406C1171FB43DD939C4BA16175"
        "103BA3DEE16419AA248118F90CC36A3D6F4C373652E0C3CCE7F0F1D0C5425B36"
        "00F0F0D6A67F004C8BBA33F2B4733C7252445C1DFC4F1107203F71D2EFB28161"
    ),
    "pk_ifd": H(
        "0F0CC62945A8029251FB7EF3C094E12EC68E4EF07F27CB9D9CD04C5C4250FAE0"
        "E4F8A951557E929AEB48E5C6DD47F2F5CD7C351A9BD2CD722C07EDE166770F08"
        "FFCB370262CF308DD7B07F2E0DA9CAAA1492344C852906919538C98A4BA4187E"
        "76CE9D87832386D319CE2E043C3343AEAE6EDBA1A9894DC5094D22F7FE1351D5"
    ),
    "pk_ic": H(
        "928D9A0F9DBA450F13FC859C6F290D1D36E42431138A4378500BEB4E0401854C"
        "FF111F71CB6DC1D0335807A11388CC8EAA87B07907AAD9FBA6B169AF6D8C26AF"
        "8DDDC39ADC3AD2E3FF882B84D23E9768E95A80E4746FB07A9767679FE92133B4"
        "D379935C771BD7FBED6C7BB4B1708B275EA75679524CDC9C6A91370CC662A2F3"
    ),
    "ks_enc": H("01AFC10CF87BE36D8179E87370171F07"),
    "ks_mac": H("23F0FBD05FD6C7B8B88F4C8309669061"),
    "t_ifd": H("55D61977CBF5307E"),
    "t_ic": H("C2F04230187E1525"),
}


def test_h2_pure_steps() -> None:
    """App. H.2 (DH IM, 1024-bit MODP group, AES-128) through the pure functions.

    The terminal's private key of H.2 is a 1024-bit exponent: the rng rule
    (L = 20 bytes, the length of q) cannot produce it, so perform_pace is not used.
    """
    alg = pace.PaceAlgorithm.from_oid(DH_IM_AES128)
    group = standardized_group(0)
    s = pace.decrypt_nonce(H_K_PI, H2["z"], alg)
    assert s == H2["s"]
    r_p = pace.pseudo_random(s, H2["t"], alg, group.prime)
    assert r_p == int.from_bytes(H2["r"], "big") % group.prime == int.from_bytes(H2["r_p"], "big")
    mapped = pace.map_integrated(group, s, H2["t"], alg)
    assert group.encode(mapped) == H2["mapped_g"]
    sk = int.from_bytes(H2["sk_ifd"], "big")
    assert group.encode(group.multiply(sk, mapped)) == H2["pk_ifd"]
    shared = pace.key_agreement(group, sk, group.decode(H2["pk_ic"]))
    assert pace.session_keys(shared, alg) == (H2["ks_enc"], H2["ks_mac"])
    assert pace.authentication_token(H2["ks_mac"], alg, group, H2["pk_ic"]) == H2["t_ifd"]
    assert pace.authentication_token(H2["ks_mac"], alg, group, H2["pk_ifd"]) == H2["t_ic"]
